"""Small local servers that fail as the world does, and the real ``uabot run`` process.

Each server is an async context manager yielding the ``base_url`` to put in
``telegram.base_url``; :class:`Uabot` starts ``python -m bot run`` and reads its output.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from conftest import TOKEN, storage_toml

UNAUTHORIZED = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/bot"


def refused_port() -> int:
    """A port where nothing listens (bound, read, released: nothing else takes it that fast)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def answering(
    status: int, body: str, content_type: str = "application/json"
) -> AsyncIterator[str]:
    """Every request gets ``status`` and ``body``; ``{path}`` in the body becomes the request's
    path, as error pages that quote the URL do (and so the token)."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            status=status,
            text=body.replace("{path}", request.path),
            content_type=content_type,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield base_url(int(runner.addresses[0][1]))
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def silent() -> AsyncIterator[str]:
    """Accepts every connection, reads what comes, never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        yield base_url(port)
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def forwarding(url: str) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A TCP forwarder to ``url``'s host and port: the ``base_url`` through it, and an event
    that, set, cuts the route (open connections closed, new ones refused): a host that can no
    longer reach Telegram while everything else works."""
    target = urlsplit(url)
    assert target.hostname is not None and target.port is not None
    cut = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if cut.is_set():
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        writers.append(up_writer)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cutting() -> None:
        await cut.wait()
        for writer in writers:
            writer.close()

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    watch = asyncio.create_task(cutting())
    try:
        yield url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{port}"), cut
    finally:
        watch.cancel()
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


def write_config(
    folder: Path, url: str, *, token: str | None = TOKEN, extra: str = "", db: Path | None = None
) -> Path:
    """A config for ``uabot run`` against ``url``; ``token=None`` leaves it to UABOT_TOKEN."""
    path = folder / "config.toml"
    token_line = f'token = "{token}"\n' if token is not None else ""
    path.write_text(
        f'[telegram]\n{token_line}base_url = "{url}"\n{extra}\n'
        + storage_toml(db or folder / "bot.sqlite3"),
        encoding="utf-8",
    )
    return path


# What a clean run of ``uabot`` never prints (tracebacks, asyncio's complaints at exit).
UNCLEAN = (
    "Traceback",
    "Unclosed client session",
    "Unclosed connector",
    "Task was destroyed but it is pending",
    "Event loop is closed",
    "ResourceWarning",
)


def assert_clean(uabot: Uabot, *secrets: str) -> None:
    """Nothing of ``UNCLEAN`` in the process's output, nor any of ``secrets``."""
    for trace in (*UNCLEAN, *secrets):
        assert trace not in uabot.output, uabot.output


class Uabot:
    """The real ``uabot run`` process, its stdout and stderr collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        # Signals go through a pidfd: ``process.send_signal`` first polls (waitpid) the child,
        # and a poll that reaps it takes its exit status from asyncio's child watcher, which
        # then reports 255 ("Unknown child process pid"). A pidfd also never signals another
        # process that reuses the pid.
        self._pidfd = os.pidfd_open(process.pid)
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(process.stdout, self.out)),
            asyncio.create_task(self._read(process.stderr, self.err)),
        ]

    @classmethod
    async def start(
        cls,
        config: Path,
        *,
        env_token: str | None = None,
        verbose: bool = False,
        cwd: Path | None = None,
        args: tuple[str, ...] = (),
        command: str = "run",
        wrapper: tuple[str, ...] = (),
        module: str = "bot",
    ) -> Uabot:
        """``[wrapper] python -m bot [-v] COMMAND --config CONFIG [args]``, in ``cwd`` if
        given (``wrapper``: say, ``setpriv`` with fewer privileges; ``module``: one in
        ``cwd`` that runs ``bot.cli.main`` with a fault in place)."""
        env = {k: v for k, v in os.environ.items() if k != "UABOT_TOKEN"}
        env["PYTHONWARNINGS"] = "default::ResourceWarning"  # unclosed sockets would show
        if env_token is not None:
            env["UABOT_TOKEN"] = env_token
        process = await asyncio.create_subprocess_exec(
            *wrapper,
            sys.executable,
            "-m",
            module,
            *(["-v"] if verbose else []),
            command,
            "--config",
            str(config),
            *args,
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader, lines: list[str]) -> None:
        while line := await stream.readline():
            lines.append(line.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    @property
    def output(self) -> str:
        return "\n".join(self.out + self.err)

    async def wait_for(self, fragment: str, count: int = 1, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Until ``count`` lines of stderr hold ``fragment`` (fails if the process ends first)."""
        deadline = time.monotonic() + timeout
        while sum(fragment in line for line in self.err) < count:
            if self.process.returncode is not None and all(r.done() for r in self._readers):
                raise AssertionError(f"uabot ended before {fragment!r}:\n{self.output}")
            self._changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {fragment!r} within {timeout}s:\n{self.output}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                continue

    async def finish(self, timeout: float = 60) -> int:  # noqa: ASYNC109
        """Wait for the process to end on its own; its exit status."""
        await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.gather(*self._readers)
        assert self.process.returncode is not None
        return self.process.returncode

    def send_signal(self, sig: int) -> bool:
        """``sig`` to the process, unless it has ended (False then); it is never reaped here,
        so ``finish`` reports the process's own exit status."""
        try:
            signal.pidfd_send_signal(self._pidfd, sig)
        except ProcessLookupError:
            return False
        return True

    async def interrupt(self, timeout: float = 60) -> int:  # noqa: ASYNC109
        """Ctrl-C, then wait for the end; its exit status."""
        self.send_signal(signal.SIGINT)
        return await self.finish(timeout)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.send_signal(signal.SIGKILL)
            await self.process.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1

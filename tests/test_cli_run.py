"""`uabot run` is the same bot: started as a process against the emulator, it answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from conftest import storage_toml, webhook_keys
from fault_servers import Uabot, assert_clean, base_url, write_config

from bot.emulator import Emulator
from bot.storage import Database


async def test_uabot_run_answers_start_in_german_for_de_ch(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[telegram]\n"
        f'base_url = "{emulator.base_url}"\n'
        f'base_file_url = "{emulator.base_file_url}"\n' + storage_toml(tmp_path / "bot.sqlite3"),
        encoding="utf-8",
    )
    env = {**os.environ, "UABOT_TOKEN": emulator.token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        user = emulator.user(31, first_name="Heidi", language_code="de-CH")
        await user.send("/start")
        reply = await user.receive(timeout=30)
        assert "Willkommen!" in reply.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert emulator.token not in log  # the token is never logged
    assert "/start" not in log and "Heidi" not in log  # nor what users write


async def test_uabot_v_run_logs_neither_names_nor_texts_nor_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emulator.base_url, token=None)
    uabot = await Uabot.start(config, env_token=emulator.token, verbose=True)
    try:
        await uabot.wait_for("started as @")
        user = emulator.user(32, first_name="Oksana", last_name="Zhyvotenko", language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=30)).text
        await user.send("my brother Taras is held in Kherson")
        await user.receive(timeout=30)
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    assert " DEBUG " in uabot.output  # -v is on
    for private in ("Oksana", "Zhyvotenko", "Taras", "Kherson"):
        assert private not in uabot.output
    assert emulator.token not in uabot.output
    assert emulator.token.partition(":")[2] not in uabot.output


@pytest.mark.sqlite_only  # the SQLite file's lock (PostgreSQL: an advisory lock)
async def test_migrate_is_refused_while_a_bot_runs_on_the_database(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The upgrade steps' order (install, doctor, restart): a `uabot migrate` in between would
    change the tables under the old, still running bot. It takes the lock run holds."""
    config = write_config(tmp_path, emulator.base_url)
    bot = await Uabot.start(config)
    try:
        await bot.wait_for("started as @")
        assert "(long polling)" in bot.output  # the start line says how updates come
        migrate = await Uabot.start(config, command="migrate")
        assert await migrate.finish() == 2, migrate.output
        assert "another uabot is running on this database (pid " in migrate.output
        assert await bot.interrupt() == 0
    finally:
        await bot.kill()
    migrate = await Uabot.start(config, command="migrate")
    assert await migrate.finish() == 0, migrate.output
    assert "schema version" in migrate.output


def _into_a_closed_pipe(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uabot ARGS | head`` when head has already gone: stdout's reader is closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(config)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.sqlite_only  # uabot backup copies SQLite files
async def test_backup_and_stats_into_a_closed_pipe_end_quietly(tmp_path: Path) -> None:
    """The backup is written; the reader that went away (`| head`) is no error to report: no
    traceback, and the status of a shell tool its reader left (141, as `yes | head`)."""
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    config = write_config(tmp_path, "http://127.0.0.1:9/bot", db=db)
    copy = tmp_path / "copy.sqlite3"
    backup = _into_a_closed_pipe(config, "backup", "--to", str(copy))
    assert backup.returncode in (0, 141), backup.stderr
    assert backup.stderr == ""
    assert copy.stat().st_size > 0
    stats = _into_a_closed_pipe(config, "stats")
    assert stats.returncode in (0, 141), stats.stderr
    assert stats.stderr == ""


def test_run_help_names_both_ways_of_receiving_updates() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "Run the bot (long polling, or a webhook: [telegram] mode)." in shown


@contextlib.asynccontextmanager
async def proxy_failing(
    emulator: Emulator, method: str, calls: set[int]
) -> AsyncIterator[tuple[str, list[int]]]:
    """A proxy to the emulator that answers the ``calls``-th calls of ``method`` (1 is the
    first) with nginx's HTML 502 page; its base_url and each status it gave ``method``."""
    seen: list[int] = []
    target = emulator.base_url.removesuffix("/bot")

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        if request.path.endswith(f"/{method}"):
            if len(seen) + 1 in calls:
                seen.append(502)
                return web.Response(
                    status=502,
                    text=f"<html><h1>502 Bad Gateway</h1>nginx {request.path}</html>",
                    content_type="text/html",
                )
            seen.append(200)
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                target + request.path_qs,
                data=body,
                headers={"Content-Type": request.headers.get("Content-Type", "")},
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield base_url(int(runner.addresses[0][1])), seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("mode", "method", "calls"),
    [
        # The start's own deleteWebhook fails once, then PTB's repeat of it once.
        ("polling", "deleteWebhook", {1, 3}),
        # The start's setWebhook passes; PTB's repeat of it (start_webhook) fails 4 times.
        ("webhook", "setWebhook", {2, 3, 4, 5}),
    ],
)
async def test_a_failed_webhook_call_at_start_is_retried_not_a_traceback(
    emulator: Emulator, tmp_path: Path, mode: str, method: str, calls: set[int]
) -> None:
    extra = ""
    if mode == "webhook":
        extra = "".join(f'{key} = "{value}"\n' for key, value in webhook_keys().items())
    async with proxy_failing(emulator, method, calls) as (url, seen):
        config = write_config(tmp_path, url, token=emulator.token, extra=extra)
        uabot = await Uabot.start(config)
        try:
            await uabot.wait_for("started as @")
            user = emulator.user(33, language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive(timeout=60)).text
            assert await uabot.interrupt() == 0
        finally:
            await uabot.kill()
    assert seen.count(502) == len(calls), seen
    assert_clean(uabot, emulator.token)


async def test_a_webhook_port_in_use_is_one_line_and_exit_2_before_telegram(
    emulator: Emulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        config = write_config(
            tmp_path,
            emulator.base_url,
            token=emulator.token,
            extra="".join(f'{key} = "{value}"\n' for key, value in webhook_keys(port).items()),
        )
        uabot = await Uabot.start(config)
        try:
            rc = await uabot.finish(60)
        finally:
            await uabot.kill()
    assert rc == 2, uabot.output
    assert uabot.err[-1:] == [
        f"uabot: telegram.listen 127.0.0.1:{port} cannot be served (Address already in use): "
        "pick another port, or stop what uses it"
    ], uabot.output
    assert emulator.stats.requests["setWebhook"] == 0  # Telegram was not told to post there
    assert_clean(uabot)


async def test_a_stop_while_ptb_retries_the_webhook_at_start_is_clean(
    emulator: Emulator, tmp_path: Path
) -> None:
    extra = "".join(f'{key} = "{value}"\n' for key, value in webhook_keys().items())
    async with proxy_failing(emulator, "setWebhook", set(range(2, 1000))) as (url, seen):
        config = write_config(tmp_path, url, token=emulator.token, extra=extra)
        uabot = await Uabot.start(config)
        try:
            # PTB's retries log at DEBUG: the bot says itself that the start still waits.
            await uabot.wait_for("has not confirmed the webhook for 10 s")
            assert seen.count(502) >= 2, uabot.output
            assert await uabot.interrupt() == 0
        finally:
            await uabot.kill()
    assert "started as" not in uabot.output  # it never took an update
    assert "stopped before the bot started" in uabot.output
    assert_clean(uabot, emulator.token)

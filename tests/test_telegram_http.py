"""The bot's aiohttp request backend, driven by PTB's own Bot against the emulator."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dtm
import json
import socket
import ssl
import time
import traceback
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import aiohttp
import certifi
import pytest
import trustme
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.config import ConfigError, parse_config
from bot.emulator import Button, Emulator
from bot.ptb.errors import Verdict, classify
from bot.ptb.http import CERTIFI, SYSTEM, AiohttpRequest, tls_context
from bot.ptb.redact import proxy_secrets, redact, token_secrets

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emulator:
        yield emulator


def make_bot(emu: Emulator, **timeouts: float) -> Bot:
    return Bot(
        TOKEN,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=AiohttpRequest(**timeouts),  # type: ignore[arg-type]
        get_updates_request=AiohttpRequest(connection_pool_size=1, **timeouts),  # type: ignore[arg-type]
    )


@pytest.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    bot = make_bot(emu, read_timeout=2.0)
    async with bot:
        yield bot


# -- calls, uploads, downloads ------------------------------------------------------------


async def test_json_call(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, first_name="Ada", started=True)
    assert (await tg.get_me()).username == "uabot_test_bot"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])
    msg = await tg.send_message(1001, "<b>Grüß</b> dich", parse_mode="HTML", reply_markup=markup)
    assert msg.text == "Grüß dich" and msg.chat.id == 1001
    sent = await user.receive()
    assert sent.text == "Grüß dich"
    assert sent.buttons == [[Button("Ja", "yes", None)]]


async def test_multipart_upload_and_download(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001, started=True)
    payload = b'[letter]\nlanguage = "de"\n' + bytes(range(256)) * 8
    msg = await tg.send_document(
        1001,
        InputFile(payload, filename="Brief ü.toml"),
        caption="<i>Brief</i>",
        parse_mode="HTML",
    )
    assert msg.document is not None and msg.caption == "Brief"
    assert (msg.document.file_name, msg.document.file_size) == ("Brief ü.toml", len(payload))
    sent = await user.receive()
    assert sent.document is not None and sent.document.data == payload
    file = await tg.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload


async def test_wire_format() -> None:
    """JSON for ordinary calls, multipart with JSON-encoded fields for files, GET for files."""
    seen: list[tuple[str, str, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.content_type, await request.read()))
        if request.path.endswith("/getMe"):
            me = {"id": 1, "is_bot": True, "first_name": "B", "username": "b_bot"}
            return web.json_response({"ok": True, "result": me})
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}"
        async with Bot(TOKEN, base_url=f"{url}/bot", request=AiohttpRequest()) as bot:
            await bot.send_chat_action(7, "typing")
            await bot.send_document(7, InputFile(b"abc", filename="a.txt"), caption="c")
            file = await bot.request.retrieve(f"{url}/file/x")
            assert json.loads(file) == {"ok": True, "result": True}
    finally:
        await runner.cleanup()
    _, (method, ctype, body), (_, mctype, mbody), (gmethod, _, gbody) = seen
    assert (method, ctype) == ("POST", "application/json")
    assert json.loads(body) == {"chat_id": "7", "action": "typing"}
    assert mctype == "multipart/form-data"
    assert b'name="caption"' in mbody and b'name="chat_id"' in mbody
    assert b'filename="a.txt"' in mbody and b"\r\nabc\r\n" in mbody
    assert (gmethod, gbody) == ("GET", b"")


# -- timeouts -----------------------------------------------------------------------------


async def test_long_poll_outlasts_the_default_read_timeout(emu: Emulator) -> None:
    user = emu.user(5)
    async with make_bot(emu, read_timeout=0.2) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0.8) == ()  # read timeout: 0.8 + 0.2
        # Not cut at the 0.2 s read timeout; the upper bound only says the poll ended.
        assert 0.7 < time.monotonic() - started < 4
        poll = asyncio.create_task(bot.get_updates(timeout=2))
        await asyncio.sleep(0.5)
        assert not poll.done()
        await user.send("hello")
        (update,) = await poll
        assert update.message is not None and update.message.text == "hello"


async def test_slow_answer_times_out(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    emu.delay("sendMessage", seconds=0.5)
    with pytest.raises(TimedOut) as late:
        await tg.send_message(1001, "slow", read_timeout=0.1)
    # The request went out and the read timed out: maybe delivered, not "not sent".
    assert classify(late.value) is Verdict.UNANSWERED
    async with make_bot(emu, read_timeout=0.1) as short:
        with pytest.raises(TimedOut):
            await short.send_message(1001, "slow")  # the instance's default
        await short.send_message(1001, "patient", read_timeout=2)  # per call beats default
    emu.delay("sendMessage", seconds=0)
    await tg.send_message(1001, "fast")


async def test_pool_timeout_when_every_connection_is_busy(emu: Emulator) -> None:
    emu.user(1001, started=True)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    async with Bot(TOKEN, base_url=emu.base_url, request=request) as bot:
        emu.delay("sendMessage", seconds=0.5)
        first = asyncio.create_task(bot.send_message(1001, "first"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout") as waited:
            await bot.send_message(1001, "second")
        assert classify(waited.value) is Verdict.TRANSIENT  # it never left: not sent
        assert (await first).text == "first"
        emu.delay("sendMessage", seconds=0)


async def test_write_timeout_on_a_peer_that_does_not_read() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # never read: the client's send buffer fills up

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with AiohttpRequest(media_write_timeout=0.3) as request:
            bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)
            started = time.monotonic()
            with pytest.raises(TimedOut) as unwritten:
                await bot.send_document(1, InputFile(b"x" * (32 << 20), filename="big.bin"))
            assert classify(unwritten.value) is Verdict.TRANSIENT  # never wholly written
            assert time.monotonic() - started < 5
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


# -- errors -------------------------------------------------------------------------------


async def test_forbidden(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    emu.block(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await tg.send_message(1001, "hi")


async def test_retry_after(emu: Emulator, tg: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.user(1001, started=True)
    emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(1001, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)


async def test_bad_request(emu: Emulator, tg: Bot) -> None:
    emu.user(1001, started=True)
    emu.fail_next("sendMessage", 400, "Bad Request: injected")
    with pytest.raises(BadRequest, match=r"(?i)injected"):
        await tg.send_message(1001, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await tg.send_message(424242, "nobody")


async def test_network_error_when_nobody_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(caught.value, TimedOut)
    assert "Cannot connect" in str(caught.value)
    assert_shows_no_secret(caught.value)


# -- life cycle ---------------------------------------------------------------------------


async def test_initialize_and_shutdown_are_idempotent(emu: Emulator) -> None:
    request = AiohttpRequest(read_timeout=3)
    assert request.read_timeout == 3
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the RuntimeError
        await request.retrieve(emu.base_url)
    await request.initialize()
    await request.initialize()
    assert (await request.post(f"{emu.base_url}{TOKEN}/getMe"))["id"] == 4242  # type: ignore[index]
    await request.shutdown()
    await request.shutdown()
    await request.initialize()  # usable again, as HTTPXRequest is
    assert (await request.post(f"{emu.base_url}{TOKEN}/getMe"))["id"] == 4242  # type: ignore[index]
    await request.shutdown()


async def test_the_bot_works_through_an_http_proxy(emulator: Emulator, tmp_path: Path) -> None:
    """With telegram.proxy set, every call (long polling, replies, broadcasts) goes through it."""
    from aiohttp import ClientSession, web

    from bot.app import build_application, running
    from bot.config import parse_config

    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(request.path.rsplit("/", 1)[-1])
        async with (
            ClientSession() as session,
            session.request(
                request.method,
                str(request.url),  # absolute-form: the proxy is asked for the full URL
                data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "")},
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type="application/json"
            )

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(proxy)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    config = parse_config(
        {
            "telegram": {
                "token": emulator.token,
                "base_url": emulator.base_url,
                "base_file_url": emulator.base_file_url,
                "proxy": f"http://127.0.0.1:{port}",
            },
            "storage": {"path": str(tmp_path / "proxied.sqlite3")},
        },
        environ={},
    )
    try:
        async with running(build_application(config), poll_timeout=1):
            user = emulator.user(77, first_name="P", language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive()).text
    finally:
        await runner.cleanup()
    assert {"getUpdates", "sendMessage", "setMyCommands"} <= set(seen)


# -- the real world: proxies that fail, redirects, hanging phases, TLS trust ---------------
#
# A small fault-injecting proxy and servers on 127.0.0.1 play what a blocked network, a
# misconfigured proxy or a captive portal do. Every error must be bounded in time and show
# neither the token's secret half nor the proxy's password, in its text, its chain or its
# printed traceback.

SECRET_HALF = TOKEN.partition(":")[2]
PROXY_PASSWORD = "pr0xy-pa55word"
PROXY_USERINFO = f"uabot:{PROXY_PASSWORD}"
# Where the Bot API would be: the proxy is asked to CONNECT to it and never resolves it here.
REMOTE_API = f"https://api.telegram.invalid/bot{TOKEN}/getMe"


def assert_shows_no_secret(exc: BaseException, *secrets: str) -> None:
    """Neither the exception, its chain nor its printed traceback holds a secret."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    for secret in (SECRET_HALF, PROXY_PASSWORD, *secrets):
        assert not any(secret in text for text in texts), (secret, texts)


def test_redact_masks_tokens_and_passwords_known_or_not() -> None:
    text = (
        "ConnectionTimeoutError('Connection timeout to host "
        "https://api.telegram.org/bot987654:AAH-x_y/getMe'), GET /file/bot987654%3AAAH-x_y/a.pdf, "
        "url='http://alice:s3cr%40t@proxy:3128', Basic YWxpY2U6czNjckB0"
    )
    shown = redact(text)  # the patterns alone, no secret known
    assert "AAH-x_y" not in shown and "s3cr" not in shown
    assert "/bot987654:***/getMe" in shown and "http://***@proxy:3128" in shown
    known = redact(
        text, (*token_secrets("987654:AAH-x_y"), *proxy_secrets("http://alice:s3cr%40t@proxy"))
    )
    assert "YWxpY2U6czNjckB0" not in known  # aiohttp's Proxy-Authorization, too
    assert redact("nothing to hide", ("",)) == "nothing to hide"


class FaultProxy:
    """An HTTP proxy that tunnels CONNECT (``mode="tunnel"``) or fails as ``mode`` says.

    ``"hang"`` reads the request and never answers; ``"407"`` and ``"502"`` answer with that
    status. ``requests`` records each request line with its headers.
    """

    def __init__(self) -> None:
        self.mode = "tunnel"
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, userinfo: str = PROXY_USERINFO) -> str:
        return f"http://{userinfo}@127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Close every open tunnel: the next call needs a new CONNECT."""
        for writer in self._writers:
            writer.close()

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *fields = head.strip().split("\r\n")
            self.requests.append((line, dict(field.split(": ", 1) for field in fields)))
            if self.mode == "hang":
                await reader.read()  # until the client gives up
            elif self.mode in ("407", "502"):
                reason = "Proxy Authentication Required" if self.mode == "407" else "Bad Gateway"
                writer.write(
                    f"HTTP/1.1 {self.mode} {reason}\r\nContent-Length: 0\r\n\r\n".encode()
                )
                await writer.drain()
            else:
                host, port = line.split(" ")[1].rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                self._writers.add(up_writer)
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    async with FaultProxy() as fault_proxy:
        yield fault_proxy


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """A server on 127.0.0.1 that accepts connections and never says a word."""
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def timed_failure(call: Awaitable[object]) -> tuple[BaseException, float]:
    """The exception ``call`` raises and how long it took; generous bound: 10 s."""
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        await asyncio.wait_for(call, timeout=30)  # a hang fails the test instead of blocking it
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    return caught.value, elapsed


async def test_a_proxy_that_never_answers_connect_times_out(proxy: FaultProxy) -> None:
    """HTTPXRequest raises TimedOut after ~1 s here (connect 0.5 s, read 1 s); so must we."""
    proxy.mode = "hang"
    async with AiohttpRequest(proxy=proxy.url(), connect_timeout=0.5, read_timeout=1) as request:
        error, elapsed = await timed_failure(request.post(REMOTE_API))
    assert isinstance(error, TimedOut)
    assert classify(error) is Verdict.TRANSIENT  # the request never left
    assert elapsed >= 0.5  # the proxy really held the CONNECT
    assert [line for line, _ in proxy.requests] == ["CONNECT api.telegram.invalid:443 HTTP/1.1"]
    assert_shows_no_secret(error)


async def test_long_polling_through_a_silent_proxy_is_bounded(proxy: FaultProxy) -> None:
    """A long poll waits its poll timeout plus the read timeout for CONNECT, then gives up."""
    proxy.mode = "hang"
    request = AiohttpRequest(
        connection_pool_size=1, proxy=proxy.url(), connect_timeout=0.5, read_timeout=0.5
    )
    bot = Bot(TOKEN, base_url="https://api.telegram.invalid/bot", get_updates_request=request)
    async with request:  # not the Bot: its getMe would time out first
        error, elapsed = await timed_failure(bot.get_updates(timeout=1))
    assert isinstance(error, TimedOut)
    assert elapsed >= 1  # the poll's own timeout is not cut short
    assert_shows_no_secret(error)


@pytest.mark.parametrize(("mode", "words"), [("407", "Proxy Authentication"), ("502", "Bad")])
async def test_a_proxy_refusing_connect_shows_no_password(
    proxy: FaultProxy, mode: str, words: str
) -> None:
    proxy.mode = mode
    async with AiohttpRequest(proxy=proxy.url()) as request:
        error, _ = await timed_failure(request.post(REMOTE_API))
    assert not isinstance(error, TimedOut)
    assert mode in str(error) and words in str(error)
    assert f"http://***@127.0.0.1:{proxy.port}" in str(error)  # which proxy, without the secret
    ((_, headers),) = proxy.requests
    basic = base64.b64encode(PROXY_USERINFO.encode()).decode()
    assert headers["Proxy-Authorization"] == f"Basic {basic}"  # the credentials did go out
    assert_shows_no_secret(error, basic)


async def test_a_connect_timeout_shows_no_token() -> None:
    """A port whose backlog is full drops the SYN: aiohttp names the whole URL in its error."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(2):  # fill the accept queue that nobody empties
                filler = socket.socket()
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
                fillers.append(filler)
            await asyncio.sleep(0.1)
            async with AiohttpRequest(connect_timeout=0.3) as request:
                error, _ = await timed_failure(
                    request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
                )
        finally:
            for filler in fillers:
                filler.close()
    assert isinstance(error, TimedOut)
    assert "/bot123456:***/getMe" in str(error)  # the bot's public id stays, for diagnosis
    assert_shows_no_secret(error)


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_server_that_accepts_and_never_answers_times_out(scheme: str) -> None:
    """http: the read timeout; https: the TLS handshake, within the connect timeout."""
    read_timeout = 60.0 if scheme == "https" else 0.5
    async with silent_server() as (port, accepted):
        async with AiohttpRequest(connect_timeout=0.5, read_timeout=read_timeout) as request:
            url = f"{scheme}://127.0.0.1:{port}/bot{TOKEN}/getMe"
            error, _ = await timed_failure(request.post(url))
        assert accepted  # the TCP connection was made: the answer is what never came
    assert isinstance(error, TimedOut)
    assert_shows_no_secret(error)


async def test_a_dns_lookup_that_hangs_is_bounded_by_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_up: list[str] = []

    async def never(self: object, host: str, *args: object, **kwargs: object) -> list[object]:
        looked_up.append(host)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(aiohttp.resolver.DefaultResolver, "resolve", never)
    async with AiohttpRequest(connect_timeout=0.5, read_timeout=60) as request:
        error, _ = await timed_failure(request.post(f"http://api.telegram.test/bot{TOKEN}/getMe"))
    assert looked_up == ["api.telegram.test"]
    assert isinstance(error, TimedOut)
    assert_shows_no_secret(error)


@pytest.mark.parametrize(
    ("status", "elsewhere", "phrase"),
    [(302, False, "Found"), (307, False, "Temporary Redirect"), (302, True, "Found")],
)
async def test_redirects_are_errors_not_followed(
    status: int, elsewhere: bool, phrase: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram never redirects; a portal that does is an error, as with HTTPXRequest."""
    seen: list[tuple[str, str, bytes]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append((request.host, request.method + " " + request.path, await request.read()))
        if request.path.endswith("/sendMessage"):
            target = f"http://{other}/portal" if elsewhere else "/portal"
            # A captive portal's page, echoing the URL it was asked for.
            page = f"<a href='{target}?from={request.url}'>Log in first</a>"
            return web.Response(status=status, text=page, headers={"Location": target})
        return web.json_response({"ok": True, "result": True})

    runners = []
    for _ in range(2):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
    here, other = (f"127.0.0.1:{runner.addresses[0][1]}" for runner in runners)
    try:
        async with AiohttpRequest() as request:
            bot = Bot(TOKEN, base_url=f"http://{here}/bot", request=request)
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(7, "hi")
    finally:
        for runner in runners:
            await runner.cleanup()
    assert not isinstance(caught.value, (TimedOut, BadRequest))
    assert f"{phrase} ({status})" in str(caught.value)
    assert "Log in first" in str(caught.value)  # PTB quotes the page: minus the token
    assert_shows_no_secret(caught.value)
    # One POST with its body; no GET after a 302, no second POST after a 307, no other host.
    ((host, call, body),) = seen
    assert (host, call) == (here, f"POST /bot{TOKEN}/sendMessage")
    assert json.loads(body) == {"chat_id": "7", "text": "hi"}
    # PTB logs the page it could not parse: without the token too.
    assert caplog.records and not any(SECRET_HALF in r.getMessage() for r in caplog.records)


# -- TLS trust ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@contextlib.asynccontextmanager
async def tls_front(ca: trustme.CA, port: int) -> AsyncIterator[int]:
    """https on 127.0.0.1 (a certificate from ``ca``) in front of the plain server at ``port``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    tasks: set[asyncio.Task[None]] = set()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def test_trust_is_certifi_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str | None] = []

    def record(*, cafile: str | None = None) -> ssl.SSLContext:
        built.append(cafile)
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

    real = tls_context(CERTIFI)
    assert real is tls_context(CERTIFI)  # one context per choice, shared by all connections
    assert len(real.get_ca_certs()) == certifi.contents().count("BEGIN CERTIFICATE")
    assert AiohttpRequest()._ca_bundle == CERTIFI  # the default

    monkeypatch.setattr(ssl, "create_default_context", record)
    make = tls_context.__wrapped__  # the choice itself, past the per-process cache
    make(CERTIFI)
    make(SYSTEM)
    make("/etc/uabot/ca.pem")
    assert built == [certifi.where(), None, "/etc/uabot/ca.pem"]


def test_ca_bundle_config(tmp_path: Path, ca: trustme.CA) -> None:
    def parse(telegram: dict[str, str]) -> str:
        return parse_config(
            {"telegram": {"token": TOKEN, **telegram}}, environ={}
        ).telegram.ca_bundle

    assert parse({}) == CERTIFI
    assert parse({"ca_bundle": "system"}) == SYSTEM
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    assert parse({"ca_bundle": str(pem)}) == str(pem)
    with pytest.raises(ConfigError, match=r"^telegram.ca_bundle \S+missing.pem is not a file"):
        parse({"ca_bundle": str(tmp_path / "missing.pem")})
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"^telegram.ca_bundle \S+junk.pem holds no readable"):
        parse({"ca_bundle": str(tmp_path / "junk.pem")})
    with pytest.raises(ConfigError, match=r"^telegram\.ca_bundle"):
        parse({"ca_bundle": str(tmp_path)})  # a folder


async def test_a_configured_bundle_is_what_https_trusts(
    emu: Emulator, ca: trustme.CA, tmp_path: Path
) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    async with tls_front(ca, emu.port) as port:
        url = f"https://127.0.0.1:{port}/bot{TOKEN}/getMe"
        async with AiohttpRequest(ca_bundle=str(pem)) as trusting:
            assert (await trusting.post(url))["id"] == 4242  # type: ignore[index]
        for untrusting in (AiohttpRequest(), AiohttpRequest(ca_bundle=SYSTEM)):
            async with untrusting:
                with pytest.raises(NetworkError, match="certificate verify failed") as caught:
                    await untrusting.post(url)
            assert_shows_no_secret(caught.value)


# -- end to end: the real Application behind a proxy that stops answering ------------------


async def test_the_bot_gives_up_on_a_silent_proxy_and_recovers(
    emulator: Emulator, proxy: FaultProxy, ca: trustme.CA, tmp_path: Path
) -> None:
    """https through an authenticating proxy; it goes silent: a reply fails in bounded time,
    without the token or the password, and long polling comes back when the proxy does."""
    from conftest import make_config

    from bot.app import build_application, running

    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    async with tls_front(ca, emulator.port) as port:
        config = make_config(
            emulator,
            tmp_path / "uabot.sqlite3",
            telegram={
                "base_url": f"https://127.0.0.1:{port}/bot",
                "base_file_url": f"https://127.0.0.1:{port}/file/bot",
                "proxy": proxy.url(),
                "ca_bundle": str(pem),
            },
        )
        async with running(build_application(config), poll_timeout=1) as app:
            user = emulator.user(77, first_name="P", language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive()).text
            assert all(line.startswith("CONNECT 127.0.0.1:") for line, _ in proxy.requests)

            proxy.mode = "hang"
            proxy.cut()
            error, _ = await timed_failure(
                app.bot.send_message(77, "still there?", connect_timeout=0.5, read_timeout=1)
            )
            assert isinstance(error, TimedOut)
            assert_shows_no_secret(error)
            assert "still there?" not in [m.text for m in user.chat.bot_messages]

            proxy.mode = "tunnel"
            await user.send("/start")
            assert "Welcome!" in (await user.receive(timeout=60)).text

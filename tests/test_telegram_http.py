"""The bot's aiohttp request backend, driven by PTB's own Bot against the emulator."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.emulator import Button, Emulator
from bot.telegram_http import AiohttpRequest

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
    user = emu.user(1001, first_name="Ada")
    assert (await tg.get_me()).username == "uabot_test_bot"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])
    msg = await tg.send_message(1001, "<b>Grüß</b> dich", parse_mode="HTML", reply_markup=markup)
    assert msg.text == "Grüß dich" and msg.chat.id == 1001
    sent = await user.receive()
    assert sent.text == "Grüß dich"
    assert sent.buttons == [[Button("Ja", "yes", None)]]


async def test_multipart_upload_and_download(emu: Emulator, tg: Bot) -> None:
    user = emu.user(1001)
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
        assert 0.7 < time.monotonic() - started < 2
        poll = asyncio.create_task(bot.get_updates(timeout=2))
        await asyncio.sleep(0.5)
        assert not poll.done()
        await user.send("hello")
        (update,) = await poll
        assert update.message is not None and update.message.text == "hello"


async def test_slow_answer_times_out(emu: Emulator, tg: Bot) -> None:
    emu.user(1001)
    emu.delay("sendMessage", seconds=0.5)
    with pytest.raises(TimedOut):
        await tg.send_message(1001, "slow", read_timeout=0.1)
    async with make_bot(emu, read_timeout=0.1) as short:
        with pytest.raises(TimedOut):
            await short.send_message(1001, "slow")  # the instance's default
        await short.send_message(1001, "patient", read_timeout=2)  # per call beats default
    emu.delay("sendMessage", seconds=0)
    await tg.send_message(1001, "fast")


async def test_pool_timeout_when_every_connection_is_busy(emu: Emulator) -> None:
    emu.user(1001)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    async with Bot(TOKEN, base_url=emu.base_url, request=request) as bot:
        emu.delay("sendMessage", seconds=0.5)
        first = asyncio.create_task(bot.send_message(1001, "first"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(1001, "second")
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
            with pytest.raises(TimedOut):
                await bot.send_document(1, InputFile(b"x" * (32 << 20), filename="big.bin"))
            assert time.monotonic() - started < 5
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


# -- errors -------------------------------------------------------------------------------


async def test_forbidden(emu: Emulator, tg: Bot) -> None:
    emu.user(1001)
    emu.block(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await tg.send_message(1001, "hi")


async def test_retry_after(emu: Emulator, tg: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.user(1001)
    emu.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(1001, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)


async def test_bad_request(emu: Emulator, tg: Bot) -> None:
    emu.user(1001)
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

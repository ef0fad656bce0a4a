"""Webhook mode: Telegram POSTs each update to the bot's own server (PTB's), which refuses a
request without the secret token; back in polling mode the webhook is deleted. The journeys
run over it too (``UABOT_TEST_TRANSPORT=webhook``, .ci/run); these tests run in both runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import SECRET, TOKEN, make_config, webhook_keys
from fault_servers import Uabot, assert_clean, write_config

from bot.app import build_application, running
from bot.config import ConfigError, parse_config
from bot.emulator import Emulator
from bot.emulator.webhook import SECRET_HEADER, WEBHOOK_CONFLICT


def webhook_config(emulator: Emulator, tmp_path: Path, port: int | None = None) -> Any:
    return make_config(emulator, tmp_path / "bot.sqlite3", telegram=webhook_keys(port))


def update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Raw", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Raw"},
            "date": int(time.time()),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_updates_come_by_webhook_and_a_post_without_the_secret_is_refused(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = webhook_config(emulator, tmp_path)
    url = config.telegram.webhook_url
    async with running(build_application(config)):
        hook = emulator.webhook
        assert (hook.url, hook.secret_token) == (url, SECRET)
        user = emulator.user(31, language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=10)).text
        assert hook.posts >= 1 and emulator.stats.requests["getUpdates"] == 0

        # Known to Telegram, and the update posted by hand is their /start: replies can go.
        stranger = emulator.user(32, language_code="en", started=True)
        body = json.dumps(update(10_000, stranger.id, "/start"))
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong-secret"}):
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json", **headers}
                ) as answer:
                    assert answer.status == 403
            await stranger.expect_silence(0.5)
            # The same request with the secret goes through: the refusals were the secret's.
            async with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
            ) as answer:
                assert answer.status == 200
            assert "Welcome!" in (await stranger.receive(timeout=10)).text

            # Telegram refuses getUpdates while the webhook is set.
            async with session.post(f"{emulator.base_url}{TOKEN}/getUpdates") as answer:
                assert answer.status == 409
                assert (await answer.json())["description"] == WEBHOOK_CONFLICT


async def test_updates_sent_while_the_bot_is_down_come_after_and_polling_deletes_the_webhook(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = webhook_config(emulator, tmp_path)
    user = emulator.user(41, language_code="en")
    async with running(build_application(config)):
        await user.send("/start")
        await user.receive(timeout=10)
    await user.send("/privacy")  # the bot is down: Telegram keeps trying
    await emulator.wait_until(lambda: emulator.webhook.failures >= 1, timeout=10)
    info = emulator.webhook.info()
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Connection refused"

    async with running(build_application(config)):  # the webhook again: it arrives
        assert (await user.receive(timeout=10)).text
    await user.send("/privacy")
    await emulator.wait_until(lambda: emulator.webhook.failures >= 2, timeout=10)

    polling = make_config(emulator, tmp_path / "bot.sqlite3", telegram={"mode": "polling"})
    async with running(build_application(polling), poll_timeout=1):
        assert (await user.receive(timeout=10)).text  # kept for getUpdates
        assert emulator.webhook.url == ""
        assert emulator.stats.requests["deleteWebhook"] >= 1
        await user.send("/start")
        assert "Welcome" in (await user.receive(timeout=10)).text


async def test_uabot_run_stops_with_one_line_when_telegram_refuses_the_webhook(
    emulator: Emulator, tmp_path: Path
) -> None:
    keys = webhook_keys()
    extra = "".join(f'{key} = "{value}"\n' for key, value in keys.items())
    config = write_config(tmp_path, emulator.base_url, extra=extra)
    emulator.http_error(502, methods=("setWebhook",))  # an outage first: waited out
    uabot = await Uabot.start(config)
    try:
        await uabot.wait_for("not reachable: Bad Gateway (502)")
        emulator.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host")
        emulator.end_http_error()
        rc = await uabot.finish(60)
    finally:
        await uabot.kill()
    assert rc == 2, uabot.output
    assert "not reachable: Bad Gateway (502)" in uabot.output, uabot.output
    refused = [line for line in uabot.err if "Telegram refused the webhook" in line]
    assert len(refused) == 1, uabot.output
    assert "bad webhook: failed to resolve host" in refused[0].lower()
    assert "check telegram.webhook_url" in refused[0]
    assert_clean(uabot, SECRET)


WEBHOOK = {
    "token": TOKEN,
    "mode": "webhook",
    "webhook_url": "https://bot.example.org/telegram",
    "secret_token": SECRET,
}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"mode": "hook"}, "telegram.mode 'hook' is unknown: use 'polling' or 'webhook'"),
        ({"webhook_url": None}, "telegram.webhook_url is missing"),
        ({"secret_token": None}, "telegram.secret_token is missing"),
        ({"secret_token": "has:colon"}, "telegram.secret_token must be 1-256 characters"),
        ({"secret_token": "x" * 257}, "telegram.secret_token must be 1-256 characters"),
        (
            {"webhook_url": "http://bot.example.org/t"},
            "must be https (Telegram posts only over https",
        ),
        ({"webhook_url": "ftp://bot.example.org/t"}, "is not an https URL"),
        ({"webhook_url": "https://127.0.0.1/t"}, "is this machine, which Telegram cannot reach"),
        (
            {"webhook_url": "https://bot.example.org:8080/t"},
            "Telegram posts only to ports 443, 80, 88 or 8443",
        ),
        ({"listen": "8443"}, "telegram.listen '8443' must be host:port"),
        ({"listen": "127.0.0.1:99999"}, "telegram.listen '127.0.0.1:99999' must be host:port"),
    ],
)
def test_webhook_settings_are_checked_at_start_with_the_fix(
    changes: dict[str, str | None], error: str
) -> None:
    telegram = {**WEBHOOK, **changes}
    raw = {"telegram": {key: value for key, value in telegram.items() if value is not None}}
    with pytest.raises(ConfigError) as raised:
        parse_config(raw, environ={})
    assert error in str(raised.value)
    assert "\n" not in str(raised.value)


def test_polling_is_the_default_and_webhook_keys_parse() -> None:
    assert parse_config({"telegram": {"token": TOKEN}}, environ={}).telegram.mode == "polling"
    telegram = parse_config(
        {
            "telegram": {
                "token": TOKEN,
                "mode": "webhook",
                "webhook_url": "https://bot.example.org:8443/uabot",
                "listen": "[::1]:9000",
                "secret_token": SECRET,
            }
        },
        environ={},
    ).telegram
    assert (telegram.listen, telegram.webhook_path) == (("::1", 9000), "/uabot")
    assert SECRET not in repr(telegram)
    # http only on this machine, with one's own Bot API server (the emulator here).
    own = {"base_url": "http://127.0.0.1:8081/bot", "webhook_url": "http://127.0.0.1:9000/u"}
    parse_config(
        {"telegram": {"token": TOKEN, "mode": "webhook", "secret_token": SECRET, **own}},
        environ={},
    )


async def test_the_emulator_posts_in_order_with_the_secret_and_retries_failures(
    emulator: Emulator,
) -> None:
    """Telegram's side alone: a receiver that answers 500 twice gets every update, in order,
    each with the secret header; getWebhookInfo tells the last error."""
    received: list[tuple[int, str | None]] = []
    failures = 2

    async def receive(request: web.Request) -> web.Response:
        nonlocal failures
        body = await request.json()
        if failures:
            failures -= 1
            return web.Response(status=500)
        received.append((body["update_id"], request.headers.get(SECRET_HEADER)))
        return web.Response(status=200)

    server = web.Application()
    server.router.add_post("/hook", receive)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            api = f"{emulator.base_url}{TOKEN}"
            async with session.post(
                f"{api}/setWebhook",
                json={"url": f"http://127.0.0.1:{port}/hook", "secret_token": SECRET},
            ) as answer:
                assert (await answer.json())["ok"]
            user = emulator.user(7)
            for text in ("one", "two", "three"):
                await user.send(text)
            await emulator.wait_until(lambda: len(received) == 3, timeout=10)
            assert [update_id for update_id, _ in received] == sorted(u for u, _ in received)
            assert {secret for _, secret in received} == {SECRET}
            async with session.post(f"{api}/getWebhookInfo") as answer:
                info = (await answer.json())["result"]
            assert info["pending_update_count"] == 0
            assert info["last_error_message"] == (
                "Wrong response from the webhook: 500 Internal Server Error"
            )
            async with session.post(
                f"{api}/setWebhook", json={"url": "https://x.org/h", "secret_token": "a:b"}
            ) as answer:
                assert (await answer.json())["description"] == (
                    "Bad Request: secret token contains unallowed characters"
                )
            async with session.post(f"{api}/deleteWebhook") as answer:
                assert (await answer.json())["ok"]
            async with session.post(f"{api}/getUpdates", json={"timeout": 0}) as answer:
                assert (await answer.json())["ok"]  # polling again
    finally:
        await runner.cleanup()


async def test_a_post_that_is_no_update_leaves_no_body_in_the_log(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A post with the secret token whose body is not an update, or not JSON: PTB logged the
    body (user data) at CRITICAL with a traceback: now one line without it. A body that is not
    JSON is refused (500) and not logged."""
    keys = webhook_keys()
    extra = "".join(f'{key} = "{value}"\n' for key, value in keys.items())
    uabot = await Uabot.start(write_config(tmp_path, emulator.base_url, extra=extra))
    try:
        await uabot.wait_for("started as @")
        user = emulator.user(41, language_code="en")
        await user.send("/start")
        assert "Welcome" in (await user.receive(timeout=30)).text  # the webhook is served
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        bodies = (
            b'{"update_id": 1, "message": {"text": "my brother Taras in Kherson"}}',
            b'{"update_id": 2, "text": "Taras \xff Kherson',
        )
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                async with session.post(keys["webhook_url"], data=body, headers=headers) as r:
                    assert r.status >= 400
        await uabot.wait_for("is not an update")
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    assert_clean(uabot, "Taras", "Kherson", SECRET)
    assert "CRITICAL" not in uabot.output


async def test_the_doctor_shows_where_the_webhook_listens_as_host_and_port(
    emulator: Emulator, tmp_path: Path
) -> None:
    keys = webhook_keys()
    extra = "".join(f'{key} = "{value}"\n' for key, value in keys.items())
    doctor = await Uabot.start(
        write_config(tmp_path, emulator.base_url, extra=extra), command="doctor"
    )
    try:
        await doctor.finish(60)
    finally:
        await doctor.kill()
    assert f"listening on {keys['listen']}" in doctor.output, doctor.output

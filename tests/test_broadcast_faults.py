"""Journeys: a broadcast meets the real world (proxies, outages, bursts) and loses nobody.

Each journey drives the real bot against the emulator playing the fault, and asserts that no
subscriber was lost or wrongly marked and every message arrived exactly once after recovery.
Time is compressed through the config (``max_probe_interval_seconds``,
``give_up_after_hours``), never by waiting on the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import storage_toml
from journeys import ADMIN_ID, FIXTURES, subscriber, upload
from telegram.error import TelegramError

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
from bot.broadcast.engine import workers_for
from bot.config import Config
from bot.emulator import Emulator, SimUser
from bot.ptb.errors import Verdict, classify
from bot.storage import Broadcast, Storage

CASE = "UA 012/26"


def fast(config: Config, **changes: Any) -> Any:
    """Broadcast settings whose probes come every 0.2 s instead of up to 5 minutes."""
    return replace(config.broadcast, max_probe_interval_seconds=0.2, **changes)


def cards(user: SimUser) -> int:
    return len([m for m in user.messages if m.text and CASE in m.text])


def reports(admin: SimUser) -> list[str]:
    return [m.text for m in admin.messages if m.text and "Broadcast finished" in m.text]


async def subscribers(emulator: Emulator, ids: range) -> dict[int, SimUser]:
    return {uid: await subscriber(emulator, uid, "en") for uid in ids}


async def broadcasting(emulator: Emulator, ids: range) -> tuple[dict[int, SimUser], SimUser]:
    """Subscribers ``ids`` and an admin who published the example case; its broadcast is under
    way (5 cards out)."""
    users = await subscribers(emulator, ids)
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await admin.tap(await upload(admin, "ua-012-26-1.toml"), "📣 Publish")
    await emulator.wait_until(lambda: sum(map(cards, users.values())) >= 5, timeout=10)
    return users, admin


async def test_a_proxys_html_403_marks_nobody_and_everyone_gets_it_after(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(broadcast=fast(config)) as app:
        users = await subscribers(emulator, range(1, 22))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        storage = app.bot_data.storage
        emulator.block(5)  # a real refusal, in Telegram's words: still marked
        preview = await upload(admin, "ua-012-26-1.toml")
        # A proxy or firewall answers the supporters' messages with its own HTML 403 page.
        emulator.http_error(403, methods=("sendMessage",), chats=tuple(users))
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(lambda: emulator.stats.non_api_answers >= 30, timeout=20)
        assert not any(cards(user) for user in users.values())
        assert await storage.users.count_reachable_subscribers() == 22, "nobody is marked"

        await admin.send("/broadcasts")
        shown = await admin.receive()
        while "Running broadcasts" not in shown.text:
            shown = await admin.receive()
        assert "UA 012/26: paused since" in shown.text
        assert "UTC, 1 of 22 sent" in shown.text  # the admin's own card went through
        assert "Forbidden (403) (not Telegram's answer)" in shown.text

        emulator.end_http_error()
        # The next probe finds Telegram back, then the rest is sent: 20 s was too short for
        # it on PostgreSQL under CI's load.
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        assert {uid: cards(user) for uid, user in users.items()} == {
            uid: 0 if uid == 5 else 1 for uid in users
        }
        report = reports(admin)[0]
        assert "Delivered: 21" in report and "Unreachable: 1" in report and "Failed: 0" in report
        assert (await storage.users.get(5)).blocked
        assert await storage.users.count_reachable_subscribers() == 21


async def test_a_few_seconds_of_502s_mid_broadcast_lose_nobody(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(broadcast=fast(config, messages_per_second=20)) as app:
        users, admin = await broadcasting(emulator, range(1, 41))
        emulator.http_error(502, methods=("sendMessage",), seconds=2)
        await emulator.wait_until(lambda: reports(admin), timeout=30)
        assert emulator.stats.errors_by_code[502] > 0
        assert {uid: cards(user) for uid, user in users.items()} == dict.fromkeys(users, 1)
        assert "Delivered: 41" in reports(admin)[0] and "Failed: 0" in reports(admin)[0]
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 41


async def test_an_outage_of_hours_waits_across_a_restart_and_resumes_where_it_stopped(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    # "Hours" compressed: probes every 0.2 s play an outage of many probe intervals.
    settings = fast(config)
    async with restart(broadcast=settings) as app:
        users = await subscribers(emulator, range(1, 31))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        preview = await upload(admin, "ua-012-26-1.toml")
        emulator.http_error(502, methods=("sendMessage",))
        began = time.monotonic()
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(lambda: emulator.stats.non_api_answers >= 40, timeout=30)
        # Back-off: after the messages in flight, one probe per interval, not a hammering.
        elapsed = time.monotonic() - began
        workers = app.bot_data.broadcasts.workers
        assert emulator.stats.non_api_answers <= workers + 31 + elapsed / 0.2 + 5
    [broadcast] = await _unfinished(config)
    assert broadcast.paused_at is not None, "the pause is stored, with since when"

    async with restart(broadcast=settings) as app:
        await emulator.wait_until(lambda: emulator.stats.non_api_answers >= 50, timeout=30)
        assert not reports(admin)
        emulator.end_http_error()
        # The next probe finds Telegram back, then the rest is sent: 20 s was too short for
        # it on PostgreSQL under CI's load.
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        assert {uid: cards(user) for uid, user in users.items()} == dict.fromkeys(users, 1)
        report = reports(admin)[0]
        assert "Delivered: 31" in report and "Failed: 0" in report and "Unreachable: 0" in report
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 31


async def test_recipients_fail_only_after_give_up_hours_and_stay_subscribed(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(broadcast=fast(config, give_up_after_hours=0.0005)) as app:  # 1.8 s
        users = await subscribers(emulator, range(1, 4))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        preview = await upload(admin, "ua-012-26-1.toml")
        emulator.http_error(502, methods=("sendMessage",), chats=tuple(users))
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(lambda: reports(admin), timeout=20)
        report = reports(admin)[0]
        assert "Delivered: 1" in report and "Failed: 3" in report and "Unreachable: 0" in report
        assert not any(cards(user) for user in users.values())
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 4


async def test_a_burst_of_identical_refusals_pauses_and_tells_the_admins(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(broadcast=fast(config)) as app:
        users = await subscribers(emulator, range(1, 31))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        storage = app.bot_data.storage
        preview = await upload(admin, "ua-012-26-1.toml")
        # Telegram (or something speaking its JSON) says "chat not found" for everyone.
        glitch = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        emulator.http_error(
            400,
            methods=("sendMessage",),
            chats=tuple(users),
            body=json.dumps(glitch),
            content_type="application/json",
        )
        await admin.tap(preview, "📣 Publish")
        await admin.receive()  # the admin's own card
        notice = await admin.receive(timeout=20)
        assert "Broadcast paused: UA 012/26" in notice.text
        assert "21 recipients in a row got the same answer from Telegram:" in notice.text
        assert "Chat not found" in notice.text
        assert "nobody was marked unreachable" in notice.text
        assert await storage.users.count_reachable_subscribers() == 31

        await admin.send("/broadcasts")
        shown = await admin.receive()
        assert "UA 012/26: paused since" in shown.text and "Seen: BadRequest: Chat not found" in (
            shown.text
        )

        emulator.end_http_error()
        # The next probe finds Telegram back, then the rest is sent: 20 s was too short for
        # it on PostgreSQL under CI's load.
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        assert {uid: cards(user) for uid, user in users.items()} == dict.fromkeys(users, 1)
        report = reports(admin)[0]
        assert "Delivered: 31" in report and "Unreachable: 0" in report
        assert await storage.users.count_reachable_subscribers() == 31


async def test_the_final_report_is_retried_until_it_arrives_even_across_a_restart(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    settings = fast(config)
    async with restart(broadcast=settings):
        users = await subscribers(emulator, range(1, 4))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        await admin.send("/unsubscribe")  # the report is all the admin gets
        await admin.receive()
        preview = await upload(admin, "ua-012-26-1.toml")
        emulator.http_error(502, methods=("sendMessage",), chats=(ADMIN_ID,))
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(
            lambda: all(cards(u) for u in users.values()) and emulator.stats.non_api_answers >= 3,
            timeout=20,
        )
    assert not reports(admin)
    emulator.end_http_error()
    async with restart(broadcast=settings):
        while "Broadcast finished" not in (await admin.receive(timeout=20)).text:
            pass
        await admin.expect_silence(0.5)  # once: the report is marked delivered
    assert len(reports(admin)) == 1
    assert "Delivered: 3" in reports(admin)[0]
    assert {uid: cards(user) for uid, user in users.items()} == dict.fromkeys(users, 1)


async def test_refused_connections_mid_broadcast_lose_nobody(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(broadcast=fast(config, messages_per_second=20)) as app:
        users, admin = await broadcasting(emulator, range(1, 31))
        port = emulator.port
        await emulator.stop()  # nothing listens: connections are refused
        await asyncio.sleep(1.0)  # the outage itself, not a wait for the bot
        await emulator.start(port)
        await emulator.wait_until(lambda: reports(admin), timeout=30)
        counts = {uid: cards(user) for uid, user in users.items()}
        assert all(n >= 1 for n in counts.values()), "nobody is lost"
        # Only a message in flight when the server went away can have been sent twice.
        assert sum(counts.values()) - len(counts) <= app.bot_data.broadcasts.workers
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 31


async def _unfinished(config: Config) -> list[Broadcast]:
    storage = await Storage.open(config.storage.path)
    try:
        return await storage.broadcasts.unfinished()
    finally:
        await storage.close()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "verdict"),
    [
        (403, None, "text/html", Verdict.TRANSIENT),  # a proxy's or firewall's page
        (403, '{"error": "denied"}', "application/json", Verdict.TRANSIENT),  # no description
        (400, None, "text/html", Verdict.TRANSIENT),
        (404, None, "text/html", Verdict.TRANSIENT),
        (502, None, "text/html", Verdict.TRANSIENT),
        (
            500,
            '{"ok":false,"error_code":500,"description":"Internal Server Error"}',
            "application/json",
            Verdict.TRANSIENT,
        ),
        (
            403,
            '{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}',
            "application/json",
            Verdict.UNREACHABLE,
        ),
        (
            403,
            '{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}',
            "application/json",
            Verdict.UNREACHABLE,
        ),
        (
            403,
            '{"ok":false,"error_code":403,'
            '"description":"Forbidden: bot can\'t initiate conversation with a user"}',
            "application/json",
            Verdict.UNREACHABLE,
        ),
        (
            400,
            '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
            "application/json",
            Verdict.UNREACHABLE,
        ),
        (
            400,
            '{"ok":false,"error_code":400,"description":"Bad Request: PEER_ID_INVALID"}',
            "application/json",
            Verdict.UNREACHABLE,
        ),
        (
            400,
            '{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}',
            "application/json",
            Verdict.REFUSED,
        ),
    ],
)
async def test_only_telegrams_own_words_make_someone_unreachable(
    emulator: Emulator,
    bot: Any,
    status: int,
    body: str | None,
    content_type: str,
    verdict: Verdict,
) -> None:
    """The answers as PTB's real request path turns them into errors, read by the classifier."""
    emulator.user(1, started=True)
    emulator.http_error(status, methods=("sendMessage",), body=body, content_type=content_type)
    with pytest.raises(TelegramError) as raised:
        await bot.bot.send_message(1, "hello")
    assert classify(raised.value) is verdict


async def test_a_sigkill_mid_broadcast_repeats_at_most_the_messages_in_flight(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The real ``uabot run`` process, killed with SIGKILL mid-broadcast, then started again."""
    database = tmp_path / "bot.sqlite3"
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        "[telegram]\n"
        f'base_url = "{emulator.base_url}"\n'
        f'base_file_url = "{emulator.base_file_url}"\n'
        f"admins = [{ADMIN_ID}]\n"
        + storage_toml(database)
        # On PostgreSQL the killed instance's claims come back after their lease.
        + "[broadcast]\nmessages_per_second = 20\nclaim_lease_seconds = 2\n",
        encoding="utf-8",
    )
    ids = range(1, 61)
    # Subscribers stored directly: they opened the bot before, so it may write to them.
    users = {uid: emulator.user(uid, started=True) for uid in ids}
    admin = emulator.user(ADMIN_ID, started=True)
    storage = await Storage.open(database)
    try:
        for uid in ids:
            await storage.users.subscribe(uid, "en")
        revision = parse_action(
            (FIXTURES / "ua-012-26-1.toml").read_bytes(),
            source="ua-012-26-1.toml",
            languages=("en", "de", "fr"),
            default_language="en",
        )
        await import_revision(storage, revision, by=None)
        assert await publish(storage, revision.case, revision.revision, ADMIN_ID)
    finally:
        await storage.close()
    emulator.delay("sendMessage", 0.05)  # Telegram's latency: messages are really in flight

    first = await _uabot_run(emulator, config_file)
    try:
        await emulator.wait_until(lambda: sum(map(cards, users.values())) >= 15, timeout=30)
    finally:
        first.kill()
        await first.wait()
    assert sum(map(cards, users.values())) < len(ids), "killed mid-broadcast"

    second = await _uabot_run(emulator, config_file)
    try:
        await emulator.wait_until(lambda: reports(admin), timeout=30)
    finally:
        second.send_signal(signal.SIGINT)
        await asyncio.wait_for(second.communicate(), timeout=30)
    counts = {uid: cards(user) for uid, user in users.items()}
    assert all(n >= 1 for n in counts.values()), "nobody is lost"
    assert sum(counts.values()) - len(ids) <= workers_for(20), counts
    assert "Delivered: 60" in reports(admin)[0]


async def _uabot_run(emulator: Emulator, config_file: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config_file),
        env={**os.environ, "UABOT_TOKEN": emulator.token},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


# -- a slow link: Telegram carries the message out, its answer comes after the read timeout --


def slow_link(config: Config) -> dict[str, Any]:
    """Reads time out after 0.3 s; probes every 0.2 s."""
    return {
        "broadcast": fast(config, messages_per_second=20),
        "telegram": replace(config.telegram, read_timeout=0.3),
    }


def slow_notices(admin: SimUser) -> int:
    return len([m for m in admin.messages if m.text and "link to Telegram is slow" in m.text])


async def test_a_slow_link_sends_each_card_at_most_twice_and_the_report_at_most_twice(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(**slow_link(config)):
        users = await subscribers(emulator, range(1, 16))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        preview = await upload(admin, "ua-012-26-1.toml")
        # Every sendMessage is carried out, its answer comes 1 s later: past the read timeout.
        emulator.answer_late("sendMessage", 1.0)
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        await asyncio.sleep(3)  # time for further copies of the report, if any came
        copies = {uid: cards(user) for uid, user in users.items()}
        assert all(1 <= n <= 2 for n in copies.values()), copies
        assert 1 <= len(reports(admin)) <= 2
        assert slow_notices(admin) == 1, "the admins hear once that the link is slow"
        report = reports(admin)[0]
        assert "Unconfirmed (sent twice, Telegram did not answer):" in report
        assert "Unconfirmed (sent twice, Telegram did not answer): 0" not in report
        assert "Failed: 0" in report and "Unreachable: 0" in report
        # getMe probes the way to Telegram: no message is resent on every probe.
        assert emulator.stats.requests["getMe"] > 1


async def test_after_a_slow_spell_everyone_has_the_card_and_broadcasts_says_what_happened(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(**slow_link(config)) as app:
        users = await subscribers(emulator, range(1, 31))
        admin = await subscriber(emulator, ADMIN_ID, "en")
        preview = await upload(admin, "ua-012-26-1.toml")
        emulator.answer_late("sendMessage", 1.0)
        await admin.tap(preview, "📣 Publish")
        await emulator.wait_until(lambda: slow_notices(admin) == 1, timeout=30)
        engine = app.bot_data.broadcasts
        await emulator.wait_until(
            lambda: any(p.paused_since is not None for p in engine.progress()), timeout=30
        )
        await admin.send("/broadcasts")
        await emulator.wait_until(
            lambda: any(m.text and "Running broadcasts" in m.text for m in admin.messages),
            timeout=30,
        )
        shown = next(m.text for m in admin.messages if m.text and "Running broadcasts" in m.text)
        assert "paused since" in shown
        assert "without Telegram's answer (unconfirmed, sent at most twice)" in shown
        emulator.answer_late("sendMessage", 0)
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        await asyncio.sleep(1)
        copies = {uid: cards(user) for uid, user in users.items()}
        assert all(1 <= n <= 2 for n in copies.values()), copies
        assert len(reports(admin)) == 1
        assert slow_notices(admin) == 1
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 31


async def test_a_frozen_telegram_sends_each_card_at_most_twice(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(**slow_link(config)) as app:
        users, admin = await broadcasting(emulator, range(1, 31))
        emulator.freeze(2.0)  # no answer for 2 s, then the calls made meanwhile are carried out
        await emulator.wait_until(lambda: reports(admin), timeout=60)
        await asyncio.sleep(1)
        copies = {uid: cards(user) for uid, user in users.items()}
        assert all(1 <= n <= 2 for n in copies.values()), copies
        assert 1 <= len(reports(admin)) <= 2
        assert "Failed: 0" in reports(admin)[0]
        assert await app.bot_data.storage.users.count_reachable_subscribers() == 31

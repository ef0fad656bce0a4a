"""Several ``uabot run`` on one PostgreSQL database work as one bot (issue 16 §4, part B):
one instance polls, the others stand by and take over within seconds when it dies; the
scheduled work (a reminder, a group's session) is done once across them.

Real processes against the emulator (tests/fault_servers.py), on the test's PostgreSQL
schema; time is compressed through ``[instances]`` and ``[sessions]``, never by sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import free_port, make_config, postgres_url_for, webhook_keys
from fault_servers import Uabot, assert_clean, forwarding, write_config
from journeys import ADMIN_ID, FIXTURES, publish, subscriber
from transitions import record

from bot.app import build_application, running
from bot.emulator import Emulator, SimGroup
from bot.services import sessions
from bot.services.scheduling import REMINDERS_JOB
from bot.storage import Storage

RETRY = 0.5  # instances.standby_retry_seconds
LEASE = 2.0  # instances.lease_seconds
WAIT = 60.0  # generous: conditions, not speed
LEADER = "polling (leader)"
STANDBY = "standby: another instance polls"
TOOK_OVER = "took over polling"


def instances_config(emulator: Emulator, folder: Path, extra: str = "") -> Path:
    """One config for every instance: the same token, the same database (schema)."""
    return write_config(
        folder,
        emulator.base_url,
        token=emulator.token,
        extra=f'base_file_url = "{emulator.base_file_url}"\nadmins = [{ADMIN_ID}]\n'
        f"[instances]\nstandby_retry_seconds = {RETRY}\nlease_seconds = {LEASE}\n{extra}",
    )


async def until(predicate: Callable[[], object], what: str) -> None:
    """For what the emulator's ``wait_until`` does not hear of (errors, a process's log)."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def conflicts(emulator: Emulator) -> int:
    """getUpdates ended by another's (Telegram's 409 Conflict): two instances polling."""
    return emulator.stats.errors_by_code[409]


@pytest.mark.postgres_only
async def test_one_instance_polls_and_another_takes_over_within_seconds_of_a_sigkill(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = instances_config(emulator, tmp_path)
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        user = emulator.user(41, language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=WAIT)).text
        # Several standby retries later, still one poller: no getUpdates ended another's.
        await second.wait_for("started as @", timeout=WAIT)
        await asyncio.sleep(4 * RETRY)  # a window for a second poller to show: none may
        assert conflicts(emulator) == 0
        assert LEADER not in second.output and TOOK_OVER not in second.output

        killed = time.monotonic()
        await first.kill()  # SIGKILL: its database session ends, its lock with it
        await second.wait_for(TOOK_OVER, timeout=WAIT)
        took_over = time.monotonic() - killed
        other = emulator.user(42, language_code="en")
        await other.send("/start")
        assert "Welcome!" in (await other.receive(timeout=WAIT)).text
        answered = time.monotonic() - killed
        # At most the dead instance's long poll, ended by the new poller's first getUpdates.
        assert conflicts(emulator) <= 1
        print(
            f"\ntakeover after SIGKILL: polling again in {took_over:.2f} s, /start answered "
            f"in {answered:.2f} s; 409s seen: {conflicts(emulator)}"
        )
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
    assert second is not None
    assert_clean(second, emulator.token)
    assert_clean(first, emulator.token)


def current_case(folder: Path) -> bytes:
    """UA 012/26 with a deadline after the processes' today (they run on the real date)."""
    text = (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8")
    deadline = (date.today() + timedelta(days=30)).isoformat()
    issued = (date.today() - timedelta(days=3)).isoformat()
    text = text.replace("deadline = 2026-03-03", f"deadline = {deadline}")
    text = text.replace("issued = 2026-01-20", f"issued = {issued}")
    return text.encode()


def thanks(group: SimGroup) -> list[str]:
    return [m.text for m in group.messages if (m.text or "").startswith("🙏")]


@pytest.mark.postgres_only
async def test_a_session_of_a_killed_instance_ends_once_on_the_other(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The session runs on the instance that started it; SIGKILLed, the other instance takes
    its claim after the lease and ends it: the result shown, unpinned, one thank-you."""
    emulator.set_group_limit(20, 1.0)  # Telegram's 20 a minute, with the session's minute
    config = instances_config(emulator, tmp_path, "[sessions]\nminute_seconds = 1\n")
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        admin = emulator.user(ADMIN_ID, language_code="en")
        await admin.upload("ua-012-26-1.toml", current_case(tmp_path), "application/toml")
        preview = await admin.receive(timeout=WAIT)
        assert (await admin.tap(preview, "📣 Publish")).text in ("", None)
        await admin.receive(timeout=WAIT)  # the broadcast's report

        ada = emulator.user(51, "Ada", language_code="de")
        bo = await subscriber(emulator, 52, "de")
        group = emulator.group("Local group", members=[bo], admins=[ada])
        group.add_bot(admin=True)
        await group.receive(timeout=WAIT)  # the bot introduces itself
        # 20 session minutes of a second: long past the kill on any machine.
        await group.send(ada, "/session UA 012/26 20")
        await emulator.wait_until(lambda: group.pinned is not None, WAIT, "not pinned")
        session_message = group.pinned
        assert session_message is not None and not thanks(group)
        # The pin recorded (a kill between Telegram's pin and its record would leave the
        # message pinned: that is what the first instance had in flight).
        storage = await Storage.open(tmp_path / "bot.sqlite3")
        try:
            for _ in range(int(WAIT / 0.1)):
                (running,) = await storage.sessions.all_running()
                if running.pinned:
                    break
                await asyncio.sleep(0.1)
            assert running.pinned
        finally:
            await storage.close()

        await first.kill()
        await second.wait_for(TOOK_OVER, timeout=WAIT)
        await emulator.wait_until(lambda: thanks(group), WAIT + 20, "no thank-you")
        await asyncio.sleep(4 * LEASE)  # the claims renewed and looked at again: nothing more
        assert len(thanks(group)) == 1, thanks(group)
        assert group.pinned is None
        ended = next(m for m in group.messages if m.message_id == session_message.message_id)
        assert "Schreibtreffen beendet" in ended.text
        assert emulator.stats.too_many_requests == 0
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
    assert second is not None
    assert_clean(second, emulator.token)


@pytest.mark.postgres_only
async def test_a_reminder_due_while_two_instances_run_is_sent_once(
    emulator: Emulator, restart: Any
) -> None:
    """Two bots on one database run their reminder jobs at the same moment: one sends."""
    async with restart() as first, restart() as second:
        admin = emulator.user(ADMIN_ID)
        await publish(admin, "ua-012-26-1.toml")
        await admin.receive()
        reader = await subscriber(emulator, 61, "en")
        await reader.send("/actions")
        listing = await reader.receive()
        await reader.tap(listing, listing.buttons[0][0].text)
        await reader.receive()  # the card: now interested
        for app in (first, second):  # the deadline is close on both
            app.bot_data.today = lambda: date(2026, 3, 1)
        runs = [(app.job_queue.get_jobs_by_name(REMINDERS_JOB)[0], app) for app in (first, second)]
        for _ in range(2):  # at the same moment on both, twice
            await asyncio.gather(*(job.run(app) for job, app in runs))
        await emulator.wait_until(
            lambda: any("Reminder:" in (m.text or "") for m in reader.messages), 30, "none"
        )
        await asyncio.sleep(0.5)  # a second reminder on its way would arrive by now
    assert len([m for m in reader.messages if "Reminder:" in (m.text or "")]) == 1


@pytest.mark.postgres_only
async def test_a_leader_cut_off_from_the_database_stops_polling(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The leader's own database session ends (here: terminated by the server; in life, a
    network cut that the keepalives notice): it stops polling, and one instance polls on."""
    import psycopg  # the postgres extra: only where this test runs

    from bot.storage.postgres import POLLER_LOCK

    config = instances_config(emulator, tmp_path)
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        with psycopg.connect(postgres_url_for(tmp_path / "bot.sqlite3"), autocommit=True) as db:
            ended = db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = %s AND granted"  # this test's schema: not other tests' bots
                " AND objid::bigint = (hashtext(current_schema())::bigint & 4294967295)",
                (POLLER_LOCK,),
            ).fetchall()
        assert ended == [(True,)]
        await first.wait_for("lost the database connection: stopped polling", timeout=WAIT)
        # Whoever takes the lock first polls (the standby, or the first one back).
        await until(lambda: TOOK_OVER in first.output + second.output, "nobody polls")
        user = emulator.user(43, language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=WAIT)).text
        await asyncio.sleep(4 * RETRY)
        assert (first.output + second.output).count(TOOK_OVER) == 1
        assert conflicts(emulator) <= 1  # the stopped poller's last long poll at most
        assert await first.interrupt() == 0
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
    assert_clean(first, emulator.token)
    assert second is not None
    assert_clean(second, emulator.token)


@pytest.mark.postgres_only
async def test_a_leader_cut_off_from_telegram_hands_polling_to_a_standby(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The leader's route to Telegram is gone, its database fine: it keeps the poller lock
    no longer than a few leases, and the standby, which reaches Telegram, polls."""
    database = tmp_path / "bot.sqlite3"
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    async with forwarding(emulator.base_url) as (through, cut):
        configs = [
            write_config(
                folder,
                url,
                token=emulator.token,
                db=database,
                extra=f'base_file_url = "{emulator.base_file_url}"\n'
                f"[instances]\nstandby_retry_seconds = {RETRY}\nlease_seconds = {LEASE}\n",
            )
            for folder, url in zip(folders, (through, emulator.base_url), strict=True)
        ]
        first = await Uabot.start(configs[0])
        second: Uabot | None = None
        try:
            await first.wait_for(LEADER, timeout=WAIT)
            second = await Uabot.start(configs[1])
            await second.wait_for(STANDBY, timeout=WAIT)
            cut.set()
            await first.wait_for("Telegram unreachable from here", timeout=WAIT)
            await second.wait_for(TOOK_OVER, timeout=WAIT)
            user = emulator.user(45, language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive(timeout=WAIT)).text
            assert TOOK_OVER not in first.output  # it rests while the other polls
            assert await second.interrupt() == 0
            assert await first.interrupt() == 0
        finally:
            await first.kill()
            if second is not None:
                await second.kill()
    assert_clean(first, emulator.token)
    assert second is not None
    assert_clean(second, emulator.token)


@pytest.mark.postgres_only
async def test_an_instance_that_stops_leaves_the_webhook_to_the_others(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Webhook mode behind one URL: each instance sets the same webhook at its start, and
    one that stops does not delete it while another still serves it."""
    public = webhook_keys()  # the one URL (the first instance's port stands in for a proxy)
    uabots: list[Uabot] = []
    try:
        for n, listen in enumerate((public["listen"], f"127.0.0.1:{free_port()}")):
            folder = tmp_path / f"instance{n}"
            folder.mkdir()
            extra = (
                f'base_file_url = "{emulator.base_file_url}"\nmode = "webhook"\n'
                f'webhook_url = "{public["webhook_url"]}"\nlisten = "{listen}"\n'
                f'secret_token = "{public["secret_token"]}"\n'
            )
            config = write_config(
                folder,
                emulator.base_url,
                token=emulator.token,
                extra=extra,
                db=tmp_path / "bot.sqlite3",
            )
            uabots.append(await Uabot.start(config))
            await uabots[-1].wait_for("started as @", timeout=WAIT)
        assert emulator.stats.requests["setWebhook"] >= 2  # each start: the same webhook
        assert await uabots[1].interrupt() == 0
        assert emulator.webhook.info()["url"] == public["webhook_url"]
        user = emulator.user(44, language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=WAIT)).text
        assert await uabots[0].interrupt() == 0
    finally:
        for uabot in uabots:
            await uabot.kill()
    for uabot in uabots:
        assert_clean(uabot, emulator.token)


@pytest.mark.postgres_only
async def test_migrate_refuses_while_instances_run_on_postgresql(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A migration under running (older) instances would change the tables beneath their
    queries: ``uabot migrate`` sees them (the poller lock, their live claims) and refuses."""
    config = instances_config(emulator, tmp_path)
    polling = await Uabot.start(config)
    try:
        await polling.wait_for(LEADER, timeout=WAIT)
        migrate = await Uabot.start(config, command="migrate")
        assert await migrate.finish(timeout=WAIT) == 2
        assert "uabot instances are running on this database" in migrate.output
        assert await polling.interrupt() == 0
    finally:
        await polling.kill()
    after = await Uabot.start(config, command="migrate")
    assert await after.finish(timeout=WAIT) == 0
    assert "schema version" in after.output
    assert_clean(polling, emulator.token)


@pytest.mark.postgres_only
async def test_doctor_takes_the_metrics_port_of_a_running_instance_as_ok(
    emulator: Emulator, tmp_path: Path
) -> None:
    """``uabot doctor`` beside a running instance on PostgreSQL: its metrics port in use is
    no problem to fix (SQLite's lock holder names the pid; here the live instances tell)."""
    port = free_port()
    config = instances_config(emulator, tmp_path, f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    polling = await Uabot.start(config)
    try:
        await polling.wait_for(LEADER, timeout=WAIT)
        doctor = await Uabot.start(config, command="doctor")
        await doctor.finish(timeout=WAIT)
        assert f"ok       metrics: 127.0.0.1:{port} is in use (by a running uabot?)" in (
            doctor.output
        ), doctor.output
        assert await polling.interrupt() == 0
    finally:
        await polling.kill()
    assert_clean(polling, emulator.token)


def webhook_instance(
    emulator: Emulator, tmp_path: Path, name: str, public: dict[str, str], secret: str = ""
) -> Path:
    """An instance's config behind the one ``public`` webhook URL, on the test's database."""
    folder = tmp_path / name
    folder.mkdir()
    extra = (
        f'base_file_url = "{emulator.base_file_url}"\nmode = "webhook"\n'
        f'webhook_url = "{public["webhook_url"]}"\nlisten = "127.0.0.1:{free_port()}"\n'
        f'secret_token = "{secret or public["secret_token"]}"\n'
    )
    return write_config(
        folder, emulator.base_url, token=emulator.token, extra=extra, db=tmp_path / "bot.sqlite3"
    )


@pytest.mark.postgres_only
async def test_an_instance_that_receives_updates_otherwise_than_the_running_ones_refuses(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A polling start on a database whose instances serve a webhook would delete their
    webhook; a webhook with another secret would make Telegram's posts 403 on half of them:
    each refuses with one line, and the webhook stays."""
    public = webhook_keys()
    running_one = await Uabot.start(webhook_instance(emulator, tmp_path, "a", public))
    try:
        await running_one.wait_for("started as @", timeout=WAIT)
        (tmp_path / "p").mkdir()
        polling = await Uabot.start(
            write_config(
                tmp_path / "p",
                emulator.base_url,
                token=emulator.token,
                db=tmp_path / "bot.sqlite3",
            )
        )
        assert await polling.finish(timeout=WAIT) == 2
        assert "another instance on this database runs in webhook mode" in polling.output
        other = await Uabot.start(
            webhook_instance(emulator, tmp_path, "b", public, secret="another-secret-token-1")
        )
        assert await other.finish(timeout=WAIT) == 2
        assert "set token, webhook_url and secret_token the same" in other.output
        assert "another-secret-token-1" not in other.output
        assert emulator.stats.requests["deleteWebhook"] == 0
        assert emulator.webhook.info()["url"] == public["webhook_url"]
        same = await Uabot.start(webhook_instance(emulator, tmp_path, "c", public))
        await same.wait_for("started as @", timeout=WAIT)  # the same webhook: welcome
        assert await same.interrupt() == 0
        assert await running_one.interrupt() == 0
    finally:
        await running_one.kill()
    for uabot in (running_one, polling, other, same):
        assert_clean(uabot, emulator.token, public["secret_token"])


async def test_posts_with_a_wrong_secret_are_counted_in_one_line_a_minute(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Telegram posting with another instance's secret gets 403 from PTB's server: the
    operator reads one line (not one per post, never the secret)."""
    public = webhook_keys()
    config = write_config(
        tmp_path,
        emulator.base_url,
        token=emulator.token,
        extra=f'base_file_url = "{emulator.base_file_url}"\nmode = "webhook"\n'
        f'webhook_url = "{public["webhook_url"]}"\nlisten = "{public["listen"]}"\n'
        f'secret_token = "{public["secret_token"]}"\n',
    )
    uabot = await Uabot.start(config)
    try:
        await uabot.wait_for("started as @", timeout=WAIT)
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.post(
                    public["webhook_url"],
                    json=start_update(1, 46),
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-token-2"},
                ) as answer:
                    assert answer.status == 403
        await uabot.wait_for("1 post(s) refused (403) for a missing or wrong secret token")
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    assert uabot.output.count("refused (403)") == 1
    assert "wrong-secret-token-2" not in uabot.output
    assert_clean(uabot, emulator.token, public["secret_token"])


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": "/start",
        },
    }


@pytest.mark.polling
async def test_two_bots_polling_one_token_get_409s_without_crashing_or_spinning(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two bots on separate databases poll with one token (the operator's mistake, or two
    instances without the poller lock): Telegram ends one long poll for the other (409).
    Each is a passing error, waited out with PTB's back-off: no crash, no storm."""
    apps = [
        record(build_application(make_config(emulator, tmp_path / f"bot{n}.sqlite3")))
        for n in (1, 2)
    ]
    async with running(apps[0], poll_timeout=1), running(apps[1], poll_timeout=1):
        await until(lambda: conflicts(emulator) >= 2, "no 409")
        seen = conflicts(emulator)
        await asyncio.sleep(3)  # without a back-off, thousands of 409s in this time
        assert all(app.updater is not None and app.updater.running for app in apps)
        assert conflicts(emulator) - seen < 30
    assert "another copy of the bot is polling with this token" in caplog.text


@pytest.mark.polling
async def test_polling_while_a_webhook_is_set_blames_the_webhook_not_another_copy(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram's 409 "webhook is active" is no second poller: its own line says the fix."""
    app = record(build_application(make_config(emulator, tmp_path / "bot.sqlite3")))
    async with running(app, poll_timeout=1):
        emulator.webhook.set({"url": f"http://127.0.0.1:{free_port()}/telegram"})
        await until(lambda: "while a webhook is set (409)" in caplog.text, "no 409 line")
        emulator.webhook.set({"url": ""})
    assert "another copy of the bot" not in caplog.text


@pytest.mark.postgres_only
async def test_a_standby_instance_is_healthy_while_another_polls(
    emulator: Emulator, tmp_path: Path
) -> None:
    """/healthz of a standby: its silence (no getUpdates of its own) is no fault, or an
    orchestrator would restart it again and again."""
    config = make_config(
        emulator,
        tmp_path / "uabot.sqlite3",
        metrics={"listen": "127.0.0.1:0", "stale_after_seconds": 3},
        instances={"standby_retry_seconds": RETRY},
    )
    async with (
        running(record(build_application(config)), poll_timeout=1) as first,
        running(record(build_application(config)), poll_timeout=1) as second,
    ):
        assert first.updater is not None and first.updater.running
        assert second.updater is not None and not second.updater.running  # standby
        await asyncio.sleep(4)  # past stale_after: a poller that never answered is stale
        for app in (first, second):
            port = app.bot_data.metrics_server.port
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                assert response.status == 200, await response.text()
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/metrics") as response,
            ):
                leader = 1 if app is first else 0  # which instance polls, on every scrape
                assert f"\nuabot_poller_leader {leader}.0\n" in await response.text()


@pytest.mark.postgres_only
async def test_the_standbys_start_line_does_not_say_it_polls(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = instances_config(emulator, tmp_path)
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for("started as @", timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for("started as @", timeout=WAIT)
        assert "(long polling)" in first.output
        started = next(line for line in second.err if "started as @" in line)
        assert "(standby: polling mode, another instance polls)" in started
        assert await second.interrupt() == 0
        assert await first.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()


@pytest.mark.postgres_only
async def test_a_frozen_leader_is_taken_over_within_the_lease(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The leader's process stops running but its sockets live (SIGSTOP; in life a paused or
    migrating VM, a blocked loop): its kernel answers the keepalives, so only the server's
    ``idle_session_timeout`` (the lease) ends its lock session. Back, it stops polling."""
    import os
    import signal

    config = instances_config(emulator, tmp_path)
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        frozen = time.monotonic()
        os.kill(first.process.pid, signal.SIGSTOP)
        try:
            await second.wait_for(TOOK_OVER, timeout=WAIT)
            took_over = time.monotonic() - frozen
            user = emulator.user(46, language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive(timeout=WAIT)).text
        finally:
            os.kill(first.process.pid, signal.SIGCONT)
        await first.wait_for("stopped polling", timeout=WAIT)
        other = emulator.user(47, language_code="en")
        await other.send("/start")
        assert "Welcome!" in (await other.receive(timeout=WAIT)).text
        print(f"\ntakeover after a freeze: {took_over:.2f} s (lease {LEASE} s)")
        assert TOOK_OVER not in first.output
        assert await first.interrupt() == 0
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()


@pytest.mark.postgres_only
async def test_a_session_of_an_instance_paused_past_the_lease_thanks_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    import os
    import signal

    """The instance running a session pauses (SIGSTOP: a paused VM, a blocked loop) right
    after the unpin, its thank-you due: the other takes the claim after the lease and thanks
    the group. Back, the paused one finds its claim lost: no second thank-you."""
    emulator.set_group_limit(20, 1.0)  # Telegram's 20 a minute, with the session's minute
    config = instances_config(emulator, tmp_path, "[sessions]\nminute_seconds = 1\n")
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        admin = emulator.user(ADMIN_ID, language_code="en")
        await admin.upload("ua-012-26-1.toml", current_case(tmp_path), "application/toml")
        preview = await admin.receive(timeout=WAIT)
        assert (await admin.tap(preview, "📣 Publish")).text in ("", None)
        await admin.receive(timeout=WAIT)  # the broadcast's report

        ada = emulator.user(51, "Ada", language_code="de")
        bo = await subscriber(emulator, 52, "de")
        group = emulator.group("Local group", members=[bo], admins=[ada])
        group.add_bot(admin=True)
        await group.receive(timeout=WAIT)  # the bot introduces itself
        # 20 session minutes of a second: long past the kill on any machine.
        await group.send(ada, "/session UA 012/26 5")
        await emulator.wait_until(lambda: group.pinned is not None, WAIT, "not pinned")
        session_message = group.pinned
        assert session_message is not None and not thanks(group)
        # The pin recorded (a kill between Telegram's pin and its record would leave the
        # message pinned: that is what the first instance had in flight).
        storage = await Storage.open(tmp_path / "bot.sqlite3")
        try:
            for _ in range(int(WAIT / 0.1)):
                (running,) = await storage.sessions.all_running()
                if running.pinned:
                    break
                await asyncio.sleep(0.1)
            assert running.pinned
        finally:
            await storage.close()

        # The session ends on the first instance: result shown, unpinned; its thank-you is
        # due at the group's next slot. Right then the process pauses (SIGSTOP: a VM paused,
        # a blocked loop) for a few leases, then goes on.
        await emulator.wait_until(lambda: group.pinned is None, WAIT, "not unpinned")
        os.kill(first.process.pid, signal.SIGSTOP)
        try:
            # Closed by one of them: the other instance (after the lease), or the paused
            # one just before its pause (then its thank-you comes when it is back).
            storage = await Storage.open(tmp_path / "bot.sqlite3")
            try:
                for _ in range(int(WAIT / 0.1)):
                    if not await sessions.closing(storage):
                        break
                    await asyncio.sleep(0.1)
                assert not await sessions.closing(storage)
            finally:
                await storage.close()
        finally:
            os.kill(first.process.pid, signal.SIGCONT)
        await first.wait_for("stopped polling", timeout=WAIT)  # it runs again
        await emulator.wait_until(lambda: thanks(group), WAIT, "no thank-you")
        await asyncio.sleep(4 * LEASE)  # its own jobs, due long ago, run now: none may thank
        assert len(thanks(group)) == 1, thanks(group)
        assert group.pinned is None
        ended = next(m for m in group.messages if m.message_id == session_message.message_id)
        assert "Schreibtreffen beendet" in ended.text
        assert emulator.stats.too_many_requests == 0
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
    assert second is not None
    assert_clean(second, emulator.token)


@pytest.mark.postgres_only
async def test_claims_run_on_the_databases_clock_not_the_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances whose machines' clocks differ by more than the lease (no NTP, a VM
    resumed): the one ahead must not take a claim the other holds and renews."""
    url = postgres_url_for(tmp_path / "bot.sqlite3")
    a, b = await Storage.open(url), await Storage.open(url)
    try:
        a.claims.lease = b.claims.lease = 15.0
        assert await a.claims.take("run-feed", again=True)
        await a.claims.renew()
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 20.0)  # B's clock, ahead
        assert not await b.claims.take("run-feed", again=True)
        assert await a.claims.take("run-feed", again=True)  # A keeps its own
        monkeypatch.setattr(time, "time", lambda: real() - 20.0)  # A's clock, behind
        await a.claims.renew()
        assert not await b.claims.take("run-feed", again=True)
        await a.claims.let_go()
        assert await b.claims.take("run-feed", again=True)
    finally:
        await a.close()
        await b.close()


@pytest.mark.postgres_only
async def test_a_stopping_leader_lets_go_of_polling_before_its_replies_finish(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A routine restart (SIGTERM) of the leader while a reply is slow: it stops polling at
    once and lets go of the poller lock then, not after the replies (up to 10 s): the
    standby polls while the old leader is still finishing."""
    import os
    import signal

    # A lease longer than the reply: the server's idle_session_timeout does not end the
    # lock's session first.
    config = write_config(
        tmp_path,
        emulator.base_url,
        token=emulator.token,
        extra=f'base_file_url = "{emulator.base_file_url}"\nadmins = [{ADMIN_ID}]\n'
        f"[instances]\nstandby_retry_seconds = {RETRY}\nlease_seconds = 30\n",
    )
    first = await Uabot.start(config)
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(config)
        await second.wait_for(STANDBY, timeout=WAIT)
        asked, sent = emulator.stats.requests["sendMessage"], emulator.stats.sent_messages
        # A slow reply (within the bot's read timeout): the stop waits for it.
        emulator.delay("sendMessage", 4.5)
        await emulator.user(48, language_code="en").send("/start")
        await until(lambda: emulator.stats.requests["sendMessage"] > asked, "no reply on its way")
        os.kill(first.process.pid, signal.SIGTERM)
        await second.wait_for(TOOK_OVER, timeout=WAIT)
        assert emulator.stats.sent_messages == sent, "the lock was held until the reply"
        emulator.delay("sendMessage", 0)
        assert await first.interrupt() == 0
        assert await second.interrupt() == 0
    finally:
        await first.kill()
        if second is not None:
            await second.kill()


class FreezingProxy:
    """A TCP path to PostgreSQL that can go silent (a partition): ``freeze`` stops forwarding
    both ways and closes nothing, as a cut between the leader and the server does."""

    def __init__(self, upstream: dict[str, Any]) -> None:
        self.upstream = upstream
        self.frozen = asyncio.Event()
        self.port = free_port()
        self._tasks: list[asyncio.Task[Any]] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def close(self) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.sleep(0)  # the aborted transports' callbacks

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        self._writers.append(writer)
        host, port = self.upstream.get("host") or "/tmp", self.upstream.get("port") or 5432
        if host.startswith("/"):
            up_r, up_w = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        else:
            up_r, up_w = await asyncio.open_connection(host, int(port))
        self._writers.append(up_w)

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if self.frozen.is_set():
                    await asyncio.Event().wait()  # silent: nothing through, nothing closed
                target.write(data)
                await target.drain()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer), return_exceptions=True)


@pytest.mark.postgres_only
async def test_a_leader_cut_off_silently_stops_polling_before_the_standby_takes_over(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A partition between the leader and the database (no close, no error: silence): the
    server ends the quiet lock session after the lease; the leader's check (the lock in
    pg_locks, a third of a lease to answer) gives up before that, so the two never poll at
    once."""
    import psycopg.conninfo

    direct = postgres_url_for(tmp_path / "bot.sqlite3")
    parts = psycopg.conninfo.conninfo_to_dict(direct)
    proxy = FreezingProxy(parts)
    await proxy.start()
    password = f":{parts['password']}" if parts.get("password") else ""
    options = direct.split("options=")[1]
    via_proxy = (
        f"postgresql://{parts.get('user', '')}{password}@127.0.0.1:{proxy.port}"
        f"/{parts.get('dbname', '')}?options={options}"
    )
    folders = [tmp_path / "a", tmp_path / "b"]
    configs = []
    for folder, url in zip(folders, (via_proxy, direct), strict=True):
        folder.mkdir()
        path = instances_config(emulator, folder)
        text = path.read_text()
        start = text.index('url = "postgresql')
        path.write_text(text[:start] + f'url = "{url}"' + text[text.index("\n", start) :])
        configs.append(path)
    first = await Uabot.start(configs[0])
    second: Uabot | None = None
    try:
        await first.wait_for(LEADER, timeout=WAIT)
        second = await Uabot.start(configs[1])
        await second.wait_for(STANDBY, timeout=WAIT)
        proxy.frozen.set()
        await second.wait_for(TOOK_OVER, timeout=WAIT)
        stopped = "stopped polling" in first.output
        user = emulator.user(49, language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=WAIT)).text
        assert stopped, "the standby polled while the old leader still did"
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
        await proxy.close()

"""The operator's /healthz and /metrics ([metrics] listen), scraped from the running bot."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import FIXTURES, make_config, webhook_keys
from fault_servers import TOKEN, Uabot, assert_clean, write_config
from journeys import ADMIN_ID, publish, subscriber
from prometheus_client.parser import text_string_to_metric_families
from test_scheduling import run_job
from transitions import record

from bot import __version__
from bot.app import ALLOWED_UPDATES, build_application, running
from bot.config import ConfigError, parse_config
from bot.emulator import Emulator
from bot.metrics import FEED_POLL_RESULTS
from bot.services.scheduling import BACKUP_JOB, FEED_JOB
from bot.storage import Outcome

# Every label value the counters know from the start (zero until their first event).
KNOWN_LABELS = {
    *ALLOWED_UPDATES,
    "other",
    *(outcome.name.lower() for outcome in Outcome if outcome is not Outcome.PENDING),
    *FEED_POLL_RESULTS,
}
# Long polls answer within a second (poll_timeout=1); this leaves a loaded machine room.
STALE_AFTER = 4


async def get(app: Any, path: str) -> tuple[int, str]:
    port = app.bot_data.metrics_server.port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of the exposition, parsed by prometheus-client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def health_becomes(app: Any, status: int) -> str:
    """What /healthz says once it answers ``status`` (generous: the machine may be slow)."""
    deadline = time.monotonic() + 30
    while True:
        got, text = await get(app, "/healthz")
        if got == status:
            return text
        assert time.monotonic() < deadline, f"/healthz stayed {got}: {text}"
        await asyncio.sleep(0.2)


async def scraped_once(app: Any, ready: Callable[[Samples], bool]) -> Samples:
    """/metrics once ``ready`` holds of its samples (generous: the machine may be slow). An
    update is counted when its handler returns, which is after its reply reached the user."""
    deadline = time.monotonic() + 30
    while True:
        status, text = await get(app, "/metrics")
        assert status == 200, text
        values = samples(text)
        if ready(values):
            return values
        assert time.monotonic() < deadline, f"/metrics not there within 30 s:\n{text}"
        await asyncio.sleep(0.1)


@pytest.fixture
def metrics_config(emulator: Emulator, tmp_path: Path) -> Any:
    return make_config(
        emulator,
        tmp_path / "uabot.sqlite3",
        metrics={"listen": "127.0.0.1:0", "stale_after_seconds": STALE_AFTER},
    )


async def test_metrics_count_updates_broadcasts_letters_and_read_the_database(
    emulator: Emulator, metrics_config: Any
) -> None:
    async with running(record(build_application(metrics_config)), poll_timeout=1) as app:
        english = await subscriber(emulator, 1, "en")
        german = await subscriber(emulator, 2, "de")
        await subscriber(emulator, 3, "fr")
        admin = await subscriber(emulator, ADMIN_ID, "en")
        emulator.block(3)
        # One 429 while the broadcast goes out: the limiter waits it out and counts it.
        emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await publish(admin, "ua-012-26-1.toml")
        card = await english.receive()
        await german.receive()
        await admin.receive()  # the admin's own card
        assert "Broadcast finished" in (await admin.receive()).text
        assert "Thank you" in (await english.tap(card, "✅ I sent it")).text

        def of(values: Samples, name: str, **labels: str) -> float:
            return values.get((name, tuple(sorted(labels.items()))), 0.0)

        # Every update handled (the tap's handler returns after its reply): then, exactly.
        values = await scraped_once(
            app, lambda got: of(got, "uabot_reply_latency_seconds_count") >= 7
        )

        def value(name: str, **labels: str) -> float:
            return of(values, name, **labels)

        # /start ×4 and the upload are messages; Publish and "I sent it" are callback queries.
        assert value("uabot_updates_total", kind="message") == 5
        assert value("uabot_updates_total", kind="callback_query") == 2
        assert value("uabot_reply_latency_seconds_count") == 7
        assert value("uabot_reply_latency_seconds_sum") > 0
        assert value("uabot_broadcast_messages_total", outcome="delivered") == 3
        assert value("uabot_broadcast_messages_total", outcome="unreachable") == 1
        assert value("uabot_telegram_429_total") == 1
        assert value("uabot_outbox_pending") == 0
        assert value("uabot_subscribers", language="en") == 2  # the blocked French one is not
        assert value("uabot_subscribers", language="de") == 1
        assert value("uabot_subscribers", language="fr") == 0
        assert value("uabot_letters_confirmed_total") == 1
        assert ("uabot_feed_problems_total", ()) in values
        # No user id, name or text in any label.
        labels = {v for (_name, pairs) in values for (_k, v) in pairs}
        assert not labels & {"1", "2", "3", str(ADMIN_ID), "User1", "User2"}, labels
        assert labels <= KNOWN_LABELS | {"en", "de", "+Inf", __version__} | {
            label for label in labels if label.replace(".", "").isdigit()
        }, labels


@pytest.mark.polling
async def test_healthz_says_why_when_polling_stalls_or_the_database_is_gone(
    emulator: Emulator, metrics_config: Any
) -> None:
    async with running(record(build_application(metrics_config)), poll_timeout=1) as app:
        assert await health_becomes(app, 200) == "ok\n"
        # A proxy answers every long poll with its error page: no updates come in.
        emulator.http_error(502, methods=("getUpdates",))
        reason = await health_becomes(app, 503)
        assert "no updates received: Telegram's getUpdates has not answered for" in reason
        emulator.end_http_error()
        assert await health_becomes(app, 200) == "ok\n"

        await app.bot_data.storage.db.close()
        reason = await health_becomes(app, 503)
        assert "the database does not answer" in reason
        assert (await get(app, "/metrics"))[0] == 503


async def test_in_webhook_mode_silence_is_healthy_while_the_webhook_server_runs(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Telegram posts only when someone writes: no update for longer than stale_after is
    no fault in webhook mode (it is with long polling, whose polls answer even when idle)."""
    config = make_config(
        emulator,
        tmp_path / "uabot.sqlite3",
        telegram=webhook_keys(),
        metrics={"listen": "127.0.0.1:0", "stale_after_seconds": 0.5},
    )
    async with running(record(build_application(config))) as app:
        assert await health_becomes(app, 200) == "ok\n"
        await asyncio.sleep(1.5)  # three times stale_after, without a single update
        assert await get(app, "/healthz") == (200, "ok\n")
        assert app.updater is not None
        await app.updater.stop()  # the webhook server is gone
        assert "the webhook server is not running" in await health_becomes(app, 503)


async def test_metrics_are_off_by_default_and_listen_is_checked(config: Any) -> None:
    assert config.metrics.listen is None
    assert build_application(config).bot_data.metrics_server is None
    with pytest.raises(ConfigError, match=r"metrics.listen 'localhost' must be host:port"):
        parse_config({"telegram": {"token": "1:x"}, "metrics": {"listen": "localhost"}}, {})


async def test_metrics_count_feed_polls_and_the_files_with_problems(
    emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "feed"
    source.mkdir()
    (source / "broken.toml").write_bytes((FIXTURES / "actions" / "broken.toml").read_bytes())
    config = make_config(
        emulator,
        tmp_path / "uabot.sqlite3",
        metrics={"listen": "127.0.0.1:0"},
        feed={"source": str(source)},
    )
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    async with running(record(build_application(config)), poll_timeout=1) as app:
        await run_job(app, FEED_JOB)
        assert "broken.toml" in (await admin.receive()).text
        await run_job(app, FEED_JOB)  # nothing new: a poll, no new problem
        values = samples((await get(app, "/metrics"))[1])
    assert values[("uabot_feed_polls_total", (("result", "ok"),))] == 2
    assert values[("uabot_feed_problems_total", ())] == 1


async def test_a_metrics_port_in_use_stops_the_start_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with Emulator(token=TOKEN) as emulator:
            config = write_config(
                tmp_path, emulator.base_url, extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n'
            )
            uabot = await Uabot.start(config)
            try:
                status = await uabot.finish()
            finally:
                await uabot.kill()
    assert status == 2, uabot.output
    assert f"uabot: metrics.listen 127.0.0.1:{port} cannot be served (" in uabot.output
    assert "pick another port, or stop what uses it" in uabot.output
    assert_clean(uabot)


@pytest.mark.sqlite_only  # the SQLite file deleted or locked
async def test_healthz_fails_when_the_database_file_is_deleted_or_its_writes_are_locked(
    emulator: Emulator, metrics_config: Any
) -> None:
    path = metrics_config.storage.path
    async with running(record(build_application(metrics_config)), poll_timeout=1) as app:
        assert await health_becomes(app, 200) == "ok\n"
        # Another program holds the write lock: the bot could not save anything.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        assert "database is locked" in await health_becomes(app, 503)
        other.execute("ROLLBACK")
        other.close()
        assert await health_becomes(app, 200) == "ok\n"

        moved = path.with_name("elsewhere.sqlite3")
        path.rename(moved)  # deleted or moved away: the bot writes a file no one will open
        reason = await health_becomes(app, 503)
        assert f"the database is unusable: {path} was deleted while the bot runs" in reason
        moved.rename(path)
        assert await health_becomes(app, 200) == "ok\n"


async def test_alerts_see_every_known_series_at_zero_and_the_version_from_the_start(
    emulator: Emulator, metrics_config: Any
) -> None:
    """``rate()``/``increase()`` of a series that does not exist yet is no alert at all: the
    known kinds, outcomes and poll results are there at 0 before their first event."""
    async with running(record(build_application(metrics_config)), poll_timeout=1) as app:
        status, text = await get(app, "/metrics")
    assert status == 200
    values = samples(text)
    for kind in (*ALLOWED_UPDATES, "other"):
        assert values[("uabot_updates_total", (("kind", kind),))] == 0
    for outcome in ("delivered", "unreachable", "failed", "skipped", "unconfirmed"):
        assert values[("uabot_broadcast_messages_total", (("outcome", outcome),))] == 0
    for result in ("ok", "unavailable"):
        assert values[("uabot_feed_polls_total", (("result", result),))] == 0
    assert values[("uabot_build_info", (("version", __version__),))] == 1
    assert values[("uabot_last_backup_timestamp_seconds", ())] == 0
    assert values[("uabot_backup_failures_total", ())] == 0


async def test_failing_backups_are_counted_and_the_admins_told_once_at_the_third(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A backup job that fails (a full disk, a folder the service may not write) was only a
    warning in the log: /metrics counts it, the admins hear of it once, and a backup taken
    again sets the time an alert watches."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    db = tmp_path / "uabot.sqlite3"
    listen = {"listen": "127.0.0.1:0", "stale_after_seconds": STALE_AFTER}
    failing = make_config(
        emulator, db, metrics=listen, backup={"every_hours": 24, "folder": str(blocker / "b")}
    )
    async with running(record(build_application(failing)), poll_timeout=1) as app:
        admin = await subscriber(emulator, ADMIN_ID, "de")
        for _ in range(4):
            await run_job(app, BACKUP_JOB)
        told = await admin.receive()
        assert "Die automatische Sicherung ist 3-mal hintereinander fehlgeschlagen" in told.text
        assert str(blocker / "b") in told.text
        values = samples((await get(app, "/metrics"))[1])
        assert values[("uabot_backup_failures_total", ())] == 4
        assert values[("uabot_last_backup_timestamp_seconds", ())] == 0
        await admin.expect_silence()  # once, not at each failure after the third
    working = replace(failing, backup=replace(failing.backup, folder=tmp_path / "backups"))
    async with running(record(build_application(working)), poll_timeout=1) as app:
        before = time.time()
        await run_job(app, BACKUP_JOB)
        values = samples((await get(app, "/metrics"))[1])
        assert values[("uabot_last_backup_timestamp_seconds", ())] >= int(before)
        assert values[("uabot_backup_failures_total", ())] == 0  # this process's count
    # Restarted: the time of the last backup is there from the start, for the alert.
    async with running(record(build_application(working)), poll_timeout=1) as app:
        values = samples((await get(app, "/metrics"))[1])
        assert values[("uabot_last_backup_timestamp_seconds", ())] >= int(before)

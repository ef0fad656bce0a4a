"""A stop (SIGTERM, Ctrl-C) of the real ``uabot run`` is quick, clean and exits 0, whatever runs
then: a reply Telegram does not answer, a feed file that trickles in, a long migration."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from aiohttp import web
from conftest import ADMIN_ID, FIXTURES, SECRET, webhook_keys
from fault_servers import TOKEN, Uabot, assert_clean, write_config

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
from bot.emulator import Emulator, SimUser
from bot.storage import Storage
from bot.storage.db import _split_sql, migrations

ACTIONS = FIXTURES / "actions"

# Far below what the stops waited before (the whole hang: 60 s here), far above what they take
# (the replies' grace, 10 s, and the rest of the stop).
QUICK = 30.0


async def test_a_stop_while_telegram_does_not_answer_a_reply_cancels_it(tmp_path: Path) -> None:
    async with Emulator(token=TOKEN) as emulator:
        config = write_config(
            tmp_path, emulator.base_url, extra="admins = [9000]\nread_timeout = 120\n"
        )
        uabot = await Uabot.start(config)
        try:
            await uabot.wait_for("started as @")
            user = emulator.user(7, first_name="A", language_code="en")
            emulator.delay("sendMessage", 60)
            await user.send("/start")
            await asyncio.sleep(1.0)  # the reply is on its way
            started = time.monotonic()
            uabot.send_signal(signal.SIGTERM)
            rc = await uabot.finish(90)
            took = time.monotonic() - started
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert took < QUICK, (took, uabot.output)
        assert "cancelled 1 reply or job task(s) still running" in uabot.output
        assert_clean(uabot)


@pytest.mark.parametrize("transport", ["polling", "webhook"])
async def test_a_stop_answers_every_update_telegram_already_handed_over(
    tmp_path: Path, transport: str
) -> None:
    """SIGTERM while a burst's replies wait (the rate limiter: 5 a second here) or are held
    (Telegram answers each send after 1 s): the updates were fetched (polling: confirmed at
    stop) or acknowledged with 200 (webhook), so Telegram never sends them again. Each user
    gets the answer, once, and the exit is 0."""
    extra = "admins = [9000]\n"
    if transport == "webhook":
        extra += "".join(f'{key} = "{value}"\n' for key, value in webhook_keys().items())
    async with Emulator(token=TOKEN) as emulator:
        config = write_config(
            tmp_path, emulator.base_url, extra=extra + "[broadcast]\nmessages_per_second = 5\n"
        )
        users = [emulator.user(100 + i, language_code="en") for i in range(12)]
        uabot = await Uabot.start(config)
        try:
            await uabot.wait_for("started as @")
            emulator.delay("sendMessage", 1.0)
            for user in users:
                await user.send("/start")
            await emulator.wait_until(lambda: emulator.stats.updates_delivered >= len(users), 30)
            uabot.send_signal(signal.SIGTERM)
            rc = await uabot.finish(90)
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert_clean(uabot, SECRET)
        assert "cancelled" not in uabot.output, uabot.output
        welcomes = {
            user.id: sum("Welcome!" in (m.text or "") for m in user.messages) for user in users
        }
        assert welcomes == {user.id: 1 for user in users}, uabot.output


@pytest.mark.parametrize("machine", ["as_is", "slow_to_unsignal"])
async def test_signals_after_the_first_stop_change_nothing(tmp_path: Path, machine: str) -> None:
    """Ctrl-C pressed again and again (or systemd's SIGTERM with it): still one clean stop.
    ``slow_to_unsignal``: a pause after each of the loop's signal handlers is removed, where a
    signal once met Python's default (SIGTERM's kill, a KeyboardInterrupt)."""
    async with Emulator(token=TOKEN) as emulator:
        config = write_config(tmp_path, emulator.base_url, extra="admins = [9000]\n")
        if machine == "as_is":
            uabot = await Uabot.start(config)
        else:
            uabot = await Uabot.start(config, cwd=Path(__file__).parent, module="slow_unsignal")
        try:
            await uabot.wait_for("started as @")
            while uabot.process.returncode is None:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    uabot.send_signal(sig)
                await asyncio.sleep(0.002)
            rc = await uabot.finish(90)
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert_clean(uabot)


async def _held_open_for_writing(fifo: Path, uabot: Uabot) -> int:
    """The FIFO's write end, once ``uabot`` opens it to read its config (so ``main`` runs)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: no reader yet
            if exc.errno != errno.ENXIO:
                raise
        assert uabot.process.returncode is None, uabot.output
        assert time.monotonic() < deadline, "uabot never read its config"
        await asyncio.sleep(0.01)


async def test_a_stop_before_the_bot_handles_signals_is_the_same_clean_stop(
    tmp_path: Path,
) -> None:
    """SIGTERM and Ctrl-C while ``uabot run`` starts, before its event loop handles them (it
    reads its config from a FIFO the test holds: a start as slow as a loaded machine makes
    it, deterministically): one line, exit 0, no traceback, no kill."""
    async with Emulator(token=TOKEN) as emulator:
        text = write_config(tmp_path, emulator.base_url, extra="admins = [9000]\n").read_bytes()
        fifo = tmp_path / "held.toml"
        os.mkfifo(fifo, 0o600)
        uabot = await Uabot.start(fifo)
        try:
            writer = await _held_open_for_writing(fifo, uabot)
            for _ in range(3):
                for sig in (signal.SIGTERM, signal.SIGINT):
                    assert uabot.send_signal(sig), uabot.output
            await asyncio.sleep(0.2)
            assert uabot.process.returncode is None, uabot.output  # not killed by SIGTERM
            os.set_blocking(writer, True)
            os.write(writer, text)
            os.close(writer)
            rc = await uabot.finish(90)
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert_clean(uabot)
        assert "stopped before the database was ready" in uabot.output
        assert "started as @" not in uabot.output
        assert emulator.stats.updates_delivered == 0


async def test_a_stop_while_a_feed_file_trickles_in_is_quick(tmp_path: Path) -> None:
    hit = asyncio.Event()

    async def index(request: web.Request) -> web.Response:
        return web.Response(body=b'["slow.toml"]')

    async def slow(request: web.Request) -> web.StreamResponse:
        hit.set()
        response = web.StreamResponse()
        await response.prepare(request)
        while True:
            await response.write(b"#")
            await asyncio.sleep(0.5)

    server = web.Application()
    server.router.add_get("/index.json", index)
    server.router.add_get("/slow.toml", slow)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with Emulator(token=TOKEN) as emulator:
            source = f"http://feeduser:FeedPw9@127.0.0.1:{port}/index.json"
            config = write_config(
                tmp_path,
                emulator.base_url,
                extra=f'admins = [9000]\n[feed]\nsource = "{source}"\n',
            )
            uabot = await Uabot.start(config)
            try:
                await uabot.wait_for("started as @")
                await asyncio.wait_for(hit.wait(), 60)
                await asyncio.sleep(1)
                started = time.monotonic()
                uabot.send_signal(signal.SIGTERM)
                rc = await uabot.finish(90)
                took = time.monotonic() - started
            finally:
                await uabot.kill()
            assert rc == 0, uabot.output
            # Before, the stop waited for the file's 20 s timeout.
            assert took < 15, (took, uabot.output)
            assert "cancelled at stop" in uabot.output or "cancelled 1" in uabot.output
            assert_clean(uabot)
            assert "FeedPw9" not in uabot.output
    finally:
        await runner.cleanup()


def _database_at_schema_7(path: Path) -> None:
    """A database before migration 008, with a trigger that makes 008's UPDATE take minutes:
    a migration of a large database, in miniature."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for version, name, sql in migrations():
        if version >= 8:
            break
        for statement in _split_sql(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, ?, datetime('now'))", (version, name))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.executemany(
        "INSERT INTO confirmations (case_number, revision, user_id, letter_language)"
        " VALUES ('UA 012/26', ?, 5, 'en')",
        [(1,), (2,)],  # one person, two revisions: 008 marks the second
    )
    conn.execute(
        "CREATE TRIGGER slow AFTER UPDATE ON confirmations BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1"
        " FROM c WHERE x < 2000000000) SELECT x FROM c); END"
    )
    conn.close()
    path.chmod(0o600)


def _schema(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.sqlite_only  # a SQLite file at schema 7, migrated under a stop
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_during_a_long_migration_rolls_it_back_and_exits_0(
    tmp_path: Path, sig: int
) -> None:
    db = tmp_path / "bot.sqlite3"
    _database_at_schema_7(db)
    async with Emulator(token=TOKEN) as emulator:
        config = write_config(tmp_path, emulator.base_url, extra="admins = [9000]\n", db=db)
        uabot = await Uabot.start(config)
        try:
            await uabot.wait_for("applying migration 008_counts")
            await asyncio.sleep(0.5)  # inside the UPDATE (its trigger counts for minutes)
            started = time.monotonic()
            uabot.send_signal(sig)
            rc = await uabot.finish(90)
            took = time.monotonic() - started
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert took < QUICK, (took, uabot.output)
        assert "stopped before the database was ready" in uabot.output
        assert_clean(uabot)
        assert "started as @" not in uabot.output
        assert _schema(db) == 7  # one transaction: rolled back, not half done

        conn = sqlite3.connect(db)
        conn.execute("DROP TRIGGER slow")
        conn.close()
        second = await Uabot.start(config)
        try:
            await second.wait_for("started as @")
            assert await second.interrupt() == 0
        finally:
            await second.kill()
        assert _schema(db) == max(version for version, _, _ in migrations())
        conn = sqlite3.connect(db)
        firsts = conn.execute(
            "SELECT revision, first_for_case FROM confirmations ORDER BY revision"
        ).fetchall()
        conn.close()
        assert firsts == [(1, 1), (2, 0)]


def _cards(user: SimUser) -> int:
    return len([m for m in user.messages if m.text and "UA 012/26" in m.text])


async def _published_to(database: Path, ids: range) -> None:
    """Subscribers ``ids`` and the example case published: its broadcast waits for the bot."""
    storage = await Storage.open(database)
    try:
        for uid in ids:
            await storage.users.subscribe(uid, "en")
        revision = parse_action(
            (ACTIONS / "ua-012-26-1.toml").read_bytes(),
            source="ua-012-26-1.toml",
            languages=("en", "de", "fr"),
            default_language="en",
        )
        await import_revision(storage, revision, by=None)
        assert await publish(storage, revision.case, revision.revision, ADMIN_ID)
    finally:
        await storage.close()


@pytest.mark.parametrize("transport", ["polling", "webhook"])
async def test_sigterm_mid_broadcast_exits_0_and_the_next_start_sends_each_card_once(
    tmp_path: Path, transport: str
) -> None:
    """The real ``uabot run``: SIGTERM while sends are in flight (Telegram holds them 2 s), then
    a new start. The sends in flight finish and are recorded, so nobody gets a card twice."""
    database = tmp_path / "bot.sqlite3"
    ids = range(1, 61)
    await _published_to(database, ids)
    extra = f"admins = [{ADMIN_ID}]\n"
    if transport == "webhook":
        extra += "".join(f'{key} = "{value}"\n' for key, value in webhook_keys().items())
    async with Emulator(token=TOKEN) as emulator:
        # Subscribers stored directly: they opened the bot before, so it may write to them.
        users = {uid: emulator.user(uid, started=True) for uid in ids}
        admin = emulator.user(ADMIN_ID, started=True)
        config = write_config(
            tmp_path, emulator.base_url, extra=extra + "[broadcast]\nmessages_per_second = 20\n"
        )
        emulator.delay("sendMessage", 0.05)  # Telegram's latency: messages are in flight
        uabot = await Uabot.start(config)
        try:
            await uabot.wait_for("started as @")
            visitor = emulator.user(500, language_code="en")  # updates come in either mode
            await visitor.send("/start")
            assert "Welcome!" in (await visitor.receive(timeout=30)).text
            await emulator.wait_until(lambda: sum(map(_cards, users.values())) >= 10, 30)
            emulator.delay("sendMessage", 2.0)  # now each send is held mid-way
            await asyncio.sleep(0.5)
            uabot.send_signal(signal.SIGTERM)
            rc = await uabot.finish(90)
        finally:
            await uabot.kill()
        assert rc == 0, uabot.output
        assert_clean(uabot, SECRET)
        assert "cancelled" not in uabot.output, uabot.output  # the sends in flight finished
        sent = sum(map(_cards, users.values()))
        assert 10 <= sent < len(ids), "stopped mid-broadcast"
        assert max(map(_cards, users.values())) == 1

        emulator.delay("sendMessage", 0)
        second = await Uabot.start(config)
        try:
            await emulator.wait_until(
                lambda: any("Broadcast finished" in (m.text or "") for m in admin.messages), 60
            )
            assert await second.interrupt() == 0
        finally:
            await second.kill()
        assert_clean(second)
    assert {uid: _cards(user) for uid, user in users.items()} == dict.fromkeys(ids, 1)

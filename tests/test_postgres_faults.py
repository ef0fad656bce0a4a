"""PostgreSQL's faults as an operator meets them (issue 16 §3, the attacker's findings): the
server ends the bot's connections, a session elsewhere holds a row, users change at once on two
connections, the URL names another program's database. Needs ``UABOT_TEST_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import TOKEN, postgres_url_for
from test_postgres import PASSWORD, database, sqlite_database, uabot, write_url_config

from bot.config import parse_config
from bot.emulator import Emulator
from bot.storage import Storage
from bot.storage.db import DatabasePathError

URL = os.environ.get("UABOT_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(URL is None, reason="UABOT_TEST_DATABASE_URL is not set")
SORRY = "Sorry, something went wrong"
__all__ = ["database"]  # the fixture, used by name


def test_a_password_in_the_urls_query_is_a_secret_too() -> None:
    for key in ("password", "sslpassword"):
        url = f"postgresql://uabot@/uabot?host=/run/pg&{key}=Sekr3tQ"
        config = parse_config({"telegram": {"token": TOKEN}, "storage": {"url": url}}, environ={})
        assert "Sekr3tQ" in config.secrets()


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A fresh, empty schema of the test database, as the suite makes one per SQLite path."""
    import psycopg

    assert URL is not None
    name = f"f{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in URL else "?"
    yield f"{URL}{separator}options=-csearch_path%3D{name}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
async def two(schema_url: str) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two instances of the bot's storage on one database (two processes, issue 16 §4)."""
    first = await Storage.open(schema_url)
    second = await Storage.open(schema_url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def terminate(pids: list[int]) -> None:
    import psycopg

    assert URL is not None
    with psycopg.connect(URL, autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_after_the_server_ended_the_bots_connections_the_next_requests_are_answered(
    emulator: Emulator, bot: Any
) -> None:
    users = [emulator.user(7100 + i, language_code="en") for i in range(6)]
    # A busy moment opens several pooled connections; then the server ends every one of them
    # (a restart, idle_session_timeout, pgbouncer, a NAT forgetting them).
    await asyncio.gather(*(user.send("/start") for user in users))
    for user in users:
        await user.receive()
    pool = bot.bot_data.storage.db._pool
    pids = [conn.info.backend_pid for conn in list(pool._pool)]
    assert pids
    terminate(pids)
    for user in users:
        await user.send("/unsubscribe")
        reply = await user.receive()
        assert SORRY not in (reply.text or "")
    assert await bot.bot_data.storage.users.count_reachable_subscribers() == 0


async def test_a_lone_statement_on_a_connection_closed_under_it_runs_again(
    schema_url: str,
) -> None:
    storage = await Storage.open(schema_url)
    try:
        await storage.users.subscribe(1, "en")
        pool: Any = cast(Any, storage.db)._pool
        pool._check = None  # the race: the connection ends after the pool's check
        terminate([conn.info.backend_pid for conn in list(pool._pool)])
        await asyncio.sleep(0.1)
        user = await storage.users.get(1)
        assert user is not None and user.subscribed
    finally:
        await storage.close()


async def test_connections_the_server_dropped_while_idle_are_replaced_unnoticed(
    schema_url: str,
) -> None:
    # idle_session_timeout (or pgbouncer, or a NAT) ends the pool's connections in its quiet
    # spells: the first request after one must not be the one that finds out.
    storage = await Storage.open(f"{schema_url}%20-cidle_session_timeout%3D1000")
    try:
        await storage.users.subscribe(1, "en")
        for _ in range(2):
            await asyncio.sleep(1.5)  # longer than the server's idle_session_timeout
            async with storage.db.transaction():
                assert await storage.users.set_subscribed(1, False) is not None
                await storage.users.set_subscribed(1, True)
            user = await storage.users.get(1)
            assert user is not None and user.subscribed
    finally:
        await storage.close()


async def test_a_row_locked_elsewhere_fails_one_request_after_the_lock_timeout_not_all(
    emulator: Emulator, bot: Any, config: Any
) -> None:
    import psycopg

    one, two = emulator.user(7201, language_code="en"), emulator.user(7202, language_code="en")
    for user in (one, two):
        await user.send("/start")
        await user.receive()
    storage = bot.bot_data.storage
    with psycopg.connect(postgres_url_for(config.storage.path)) as psql:  # holds its transaction
        psql.execute("SELECT * FROM users WHERE id = %s FOR UPDATE", (one.id,))
        await one.send("/unsubscribe")
        stuck = None
        # While the bot's statement waits, the health check says so (as SQLite's probe does).
        for _ in range(100):
            try:
                await storage.db.ping()
            except DatabasePathError as exc:
                stuck = str(exc)
                break
            await asyncio.sleep(0.1)
        await two.send("/unsubscribe")
        answered = await two.receive()
        assert SORRY not in (answered.text or "")
        refused = await one.receive(timeout=30)
        assert SORRY in (refused.text or "")
        psql.rollback()
    assert stuck is not None and "wait on a lock another session holds" in stuck
    await storage.db.ping()  # healthy again
    await one.send("/unsubscribe")
    assert SORRY not in ((await one.receive()).text or "")


async def test_two_instances_changing_languages_at_once_neither_deadlock_nor_miscount(
    two: tuple[Storage, Storage],
) -> None:
    first, second = two
    ids = range(1, 21)
    for user_id in ids:
        await first.users.subscribe(user_id, "en" if user_id % 2 else "fr")

    async def flip(storage: Storage, user_id: int, rounds: int) -> None:
        for n in range(rounds):
            start = "en" if user_id % 2 else "fr"
            other = "fr" if start == "en" else "en"
            await storage.users.set_language(user_id, other if n % 2 == 0 else start)

    await asyncio.gather(*(flip(first if i % 2 else second, i, 10) for i in ids))
    counted = {
        (row[0], row[1]): row[2]
        for row in await first.db.fetch_all(
            "SELECT language, subscribed, n FROM user_counts WHERE n <> 0"
        )
    }
    actual = {
        (row[0], row[1]): row[2]
        for row in await first.db.fetch_all(
            "SELECT language, subscribed, COUNT(*) FROM users GROUP BY 1, 2"
        )
    }
    assert counted == actual == {("en", 1): 10, ("fr", 1): 10}


async def test_one_person_confirming_two_revisions_at_once_counts_once(
    two: tuple[Storage, Storage],
) -> None:
    first, second = two
    await first.users.subscribe(7, "en")
    cases = [f"UA {k}/26" for k in range(20)]
    for case in cases:
        for revision in (1, 2):
            await first.db.execute(
                "INSERT INTO revisions (case_number, revision, status, content, fingerprint,"
                " issued) VALUES (?, ?, 'open', '{}', 'f', '2026-01-01')",
                (case, revision),
            )
        day = date(2026, 1, 2)
        both = await asyncio.gather(
            first.tally.confirm(case, 1, 7, "en", day), second.tally.confirm(case, 2, 7, "en", day)
        )
        assert both == [True, True]
        assert not await first.tally.confirm(case, 2, 7, "en", day)
    assert [await first.tally.people(case) for case in cases] == [1] * len(cases)
    assert [await first.tally.count(case) for case in cases] == [2] * len(cases)


async def test_another_programs_database_is_refused_before_anything_is_written(
    schema_url: str,
) -> None:
    import psycopg

    with psycopg.connect(schema_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (login TEXT)")
        conn.execute("CREATE TABLE audit (what TEXT)")
    with pytest.raises(DatabasePathError) as refused:
        await Storage.open(schema_url)
    assert str(refused.value).endswith(
        "holds tables that are not uabot's (audit, users in schema "
        f"{schema_url.rpartition('%3D')[2]}): give uabot its own database or schema"
    )
    with psycopg.connect(schema_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)

    nowhere = schema_url.rpartition("%3D")[0] + "%3Dnope"
    with pytest.raises(DatabasePathError, match="search_path names no schema that exists"):
        await Storage.open(nowhere)


async def test_migrate_storage_refuses_a_newer_corrupt_or_unknown_sqlite_file(
    tmp_path: Path, database: str
) -> None:
    newer = tmp_path / "newer.sqlite3"
    await sqlite_database(newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '099_future.sql', '2027-01-01')")
        conn.execute("ALTER TABLE users ADD COLUMN future TEXT")
    status, refused = await uabot("migrate-storage", "--from", f"sqlite:{newer}", "--to", database)
    assert status == 2, refused.output
    assert refused.err == [
        f"uabot: --from: {newer} was made by a newer uabot (schema version 99): copy it with"
        " that uabot"
    ]

    extra = tmp_path / "extra.sqlite3"
    await sqlite_database(extra)
    with sqlite3.connect(extra) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    status, refused = await uabot("migrate-storage", "--from", f"sqlite:{extra}", "--to", database)
    assert status == 2, refused.output
    assert refused.err == [
        f"uabot: --from: {extra} holds tables uabot does not know (notes): they would be left"
        " behind; drop them or copy with the uabot that made them"
    ]

    corrupt = tmp_path / "corrupt.sqlite3"
    await sqlite_database(corrupt)
    data = bytearray(corrupt.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    corrupt.write_bytes(bytes(data))
    status, refused = await uabot(
        "migrate-storage", "--from", f"sqlite:{corrupt}", "--to", database
    )
    assert status == 2, refused.output
    assert len(refused.err) == 1 and refused.err[0].startswith(f"uabot: --from: {corrupt} "), (
        refused.output
    )

    storage = await Storage.open(database)
    try:  # nothing copied by any of them
        assert await storage.db.fetch_value("SELECT COUNT(*) FROM users") == 0
    finally:
        await storage.close()
    assert PASSWORD not in refused.output


def test_migrate_storage_copies_or_counts_again_every_table_uabot_makes() -> None:
    from bot.storage.db import migrations, tables_at
    from bot.storage.transfer import NOT_COPIED, TABLES

    every = frozenset(version for version, _, _ in migrations())
    assert tables_at(every) == {*TABLES, *NOT_COPIED}


async def test_doctor_on_a_newer_postgresql_schema_suggests_no_sqlite_restore(
    tmp_path: Path, database: str, emulator: Emulator
) -> None:
    import psycopg

    await (await Storage.open(database)).close()  # migrated
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '099_future.sql', '2027-01-01')")
    config = write_url_config(tmp_path, emulator.base_url, database)
    _, doctor = await uabot("doctor", "--config", str(config))
    assert "newer than this uabot knows (migrations 99): install the newer uabot" in (
        doctor.output
    ), doctor.output
    assert "restore" not in doctor.output


async def test_a_start_waiting_for_another_instances_migration_says_so_once(
    schema_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    from bot.storage.postgres import MIGRATION_LOCK

    caplog.set_level("INFO", logger="bot.storage.postgres")
    with psycopg.connect(schema_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (MIGRATION_LOCK,))
        opening = asyncio.ensure_future(Storage.open(schema_url))
        for _ in range(200):
            if "waiting for another uabot migrating" in caplog.text or opening.done():
                break
            await asyncio.sleep(0.05)
        assert not opening.done()
        other.execute("SELECT pg_advisory_unlock_all()")
        storage = await asyncio.wait_for(opening, 30)
    await storage.close()
    assert caplog.text.count("waiting for another uabot migrating postgresql://") == 1

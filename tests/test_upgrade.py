"""Upgrades: a database made by every earlier schema version migrates with its data intact.

For each shipped migration N, a database is built as the uabot of that time left it (the
migrations up to N, ``Database.migrate(until=N)``) and filled with representative rows
(``SAMPLES``, each row cut to the columns its table had at N); then the current code opens
it (migrating it to the end) and every row must still be there with the values it had.

New migrations are covered without touching this file: the versions come from
``bot/storage/migrations``. What a new migration must add here is said by the first test:
rows for a new table, a value for a new column (so that databases made after it carry one).
A migration that changes stored values on purpose lists them in ``CHANGED_BY_DESIGN``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from journeys import FIXTURES

from bot.config import Config
from bot.emulator import Emulator
from bot.storage import Database, Storage
from bot.storage.db import migrations

# About SQLite files made by each earlier schema, read with sqlite3:
# not run on PostgreSQL (UABOT_TEST_DATABASE_URL).
pytestmark = pytest.mark.sqlite_only


CASE = "UA 012/26"
# Rows every uabot database may hold, parents before children (foreign keys are on); one
# value per column of the current schema.
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "users": [
        {
            "id": 1,
            "language": "de",
            "subscribed": 1,
            "blocked_at": None,
            "created_at": "2025-01-02",
            "last_seen": "2025-03-04",
            "reminders": 0,
        },
        {
            "id": 2,
            "language": "fr",
            "subscribed": 0,
            "blocked_at": "2025-02-01 10:00:00",
            "created_at": "2025-01-05",
            "last_seen": "2025-01-06",
            "reminders": 1,
        },
    ],
    "revisions": [
        {
            "case_number": CASE,
            "revision": 1,
            "content": (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8"),
            "fingerprint": "f1",
            "status": "open",
            "issued": "2026-01-10",
            "imported_at": "2026-01-10 09:00:00",
            "published_at": "2026-01-10 10:00:00",
        }
    ],
    "broadcasts": [
        {
            "id": 1,
            "kind": "action",
            "case_number": CASE,
            "revision": 1,
            "payload": None,
            "requested_by": 9000,
            "total": 2,
            "delivered": 1,
            "unreachable": 0,
            "failed": 0,
            "skipped": 0,
            "created_at": "2026-01-10 10:00:00",
            "started_at": 1768039200.0,
            "finished_at": None,
            "paused_at": None,
            "pause_reason": None,
            "reported_at": None,
            "unconfirmed": 0,
            "enqueue_after": None,
            "audience": None,
            "report_claimed_until": None,
            "report_claimed_by": None,
        }
    ],
    # Derived: the triggers of migration 014 count the users above (no rows of its own).
    "user_counts": [],
    # Its one row is made by migration 016 (the whole bot's next free broadcast send time).
    "broadcast_pace": [],
    "outbox": [
        {
            "broadcast_id": 1,
            "user_id": 1,
            "state": 1,
            "attempts": 1,
            "claimed_until": None,
            "claimed_by": None,
        },
        {
            "broadcast_id": 1,
            "user_id": 2,
            "state": 0,
            "attempts": 0,
            "claimed_until": 1768039260.0,
            "claimed_by": "a1b2c3",
        },
    ],
    "confirmations": [
        {
            "case_number": CASE,
            "revision": 1,
            "user_id": 1,
            "letter_language": "de",
            "confirmed_on": "2026-01-11",
            "first_for_case": 1,
        }
    ],
    "conversations": [{"name": "letter", "key": "[1, 1]", "state": '"language"', "version": 0}],
    "user_data": [{"user_id": 1, "data": '{"note": "kept"}', "version": 0}],
    "audit": [
        {
            "id": 1,
            "at": "2026-01-10 10:00:00",
            "admin_id": 9000,
            "action": "publish",
            "subject": f"{CASE} rev 1",
        }
    ],
    "interest": [
        {"user_id": 1, "case_number": CASE, "reminded_revision": None, "claimed_until": None}
    ],
    "feed_items": [
        {"source_key": "/srv/actions/ua.toml", "fingerprint": "f1", "handled_at": "2026-01-10"}
    ],
    "job_state": [{"name": "feed.last_poll", "value": "1768039200.0"}],
    "admin_menus": [{"chat_id": 9000, "language_code": "de"}],
    "selections": [
        {"user_id": 1, "kind": "topic", "code": "torture"},
        {"user_id": 1, "kind": "region", "code": "150"},
    ],
    "groups": [{"chat_id": -1001, "language": "fr", "added_at": "2026-01-12 18:00:00"}],
    "sessions": [
        {  # ended: counts only
            "id": 1,
            "group_id": -1001,
            "case_number": CASE,
            "started_at": 1768240800.0,
            "minutes": 60,
            "ends_at": 1768244400.0,
            "message_id": 77,
            "pinned": 1,
            "ended_at": 1768244400.0,
            "letters": 14,
            "token": "x5Rk0vQwN2bT8yUe_3LmAa",
        },
        {  # running
            "id": 2,
            "group_id": -1001,
            "case_number": CASE,
            "started_at": 1768327200.0,
            "minutes": 45,
            "ends_at": 1768329900.0,
            "message_id": 80,
            "pinned": 0,
            "ended_at": None,
            "letters": 1,
            "token": "Pq7-Zs1dWc9hJf4GnY6oBb",
        },
    ],
    "session_writers": [{"session_id": 2, "user_id": 1}],
    "session_members": [{"session_id": 2, "user_id": 1}],
    "job_claims": [{"name": "session-2", "holder": "0f3c9a", "until": 1768329915.0}],
}
# (table, column) whose stored values a migration rewrites on purpose: not compared.
CHANGED_BY_DESIGN: set[tuple[str, str]] = set()
VERSIONS = [version for version, _, _ in migrations()]


async def _columns(db: Database) -> dict[str, list[str]]:
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_version' "
        "AND name NOT LIKE 'sqlite_%'"
    )
    return {
        row[0]: [info[1] for info in await db.fetch_all(f'PRAGMA table_info("{row[0]}")')]
        for row in tables
    }


async def _rows(db: Database, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    names = ", ".join(columns)
    return sorted(map(tuple, await db.fetch_all(f"SELECT {names} FROM {table}")), key=repr)


async def test_the_samples_cover_every_table_and_column_of_the_current_schema(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "now.sqlite3")
    try:
        schema = await _columns(db)
    finally:
        await db.close()
    for table, columns in schema.items():
        assert table in SAMPLES, f"add representative rows for the new table {table} to SAMPLES"
        for row in SAMPLES[table]:
            missing = set(columns) - set(row)
            assert not missing, f"SAMPLES[{table!r}] lacks a value for {sorted(missing)}"


async def made_by(path: Path, version: int) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """A database as the uabot of schema ``version`` left it, holding ``SAMPLES``; per table,
    the columns to compare and their rows as stored then."""
    old = await Database.open(path, migrate=False)
    try:
        await old.migrate(until=version)
        assert await old.schema_version() == version
        then = await _columns(old)
        # Every table of that version gets rows: none is left untested.
        assert set(then) <= set(SAMPLES)
        stored = {}
        for table, samples in SAMPLES.items():
            if table not in then or not samples:
                continue  # the table came later, or holds only what others imply
            columns = [c for c in samples[0] if c in then[table]]
            marks = ", ".join("?" for _ in columns)
            await old.execute_many(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [[row[c] for c in columns] for row in samples],
            )
            compared = [c for c in columns if (table, c) not in CHANGED_BY_DESIGN]
            stored[table] = (compared, await _rows(old, table, compared))
        return stored
    finally:
        await old.close()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_database_from_schema_version_n_migrates_with_its_data_intact(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / f"v{version}.sqlite3"
    stored = await made_by(path, version)
    storage = await Storage.open(path)  # the current code: migrates to the end
    try:
        assert await storage.db.schema_version() == VERSIONS[-1]
        for table, (columns, rows) in stored.items():
            after = await _rows(storage.db, table, columns)
            assert after == rows, f"{table} changed from schema version {version}"
        # And the code reads them as the bot does.
        user = await storage.users.get(1)
        assert user is not None and user.language == "de"
        counts = await storage.stats.subscribers()
        assert (counts.active, counts.paused, counts.unreachable) == (1, 0, 1)
        assert counts.by_language == {"de": 1}
        unfinished = [b.id for b in await storage.broadcasts.unfinished()]
        assert unfinished == ([1] if "broadcasts" in stored else [])
    finally:
        await storage.close()


async def test_the_bot_starts_on_the_oldest_database_and_knows_its_users(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    await made_by(config.storage.path, VERSIONS[0])
    async with restart():
        user = emulator.user(1, first_name="Anna", language_code="en")
        await user.send("/start")
        assert "Willkommen!" in (await user.receive()).text  # her stored language, not Telegram's

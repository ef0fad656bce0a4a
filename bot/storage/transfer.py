"""Copy a SQLite database into an empty PostgreSQL one (``uabot migrate-storage``).

Both sides are brought to the same schema version first (the shipped migrations; the numbers
mean the same on both), then every table is copied in an order that satisfies the foreign keys,
all in one PostgreSQL transaction: a failure leaves the target as empty as it was. Identity
columns (``id``, confirmations' ``rowid``) are copied as they are and their sequences moved
past the highest value, so new rows do not collide with copied ones.

A source a newer uabot made, one that cannot be read, or one holding a table not in ``TABLES``
is refused before anything is copied: no table is left behind unsaid. The user_counts trigger
is off during the copy and the counters are filled once at the end: with it on, each of 100k
users updated the same counter row again within one transaction, every update slower than the
last (measured, 100k users on a shared 2-core machine: 113 s before, 1.6 s after).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from bot.storage.db import (
    FILE_MODE,
    Database,
    DatabasePathError,
    open_read_only,
    read_schema,
    shown_url,
)
from bot.storage.postgres import PostgresDatabase

# Parents before children (the foreign keys). user_counts is not copied: it is counted from
# the users copied (``_COUNT_USERS``).
TABLES = (
    "users",
    "revisions",
    "broadcasts",
    "outbox",
    "confirmations",
    "conversations",
    "user_data",
    "audit",
    "interest",
    "feed_items",
    "job_state",
    "admin_menus",
    "selections",
    "groups",
    "sessions",
    "session_writers",
    "session_members",
)
_IDENTITIES = (
    ("broadcasts", "id"),
    ("audit", "id"),
    ("sessions", "id"),
    ("confirmations", "rowid"),
)
# The source's tables not copied: the schema's own record, counters counted again, and what
# only running instances hold (claims and the broadcast pace: the bot is stopped to copy; the
# target's migrations make the pace's row).
NOT_COPIED = ("schema_version", "user_counts", "job_claims", "broadcast_pace")
BATCH = 5_000
_COUNT_USERS = (
    "INSERT INTO user_counts (language, subscribed, blocked, n)"
    " SELECT language, subscribed, (blocked_at IS NOT NULL)::int, COUNT(*) FROM users"
    " GROUP BY 1, 2, 3"
)


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds rows: a copy would mix two bots' data."""


class SourceRefused(Exception):
    """The SQLite file cannot be copied whole: a newer uabot's, unreadable, or with tables
    this uabot does not know (they would be left behind)."""


def _check_source(source: Path) -> None:
    try:
        state = read_schema(source)
    except DatabasePathError as exc:
        raise SourceRefused(str(exc)) from None
    if state.unknown:
        raise SourceRefused(
            f"{source} was made by a newer uabot (schema version {state.version}): copy it"
            " with that uabot"
        )


async def copy_sqlite_to_postgres(source: Path, url: str) -> dict[str, int]:
    """Copy every table of the SQLite database at ``source`` into the PostgreSQL database at
    ``url`` (migrated, empty); the rows copied per table. The source is left as it is (the
    bot's way back): a temporary copy of it is migrated, so that both hold the same tables."""
    _check_source(source)  # no uabot database, a newer uabot's: refused, naming it
    with tempfile.TemporaryDirectory(prefix="uabot-migrate-") as folder:
        copy = Path(folder) / "source.sqlite3"
        os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))  # private
        with (
            contextlib.closing(open_read_only(source)) as src,
            contextlib.closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)  # consistent, and the source untouched
        return await _copy_from(copy, url, named=source)


async def _copy_from(source: Path, url: str, *, named: Path) -> dict[str, int]:
    """Copy the migrated temporary copy ``source`` of the operator's file ``named``."""
    sqlite = await Database.open_sqlite(source)
    try:
        found = await sqlite.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        unknown = [row[0] for row in found if row[0] not in (*TABLES, *NOT_COPIED)]
        if unknown:
            raise SourceRefused(
                f"{named} holds tables uabot does not know ({', '.join(unknown)}): they would"
                " be left behind; drop them or copy with the uabot that made them"
            )
        target = await PostgresDatabase.connect(url)
        try:
            return await _copy(sqlite, target, url)
        finally:
            await target.close()
    finally:
        await sqlite.close()


async def _copy(sqlite: Database, target: PostgresDatabase, url: str) -> dict[str, int]:
    for table in TABLES:
        if await target.fetch_value(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            raise TargetNotEmpty(
                f"{shown_url(url)} already holds rows ({table}): migrate-storage copies into "
                "an empty database only: give it a new one (createdb -O ROLE NAME), or empty "
                "this one if its data is not needed (DROP SCHEMA public CASCADE; CREATE SCHEMA "
                "public AUTHORIZATION ROLE)"
            )
    counts: dict[str, int] = {}
    async with target.transaction():
        await target.execute("ALTER TABLE users DISABLE TRIGGER user_counts_keep")
        for table in TABLES:
            # Confirmations have no rowid column on SQLite: its implicit one is named.
            columns = "rowid, *" if table == "confirmations" else "*"
            rows = await sqlite.fetch_all(f"SELECT {columns} FROM {table}")
            if not rows:
                counts[table] = 0
                continue
            names = list(rows[0].keys())
            marks = ", ".join("?" * len(names))
            insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
            for start in range(0, len(rows), BATCH):
                await target.execute_many(
                    insert, [tuple(row) for row in rows[start : start + BATCH]]
                )
            counts[table] = len(rows)
        await target.execute(_COUNT_USERS)
        await target.execute("ALTER TABLE users ENABLE TRIGGER user_counts_keep")
        for table, column in _IDENTITIES:
            await target.fetch_value(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )
    return counts


async def copy_postgres_to_sqlite(url: str, target: Path) -> dict[str, int]:
    """The way back, for ``uabot sandbox --config`` on a PostgreSQL config: every table of the
    database at ``url`` copied into a new SQLite file ``target``, read in one read-only
    transaction (a consistent snapshot; nothing written there, not even a migration)."""
    from bot.storage.postgres import read_schema as read_postgres_schema

    state = read_postgres_schema(url)
    sqlite = await Database.open_sqlite(target)
    try:
        if not state.applied:  # an empty database: the copy is a new bot
            return {}
        source = await PostgresDatabase.connect(url, migrate=False)
        try:
            counts: dict[str, int] = {}
            async with source.transaction(), sqlite.transaction():
                await source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                for table in TABLES:
                    rows = await source.fetch_all(f"SELECT * FROM {table}")
                    counts[table] = len(rows)
                    if rows:
                        names = list(rows[0].keys())
                        await sqlite.execute_many(
                            f"INSERT INTO {table} ({', '.join(names)})"
                            f" VALUES ({', '.join('?' * len(names))})",
                            [tuple(row) for row in rows],
                        )
            return counts
        finally:
            await source.close()
    finally:
        await sqlite.close()

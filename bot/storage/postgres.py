"""PostgreSQL behind the same ``Database`` interface as SQLite (``storage.url``).

Driver: psycopg 3 (async, with psycopg_pool), not asyncpg. The repositories' SQL is written for
SQLite's loose typing: psycopg sends a ``str`` parameter untyped (PostgreSQL infers the type from
where it is used) and an ``int`` as the smallest integer type that holds it, so the same
statements run with ``?`` turned into ``%s``; asyncpg types every parameter from a prepared
statement and refuses what SQLite takes (a str for a number, a bool for an integer), which would
need a cast in most statements. psycopg prepares a statement after it ran five times on a
connection, so the hot queries (the outbox) are prepared there too.

The few SQLite-only spellings left in the repositories are translated in one place,
``postgres_sql``; everything else is SQL both engines accept (``ON CONFLICT``, ``RETURNING``).

Transactions work as on SQLite: ``async with db.transaction():`` takes a connection from the
pool for the block, and every statement of the task inside it runs on that connection.
Transactions of one process are still serialised by a lock (as SQLite's one writer did), so a
read-then-write in a transaction sees no other transaction of this process in between; several
processes (issue 16 §4) need row locks (``FOR UPDATE SKIP LOCKED``) or advisory locks
(``advisory_lock`` below) where they share work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool

from bot.storage.db import Database, DatabasePathError, Row, SchemaState, shown_url

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# The advisory lock key under which migrations run: two instances starting at once on one
# database apply each migration once (the second waits, then finds nothing to do).
MIGRATION_LOCK = 0x75616230  # "uab0"
CONNECT_TIMEOUT_S = 10
POOL_SIZE = 10

_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _without_password(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def migrations() -> list[tuple[int, str, str]]:
    """PostgreSQL's numbered migrations (``migrations_pg``): same numbers and meaning as
    SQLite's, each in PostgreSQL's types."""
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations_pg").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found


class PgRow(tuple[Any, ...]):
    """A row read by index or by column name, as ``sqlite3.Row`` is."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, index)


_NOW = "now() AT TIME ZONE 'UTC'"
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"datetime\('now'\)"), f"to_char({_NOW}, 'YYYY-MM-DD HH24:MI:SS')"),
    (
        re.compile(r"date\('now', '([+-]\d+) days'\)"),
        rf"to_char({_NOW} + interval '\1 days', 'YYYY-MM-DD')",
    ),
    (re.compile(r"date\('now'\)"), f"to_char({_NOW}, 'YYYY-MM-DD')"),
    (re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\)"), r"(\1::jsonb ->> '\2')"),
    # A hint for SQLite's planner (read the table in id order); PostgreSQL plans by itself.
    (re.compile(r" NOT INDEXED\b"), ""),
    # SQLite's CROSS JOIN with ON is an inner join whose order its planner keeps.
    (re.compile(r"\bCROSS JOIN (\w+(?: \w+)?) ON\b"), r"JOIN \1 ON"),
    # SQLite takes an empty list; PostgreSQL's equivalent matches nothing as well.
    (re.compile(r"\bIN \(\)"), "IN (NULL)"),
)
_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")


@functools.lru_cache(maxsize=1024)
def postgres_sql(sql: str) -> str:
    """A repository's statement as PostgreSQL takes it: the one place the dialects meet."""
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)

    def mark(match: re.Match[str]) -> str:
        found = match.group(0)
        return "%s" if found == "?" else "%%" if found == "%" else found

    return _LITERAL_OR_MARK.sub(mark, sql)


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, with the schema brought up to date."""

    shared = True

    def __init__(self, pool: AsyncConnectionPool[Any], url: str) -> None:
        self._pool = pool
        self._url = url
        self._lock = asyncio.Lock()
        self._path = None
        self._connection: ContextVar[psycopg.AsyncConnection[Any] | None] = ContextVar(
            f"pg_conn_{id(self)}", default=None
        )

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True) -> PostgresDatabase:
        """Connect (the first connection tells why one fails), migrate, open the pool."""
        conn = await _connect(url)
        try:
            if migrate:
                await _migrate(conn, shown_url(url))
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            timeout=CONNECT_TIMEOUT_S,
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        return cls(pool, url)

    @property
    def url(self) -> str:
        return shown_url(self._url)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        """Raise unless the database answers (psycopg's error: libpq's words carry no
        password) and takes writes (not a read-only standby)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT pg_is_in_recovery()")
            row = await cursor.fetchone()
        if row is not None and row[0]:
            raise DatabasePathError(f"{self.url} is a read-only standby: point it at the primary")

    async def schema_version(self) -> int:
        value = await self.fetch_value("SELECT MAX(version) FROM schema_version")
        return int(value or 0)

    async def migrate(self, until: int | None = None) -> list[str]:
        async with self._pool.connection() as conn:
            return await _migrate(conn, self.url, until)

    @asynccontextmanager
    async def _connection_for_statement(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        current = self._connection.get()
        if current is not None:
            yield current
        else:
            async with self._pool.connection() as conn:
                yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block atomically on one connection; nested use joins the outer one."""
        if self._connection.get() is not None:
            yield
            return
        async with self._lock, self._pool.connection() as conn:
            token = self._connection.set(conn)
            try:
                async with conn.transaction():
                    yield
            finally:
                self._connection.reset(token)

    @asynccontextmanager
    async def advisory_lock(self, key: int) -> AsyncIterator[bool]:
        """Hold PostgreSQL's session advisory lock ``key`` for the block if no one else does
        (yields False, holding nothing, when another session holds it): for work that one
        instance of several must do alone (issue 16 §4: the poller, scheduled jobs)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            row = await cursor.fetchone()
            taken = bool(row and row[0])
            try:
                yield taken
            finally:
                if taken:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._connection_for_statement() as conn:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT into a table with an ``id``; returns the new row's id."""
        async with self._connection_for_statement() as conn:
            cursor = await conn.execute(postgres_sql(sql) + " RETURNING id", tuple(params))
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._connection_for_statement() as conn, conn.cursor() as cursor:
            await cursor.executemany(postgres_sql(sql), [tuple(row) for row in rows])

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._connection_for_statement() as conn:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            row: Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection_for_statement() as conn:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            return list(await cursor.fetchall())


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    try:
        return await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=_row_factory, connect_timeout=CONNECT_TIMEOUT_S
        )
    except psycopg.Error as exc:
        reason = _without_password(str(exc).strip().splitlines()[0], url)
        raise DatabasePathError(f"{shown_url(url)} cannot be reached ({reason})") from None


async def _migrate(
    conn: psycopg.AsyncConnection[Any], url: str, until: int | None = None
) -> list[str]:
    """Apply the migrations the database lacks, each in its own transaction, under an advisory
    lock (several instances may start at once)."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        await conn.execute(_SCHEMA_VERSION)
        cursor = await conn.execute("SELECT version FROM schema_version")
        done = {row[0] for row in await cursor.fetchall()}
        fresh = not done
        for version, name, sql in migrations():
            if version in done or (until is not None and version > until):
                continue
            if not fresh:
                log.info("applying migration %s", name)
            async with conn.transaction():
                await conn.execute(sql)  # no parameters: a script of several statements
                await conn.execute(
                    postgres_sql(
                        "INSERT INTO schema_version (version, name, applied_at)"
                        " VALUES (?, ?, datetime('now'))"
                    ),
                    (version, name),
                )
            applied.append(name)
        if fresh and applied:  # as SQLite's: one line for a new database
            log.info("created database %s at schema version %d", url, max(done | {version}))
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


def read_schema(url: str) -> SchemaState:
    """The schema state of a PostgreSQL database, read without changing anything (``uabot
    doctor``, ``uabot run``'s preflight: synchronous, as they are); DatabasePathError, the
    password masked, when it cannot be reached."""
    available = tuple((version, name) for version, name, _ in migrations())
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            rows = (
                conn.execute("SELECT version FROM schema_version").fetchall()
                if found and found[0]
                else []
            )
    except psycopg.Error as exc:
        reason = _without_password(str(exc).strip().splitlines()[0], url)
        raise DatabasePathError(f"{shown_url(url)} cannot be reached ({reason})") from None
    return SchemaState(frozenset(int(row[0]) for row in rows), available)

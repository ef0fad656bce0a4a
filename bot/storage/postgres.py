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
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from importlib import resources
from typing import Any, TypeVar

import psycopg
import psycopg.conninfo
import psycopg.errors
from psycopg_pool import AsyncConnectionPool

from bot.storage.db import (
    Database,
    DatabasePathError,
    DatabaseUnreachable,
    PollerLock,
    Row,
    SchemaState,
    shown_url,
    url_passwords,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# The advisory lock key under which migrations run: two instances starting at once on one
# database apply each migration once (the second waits, then finds nothing to do).
MIGRATION_LOCK = 0x75616230  # "uab0"
# The advisory lock of the one instance that polls Telegram (issue 16 §4), taken with the
# schema's hash as its second key: bots in separate schemas of one database (the tests'
# schemas too) do not share it.
POLLER_LOCK = 0x75616231  # "uab1"
# A user's updates and jobs, one instance at a time (``user_lock``): one bigint key, the
# 64-bit hash of the schema and the user id seeded with this class, so bots in separate
# schemas (the tests' parallel workers too) never wait for each other's users.
USER_LOCK_CLASS = 0x75616232  # "uab2"
_USER_LOCK_KEY = "hashtextextended(current_schema() || '/' || %s::text, %s)"
# The user-lock connection's keepalives (seconds): when a machine dies with a user's lock,
# PostgreSQL closes its session, and so frees the lock, within about idle + interval * count.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
# Per schema: bots in other schemas of the database (each its own uabot) wait for none.
_MIGRATION_KEY = f"{MIGRATION_LOCK}, hashtext(current_schema())"
CONNECT_TIMEOUT_S = 10
POOL_SIZE = 10
# Every connection's limits (``_LIMITS``): a row lock held elsewhere (psql, a report, another
# instance) fails the one request after LOCK_TIMEOUT_MS, as SQLite's busy_timeout does, instead
# of holding the process's transaction lock (and with it every user) for as long as it lasts;
# a statement still running after STATEMENT_TIMEOUT_MS is a fault (the slowest of the bot's own,
# a copy's batch or a count over every user, take well under a second at 100k users).
# A transaction left open this long is a frozen instance's (SIGSTOP, a paused VM: the bot's own
# hold no Telegram call): the server ends it, and the rows it locked go back to the others.
LOCK_TIMEOUT_MS = 5_000
STATEMENT_TIMEOUT_MS = 60_000
IDLE_IN_TRANSACTION_MS = 30_000
_LIMITS = (
    f"SET lock_timeout = {LOCK_TIMEOUT_MS}; SET statement_timeout = {STATEMENT_TIMEOUT_MS};"
    f" SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}"
)
# ping's probe: a statement of this bot waiting on a lock for longer than this is a fault to
# report, as SQLite's probe reports a write lock held as long.
PROBE_WAIT_MS = 1_000

_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _without_password(text: str, url: str) -> str:
    for password in url_passwords(url):
        text = text.replace(password, "***")
    return text


# libpq's words for a server not (yet) there: after a reboot PostgreSQL may start after uabot.
_NOT_YET = (
    "Connection refused",
    "timeout expired",
    "No such file or directory",  # its socket not created yet
    "the database system is starting up",
    "the database system is shutting down",
    "Network is unreachable",
)


def _unreachable(exc: psycopg.Error, url: str) -> DatabasePathError:
    """A failed connection as one line; ``DatabaseUnreachable`` when waiting may cure it."""
    text = str(exc).strip()
    reason = _without_password(text.splitlines()[0] if text else type(exc).__name__, url)
    fix = "check storage.url and that PostgreSQL runs"
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):  # CONNECT revoked
        return DatabasePathError(f"{shown_url(url)} refuses this role ({reason}): {_GRANT}")
    kind = DatabaseUnreachable if any(m in text for m in _NOT_YET) else DatabasePathError
    return kind(f"{shown_url(url)} cannot be reached ({reason}): {fix}")


_GRANT = (
    "give uabot a database of its own (createdb -O ROLE DATABASE), or let its role create "
    "tables there (GRANT CREATE ON SCHEMA public TO ROLE); docs/operating.md: PostgreSQL"
)


def _no_privilege(exc: psycopg.Error, url: str) -> DatabasePathError:
    """Permission denied (PostgreSQL 15 lets only the database's owner create in ``public``;
    tables made by another role): one line with the fix, not a traceback."""
    user = psycopg.conninfo.conninfo_to_dict(url).get("user") or "ROLE"
    database = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or "DATABASE"
    reason = _without_password(str(exc).strip().splitlines()[0], url)
    if "for table" in reason or "for sequence" in reason:  # another role made the tables
        fix = (
            f"connect as the role that owns uabot's tables, or make {user} their owner "
            f"(REASSIGN OWNED BY that_role TO {user}, as that role or a superuser)"
        )
    else:
        fix = _GRANT.replace("ROLE", str(user)).replace("DATABASE", str(database))
    return DatabasePathError(f"{shown_url(url)}: {reason}: {fix}")


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


class SessionLock:
    """A session advisory lock on a connection of its own, not the pool's: the lock belongs
    to the session, and it must go when the instance dies (its connection closes: at once
    after a SIGKILL; after the TCP keepalives when its machine is gone) and only then.

    Keepalives both ways: the server drops a silent holder (``tcp_keepalives_*``, set for
    this session), and this side notices a silent server (libpq's), so a leader cut off from
    the database stops polling (``holds`` is False) while another takes over. Keepalives
    alone miss a holder whose kernel answers for it (a frozen process or paused VM, a
    middlebox between): the server also ends the session after a lease without a statement
    (``idle_session_timeout``); the holder speaks well within it (``holds``)."""

    def __init__(self, url: str, key: int, keepalive: float) -> None:
        self._url = url
        self._key = key
        self._keepalive = max(1, round(keepalive / 3))  # idle, then 3 probes this far apart
        self._lease = keepalive
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._abandoned: asyncio.Future[None] | None = None  # a session given up on

    async def acquire(self) -> bool:
        # A standby's session the server ended while it waited (its retry longer than the
        # lease, a restart) is known gone only at its next statement: once more on a new one.
        reused = self._conn is not None and not self._conn.closed
        taken = await self._try_acquire()
        if taken is None and reused:
            taken = await self._try_acquire()
        return bool(taken)

    async def _try_acquire(self) -> bool | None:
        """Whether the lock is this session's; None when the database could not say."""
        try:
            if self._conn is None or self._conn.closed:
                await self._drop()
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    keepalives=1,
                    keepalives_idle=self._keepalive,
                    keepalives_interval=self._keepalive,
                    keepalives_count=3,
                )
                for setting in ("idle", "interval"):
                    await self._conn.execute(
                        f"SET tcp_keepalives_{setting} = {self._keepalive}"  # a whole number
                    )
                await self._conn.execute("SET tcp_keepalives_count = 3")
                await _end_when_quiet(self._conn, self._lease)
            cursor = await self._conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (self._key,)
            )
            row = await cursor.fetchone()
        except psycopg.Error:
            await self._drop()
            return None
        return bool(row and row[0])

    async def holds(self) -> bool:
        """Whether the lock is still this session's: asked of the server (pg_locks: not just
        an open socket), and given up after a third of the lease. Called every third of a
        lease at most, it fails before the server ends the quiet session (a lease after the
        last answered check), so a standby never polls while this one still does."""
        conn = self._conn
        if conn is None or conn.closed:
            return False
        check = asyncio.ensure_future(_holds_advisory_lock(conn))
        done, _ = await asyncio.wait({check}, timeout=self._lease / 3)
        if not done:
            # Not waited for: psycopg's cancel of a statement on a silent path takes seconds.
            self._conn = None
            self._abandoned = asyncio.ensure_future(_abandon(conn, check))
            return False
        try:
            held = check.result()
        except psycopg.Error:
            held = False
        if not held:
            await self._drop()
        return held

    async def release(self) -> None:
        await self._drop()  # closing the session releases its locks
        if self._abandoned is not None and not self._abandoned.done():
            self._abandoned.cancel()
            with suppress(asyncio.CancelledError):
                await self._abandoned

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(psycopg.Error):
                await conn.close()


async def _holds_advisory_lock(conn: psycopg.AsyncConnection[Any]) -> bool:
    cursor = await conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        " AND pid = pg_backend_pid() AND granted"
    )
    row = await cursor.fetchone()
    return bool(row and row[0])


async def _abandon(conn: psycopg.AsyncConnection[Any], check: asyncio.Future[bool]) -> None:
    """Close a lock session given up on, whenever its statement's cancel ends."""
    check.cancel()
    with suppress(asyncio.CancelledError, psycopg.Error):
        await check
    with suppress(psycopg.Error):
        await conn.close()


class _Hold:
    """This process's hold of one user's lock: how many of its tasks are in it."""

    def __init__(self) -> None:
        self.count = 0
        self.taking = asyncio.Lock()
        self.taken = False
        # The session it was taken on ended (terminated, failover, a cut the ping noticed):
        # the tasks in it run on without the lock; the next task takes it again.
        self.lost = False

    @staticmethod
    def key(user_id: int) -> tuple[int, int]:
        return (user_id, USER_LOCK_CLASS)


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
        # The user locks' own connection (a session lock belongs to its session: not the
        # pool's), and this process's holders and waiters by user (session locks nest).
        self._lock_conn: psycopg.AsyncConnection[Any] | None = None
        self._lock_conn_opening = asyncio.Lock()
        self._users: dict[int, _Hold] = {}
        # Speaks on the user-lock session while this process holds any user's lock: the
        # server ends a session quiet for a lease (a frozen holder's), not a live one's.
        self._keeper: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True) -> PostgresDatabase:
        """Connect (the first connection tells why one fails), migrate, open the pool."""
        conn = await _connect(url)
        try:
            if migrate:
                await _migrate(conn, shown_url(url))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _no_privilege(exc, url) from None
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
            kwargs={
                "autocommit": True,
                "row_factory": _row_factory,
                # This process's pool by name: ping counts its own waits only, not another
                # instance's or another bot's in the same database.
                "application_name": f"uabot {os.getpid()} {secrets.token_hex(4)}",
            },
            configure=_configure,
            check=_check_all_when_one_is_gone,
            timeout=CONNECT_TIMEOUT_S,
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        return cls(pool, url)

    @property
    def url(self) -> str:
        return shown_url(self._url)

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._keeper
        if self._lock_conn is not None:
            await self._lock_conn.close()
            self._lock_conn = None
        await self._pool.close()

    def poller_lock(self, keepalive: float) -> PollerLock:
        return SessionLock(self._url, POLLER_LOCK, keepalive)

    @asynccontextmanager
    async def user_lock(self, user_id: int, retry: float) -> AsyncIterator[bool]:
        """Hold the user's advisory lock (``USER_LOCK_CLASS``) for the block, trying again every
        ``retry`` seconds while another instance holds it. This process's own concurrent
        tasks for the user share its hold, as they share its memory on one instance; True
        for the one that took it (the others find the user's state already read). An
        instance that dies frees its locks with its session."""
        hold = self._users.setdefault(user_id, _Hold())
        hold.count += 1
        first = False
        try:
            async with hold.taking:
                if not hold.taken:
                    # Polled: the holder is another process, no event of ours tells it ends.
                    key = hold.key(user_id)
                    take = f"SELECT pg_try_advisory_lock({_USER_LOCK_KEY})"
                    taken = await self._lock_call(take, key, again=True)
                    since, told = time.monotonic(), False
                    while not taken:
                        await asyncio.sleep(retry)
                        taken = await self._lock_call(take, key, again=True)
                        waited = time.monotonic() - since
                        if not told and self.lease and waited > self.lease:
                            # No user id: ids are personal data.
                            log.warning(
                                "a user's lock waited %.0f s: another instance holds it", waited
                            )
                            told = True
                    hold.taken = first = True
                    hold.lost = False
                    if self.lease and self._keeper is None:
                        self._keeper = asyncio.create_task(self._keep_user_locks())
            yield first
        finally:
            hold.count -= 1
            if not hold.count:
                del self._users[user_id]
                if hold.taken:  # a session lock nests: one taken again meanwhile stays held
                    with suppress(psycopg.OperationalError):  # a lost session holds nothing
                        unlock = f"SELECT pg_advisory_unlock({_USER_LOCK_KEY})"
                        await self._lock_call(unlock, hold.key(user_id))

    async def _lock_call(self, sql: str, key: tuple[int, int], *, again: bool = False) -> bool:
        """Run ``sql`` on the user-lock session; ``again``: once more on a new session if
        that one is gone (a take: the server ends a session quiet for a lease)."""
        conn = await self._lock_session()
        try:
            cursor = await conn.execute(sql, key)
            row = await cursor.fetchone()
        except psycopg.OperationalError:
            await self._lock_session_lost(conn)
            if not again:
                raise
            cursor = await (await self._lock_session()).execute(sql, key)
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def _lock_session(self) -> psycopg.AsyncConnection[Any]:
        async with self._lock_conn_opening:
            if self._lock_conn is None or self._lock_conn.closed:
                self._lock_conn = await _connect(self._url)
                for name, seconds in KEEPALIVE.items():
                    await self._lock_conn.execute(f"SET {name} = {seconds}")
                if self.lease:
                    await _end_when_quiet(self._lock_conn, self.lease)
            return self._lock_conn

    async def _lock_session_lost(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The user-lock session ``conn`` ended: every hold taken on it is gone with it
        (another instance may take those users now), known so, not silently kept."""
        with suppress(psycopg.Error):
            await conn.close()
        if self._lock_conn is conn:
            self._lock_conn = None
        lost = [hold for hold in self._users.values() if hold.taken]
        for hold in lost:
            hold.taken, hold.lost = False, True
        if lost:
            log.warning(
                "lost the database session of %d users' locks: their updates in progress"
                " run on without them",
                len(lost),
            )

    async def _keep_user_locks(self) -> None:
        """Ping the user-lock session every lease / 3 while this process holds a user's
        lock (``idle_session_timeout`` ends it after a quiet lease); a ping that fails or
        takes a lease / 3 means the session, and the locks, are lost."""
        every = self.lease / 3
        try:
            while any(hold.taken for hold in self._users.values()):
                await asyncio.sleep(every)
                conn = self._lock_conn
                if conn is None or not any(hold.taken for hold in self._users.values()):
                    continue
                try:
                    await asyncio.wait_for(conn.execute("SELECT 1"), every)
                except (psycopg.Error, TimeoutError):
                    await self._lock_session_lost(conn)
        finally:
            self._keeper = None

    async def ping(self) -> None:
        """Raise unless the database answers (psycopg's error: libpq's words carry no
        password), takes writes (not a read-only standby) and none of this bot's statements
        waits on a lock longer than ``PROBE_WAIT_MS`` (a session elsewhere holds rows the bot
        needs: every request touching them fails after ``LOCK_TIMEOUT_MS``)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT pg_is_in_recovery(), (SELECT COUNT(*) FROM pg_stat_activity"
                " WHERE datname = current_database()"
                " AND application_name = current_setting('application_name')"
                " AND wait_event_type = 'Lock' AND state = 'active'"
                " AND query_start < clock_timestamp() - make_interval(secs => %s))",
                (PROBE_WAIT_MS / 1000,),
            )
            row = await cursor.fetchone()
        if row is not None and row[0]:
            raise DatabasePathError(f"{self.url} is a read-only standby: point it at the primary")
        if row is not None and row[1]:
            raise DatabasePathError(
                f"{self.url}: {row[1]} of the bot's statements wait on a lock another session"
                " holds (pg_locks tells which): end that session"
            )

    async def schema_version(self) -> int:
        value = await self.fetch_value("SELECT MAX(version) FROM schema_version")
        return int(value or 0)

    async def migrate(self, until: int | None = None) -> list[str]:
        async with self._pool.connection() as conn:
            try:
                return await _migrate(conn, self.url, until)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise _no_privilege(exc, self._url) from None

    async def _run(self, statement: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        """Run one statement: on the task's transaction's connection, or on one from the pool.

        A lone statement that meets a connection the server closed under it (a restart between
        the pool's check and the statement) runs once more on a fresh one: the connection was
        gone before the statement reached the server, so nothing was written twice. Inside a
        transaction it is the caller's error (what the transaction wrote is gone with it).
        """
        current = self._connection.get()
        if current is not None:
            return await statement(current)
        for attempt in (1, 2):
            async with self._pool.connection() as conn:
                try:
                    return await statement(conn)
                except psycopg.OperationalError:
                    if attempt == 2 or not conn.broken:
                        raise
                    log.info("a pooled connection was closed by the server: trying another")
        raise AssertionError("unreachable")

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
        async def run(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            return cursor.rowcount

        return await self._run(run)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT into a table with an ``id``; returns the new row's id."""

        async def run(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = await conn.execute(postgres_sql(sql) + " RETURNING id", tuple(params))
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

        return await self._run(run)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        values = [tuple(row) for row in rows]

        async def run(conn: psycopg.AsyncConnection[Any]) -> None:
            async with conn.cursor() as cursor:
                await cursor.executemany(postgres_sql(sql), values)

        await self._run(run)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async def run(conn: psycopg.AsyncConnection[Any]) -> Row | None:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            row: Row | None = await cursor.fetchone()
            return row

        return await self._run(run)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async def run(conn: psycopg.AsyncConnection[Any]) -> list[Row]:
            cursor = await conn.execute(postgres_sql(sql), tuple(params))
            return list(await cursor.fetchall())

        return await self._run(run)


_checks: set[asyncio.Task[None]] = set()


async def _check_all_when_one_is_gone(conn: psycopg.AsyncConnection[Any]) -> None:
    """The pool's check before it hands a connection out: one the server ended while it idled
    (a restart, idle_session_timeout, pgbouncer, a NAT forgetting it) is replaced, not given
    to a request. One empty round trip per checkout (measured 0.2 ms over a local socket on a
    busy machine, one network round trip elsewhere). A dead one means the others idling
    beside it are likely dead too: all are checked at once, or the pool would try them one by
    one with its back-off between (1, 2, 4 … s: ten dead connections outlast its timeout)."""
    try:
        await AsyncConnectionPool.check_connection(conn)
    except psycopg.Error:
        pool = getattr(conn, "_pool", None)
        if isinstance(pool, AsyncConnectionPool) and not _checks:
            task = asyncio.ensure_future(pool.check())
            _checks.add(task)
            task.add_done_callback(_checks.discard)
        raise


async def _end_when_quiet(conn: psycopg.AsyncConnection[Any], seconds: float) -> None:
    """The server ends this session after ``seconds`` without a statement, and with it the
    session's locks: a frozen holder (SIGSTOP, a paused VM, a silent middlebox path, whose
    keepalives are still answered) loses them within the lease. PostgreSQL 14 and later;
    older servers rely on the keepalives alone."""
    if conn.info.server_version >= 140000:
        await conn.execute(f"SET idle_session_timeout = {max(1, round(seconds * 1000))}")


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Every pooled connection's limits (``_LIMITS``), set once per session."""
    await conn.execute(_LIMITS)


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    try:
        return await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=_row_factory, connect_timeout=CONNECT_TIMEOUT_S
        )
    except psycopg.Error as exc:
        raise _unreachable(exc, url) from None


async def _migrate(
    conn: psycopg.AsyncConnection[Any], url: str, until: int | None = None
) -> list[str]:
    """Apply the migrations the database lacks, each in its own transaction, under an advisory
    lock (several instances may start at once)."""
    applied: list[str] = []
    # Before the lock (a read): another instance creates schema_version before any table.
    cursor = await conn.execute(_FOREIGN_TABLES)
    _refuse_foreign(url, await cursor.fetchone())
    cursor = await conn.execute(f"SELECT pg_try_advisory_lock({_MIGRATION_KEY})")
    taken = await cursor.fetchone()
    if not (taken and taken[0]):
        log.info("waiting for another uabot migrating %s to finish", url)
        await conn.execute(f"SELECT pg_advisory_lock({_MIGRATION_KEY})")
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
            log.info("created tables in %s at schema version %d", url, max(done | {version}))
    finally:
        await conn.execute(f"SELECT pg_advisory_unlock({_MIGRATION_KEY})")
    return applied


# Where uabot would make its tables (NULL: the search_path names no schema that exists) and,
# when no schema_version is there, a few of the tables found instead: another program's.
_FOREIGN_TABLES = (
    "SELECT current_schema(), CASE WHEN to_regclass('schema_version') IS NULL THEN"
    " (SELECT string_agg(name, ', ') FROM (SELECT table_name AS name"
    "  FROM information_schema.tables WHERE table_schema = current_schema()"
    "  ORDER BY table_name LIMIT 3) AS found) END"
)


def _refuse_foreign(url: str, row: Sequence[Any] | None) -> None:
    """Refuse, before anything is written, a database uabot must not make its tables in."""
    if row is None:
        return
    schema, foreign = row
    if schema is None:
        raise DatabasePathError(
            f"{url}: its search_path names no schema that exists: create the schema or fix"
            " the search_path (options=-csearch_path%3D…)"
        )
    if foreign:
        raise DatabasePathError(
            f"{url} holds tables that are not uabot's ({foreign} in schema {schema}): give"
            " uabot its own database or schema"
        )


def read_schema(url: str) -> SchemaState:
    """The schema state of a PostgreSQL database, read without changing anything (``uabot
    doctor``, ``uabot run``'s preflight: synchronous, as they are); DatabasePathError, the
    password masked, when it cannot be reached."""
    available = tuple((version, name) for version, name, _ in migrations())
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise _unreachable(exc, url) from None
    try:
        with conn:
            _refuse_foreign(shown_url(url), conn.execute(_FOREIGN_TABLES).fetchone())
            found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            rows = (
                conn.execute("SELECT version FROM schema_version").fetchall()
                if found and found[0]
                else []
            )
            state = SchemaState(frozenset(int(row[0]) for row in rows), available)
            # Migrations create tables: the role must be allowed to (PostgreSQL 15: only the
            # database's owner may create in public unless granted).
            creates = conn.execute(
                "SELECT has_schema_privilege(current_schema(), 'CREATE')"
            ).fetchone()
            if state.pending and not (creates and creates[0]):
                raise psycopg.errors.InsufficientPrivilege(
                    "permission denied for schema public (this role may not create tables)"
                )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise _no_privilege(exc, url) from None
    except psycopg.Error as exc:
        raise _unreachable(exc, url) from None
    return state

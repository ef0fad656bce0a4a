"""The one SQLite connection, its migrations and its transactions.

SQLite has one writer; the bot holds one aiosqlite connection in autocommit mode and serialises
transactions with a lock. The caller owns a transaction (``async with db.transaction():``);
repositories only run statements and never commit on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# The database holds subscribers' ids and drafts: readable by the bot's user only. SQLite
# gives its -wal and -shm files the database file's mode.
FILE_MODE = 0o600
_COMPANIONS = ("-wal", "-shm")
# The first 16 bytes of every SQLite 3 database file.
_SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# The health check's write probe: a write lock held longer than this is a fault to report.
PROBE_BUSY_MS = 1000


class Row(Protocol):
    """A row as the repositories read it, by index or column name: ``sqlite3.Row`` on SQLite,
    ``bot.storage.postgres.PgRow`` on PostgreSQL."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...


def is_postgres_url(target: object) -> bool:
    """Whether a storage target names PostgreSQL (``postgresql://…``), not a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def shown_url(url: str) -> str:
    """A database URL for logs and errors: the one masking of ``storage.url``. The user and
    password are masked (``***@``, as bot.ptb.redact masks a URL in the logs), and a
    ``password`` in the query string is dropped: libpq takes it there too."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"***@{netloc.rpartition('@')[2]}"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair.partition("=")[0] != "password"
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def url_passwords(url: str | None) -> tuple[str, ...]:
    """Every spelling of the password a ``storage.url`` carries (in its user part or its
    query string, with the client key's ``sslpassword``; raw and decoded): what no output may
    show."""
    if not url:
        return ()
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [
        value
        for pair in parts.query.split("&")
        for key, _, value in [pair.partition("=")]
        if key in ("password", "sslpassword") and value  # libpq takes both from a URL
    ]
    return tuple(dict.fromkeys(spelling for raw in found for spelling in (raw, unquote(raw))))


# The README's command: what installs the PostgreSQL driver into uabot's venv.
PSYCOPG_INSTALL = 'pip install -e ".[postgres]"'


def require_psycopg(url: str) -> None:
    """Refuse a ``storage.url`` when psycopg (the extra ``postgres``) is not installed: one
    line with the command, before anything imports ``bot.storage.postgres``."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise DatabasePathError(
            f"{shown_url(url)}: PostgreSQL needs psycopg, which is not installed: run "
            f"{PSYCOPG_INSTALL} in uabot's folder (with its venv active)"
        ) from None


class DatabasePathError(Exception):
    """The database file cannot be used; one line naming the path, the reason and the fix."""


class DatabaseUnreachable(DatabasePathError):
    """PostgreSQL does not answer yet (refused, timed out, starting up): ``uabot run`` waits
    for it as it waits for Telegram, since after a reboot the database may come later."""


def check_path(path: Path) -> None:
    """Refuse a database path SQLite could not open, before anything else is started."""
    if path.is_dir():
        raise DatabasePathError(
            f"{path} is a folder: name a file in it, e.g. {path / 'uabot.sqlite3'}"
        )
    folder = path.parent
    if not folder.is_dir():
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise DatabasePathError(
                f"{path}: {blocker} is a file, not a folder: choose a path in a folder"
            )
        raise DatabasePathError(
            f"{path}: the folder {folder} does not exist: create it (mkdir -p {folder}) "
            "or choose another path"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabasePathError(
            f"{path}: the folder {folder} is not writable by this user (SQLite writes its "
            "-wal and -shm files beside the database): choose a writable folder"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabasePathError(
            f"{path} is not readable and writable by this user: fix its owner or mode"
        )


class DatabaseInUse(Exception):
    """Another ``uabot run`` holds this database: two would answer every update twice."""

    def __init__(self, message: str, pid: str = "?") -> None:
        super().__init__(message)
        self.pid = pid


def hold_lock(path: Path) -> int:
    """Lock ``<database>.lock`` (created 0600) for the life of the process; its descriptor.

    ``flock`` is released by the kernel when the process ends, however it ends, so a crash
    leaves no stale lock; the file keeps the holder's pid for the message.
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise DatabasePathError(f"{path}: cannot create {lock_path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise DatabaseInUse(
            f"another uabot is running on this database (pid {pid}): stop it first, "
            f"or give this one another storage.path than {path}",
            pid,
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def lock_holder(path: Path) -> str | None:
    """The pid written in ``<database>.lock`` while a process holds it (``hold_lock``); None
    when no uabot runs on ``path``. Only looks: creates nothing, writes nothing."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.read(fd, 32).decode("ascii", "replace").strip() or "?"
    finally:
        os.close(fd)  # also releases the shared lock taken
    return None


def _check_sqlite(path: Path) -> None:
    """Refuse an existing file that is not a SQLite database before touching it (or its mode)."""
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabasePathError(f"{path} cannot be read: {exc.strerror}") from None
    if header and header != _SQLITE_HEADER:
        raise DatabasePathError(
            f"{path} cannot be opened as a SQLite database (file is not a database): point it "
            "at the bot's database or at a new file"
        )


def _create_private(path: Path) -> None:
    """Create the database file (if missing) and tighten its companions to owner-only."""
    _check_sqlite(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    except OSError as exc:  # say, a folder where no file can be made (/proc), a full disk
        raise DatabasePathError(f"{path} cannot be created: {exc.strerror}") from None
    for file in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & ~FILE_MODE:
                file.chmod(mode & FILE_MODE)
                log.info("%s was open to others (mode %o): now %o", file, mode, mode & FILE_MODE)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by others and not ours to change: chmod 600 it", file)


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migrations shipped in ``bot/storage/migrations`` as (version, name, sql)."""
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    # Numbers are reserved per branch of work, so gaps are allowed; a number used twice is not.
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


@dataclass(frozen=True)
class SchemaState:
    """Which migrations a database file has, against those this code ships."""

    applied: frozenset[int]
    available: tuple[tuple[int, str], ...]  # (version, file name), by number

    @property
    def version(self) -> int:
        return max(self.applied, default=0)

    @property
    def pending(self) -> list[str]:
        """The shipped migrations the database lacks (applied at the next start)."""
        return [name for version, name in self.available if version not in self.applied]

    @property
    def unknown(self) -> list[int]:
        """Versions applied that this code does not ship: a newer uabot made the database."""
        shipped = {version for version, _ in self.available}
        return sorted(self.applied - shipped)


def open_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection; ``immutable``: for a file no one writes (a backup), which
    SQLite then opens without locks and without creating -wal or -shm files beside it."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True)


def read_schema(path: Path, *, immutable: bool = False) -> SchemaState:
    """The schema state of an existing database file, read without changing anything (no
    migration, no schema_version table created): for ``uabot doctor`` and ``restore``."""
    available = tuple((version, name) for version, name, _ in migrations())
    _check_sqlite(path)
    try:
        conn = open_read_only(path, immutable=immutable)
    except sqlite3.Error as exc:
        raise DatabasePathError(f"{path} cannot be opened ({exc})") from None
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        rows = conn.execute("SELECT version FROM schema_version").fetchall() if has_table else []
    except sqlite3.DatabaseError as exc:
        raise DatabasePathError(
            f"{path} cannot be read as a SQLite database ({exc}): point it at the bot's database"
        ) from None
    finally:
        conn.close()
    # uabot writes whole numbers only: anything else is another program's schema_version.
    odd = next((row[0] for row in rows if type(row[0]) is not int), None)
    if odd is not None:
        raise DatabasePathError(
            f"{path} is no uabot database: its schema_version holds {odd!r}, not a version number"
        )
    return SchemaState(frozenset(int(row[0]) for row in rows), available)


def tables_at(applied: frozenset[int]) -> set[str]:
    """The tables uabot's migrations ``applied`` make (built in memory): what a uabot
    database at that state holds, to tell it from another program's file."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            "CREATE TABLE schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for version, _, sql in migrations():
            if version in applied:
                conn.executescript(sql)
        return {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        conn.close()


class PollerLock(Protocol):
    """Held by the one instance that polls Telegram (issue 16 §4): PostgreSQL's advisory lock
    on a connection of its own (``bot.storage.postgres.SessionLock``); on SQLite, ``Sole``."""

    async def acquire(self) -> bool:
        """Take the lock if no one holds it; True while this instance holds it."""
        ...

    async def holds(self) -> bool:
        """Whether the lock is still this instance's (its connection answers)."""
        ...

    async def release(self) -> None: ...


class Sole:
    """SQLite's poller lock: the file lock (``hold_lock``) already makes this instance the
    only one, so it always holds it."""

    async def acquire(self) -> bool:
        return True

    async def holds(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class Database:
    """An open SQLite database with WAL, foreign keys and the schema brought up to date."""

    # Whether other processes may use this database at the same time (PostgreSQL: several
    # ``uabot run`` instances, issue 16 §4): then the repositories coordinate them (claims,
    # leases, advisory locks). A SQLite file has one bot (``hold_lock``): what the bot keeps in
    # memory is the truth, ``poller_lock`` is always held and ``user_lock`` holds nothing.
    shared = False
    # ``instances.lease_seconds`` (set at start, bot.app): how long a silent instance's
    # locks outlive it on PostgreSQL. One instance on SQLite: unused.
    lease = 0.0

    def __init__(self, connection: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = connection
        self._path = path
        self._lock = asyncio.Lock()
        self._identity: tuple[int, int] | None = None
        self._in_transaction: ContextVar[bool] = ContextVar(f"in_tx_{id(self)}", default=False)

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open (or create, owner-only) the database; DatabasePathError when it cannot be.
        A ``postgresql://`` URL opens PostgreSQL instead (``bot.storage.postgres``): the one
        place that chooses the backend."""
        if is_postgres_url(path):
            require_psycopg(str(path))
            from bot.storage.postgres import PostgresDatabase

            return await PostgresDatabase.connect(str(path), migrate=migrate)
        return await cls.open_sqlite(Path(path), migrate=migrate)

    @classmethod
    async def open_sqlite(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open (or create) the SQLite file, whatever ``open`` would choose (a copy's source)."""
        path = Path(path)
        check_path(path)
        _create_private(path)
        # Not cut short by a stop (``uabot run`` cancels a start): its thread would answer a
        # loop already closed (a traceback). Opening is quick; the stop comes right after.
        connecting = asyncio.ensure_future(aiosqlite.connect(str(path), isolation_level=None))
        try:
            conn = await asyncio.shield(connecting)
        except asyncio.CancelledError:
            with contextlib.suppress(sqlite3.Error, OSError):
                await (await connecting).close()
            raise
        except (sqlite3.Error, OSError) as exc:
            raise DatabasePathError(f"{path} cannot be opened ({exc})") from None
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except (sqlite3.DatabaseError, OSError) as exc:
            await conn.close()
            raise DatabasePathError(
                f"{path} cannot be opened as a SQLite database ({exc}): point it at the bot's "
                "database or at a new file"
            ) from None
        except BaseException:  # a stop (cancelled): nothing left open
            await conn.close()
            raise
        db = cls(conn, path)
        with contextlib.suppress(OSError):  # the file now open: ping tells if it is replaced
            opened = path.stat()
            db._identity = (opened.st_dev, opened.st_ino)
        if migrate:
            try:
                await db.migrate()
            except BaseException:  # a stop (cancelled) mid-migration, too: nothing left open
                await conn.close()
                raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    def poller_lock(self, keepalive: float) -> PollerLock:
        """The lock whose holder alone polls Telegram; ``keepalive``: seconds after which a
        silent peer counts as dead (PostgreSQL's TCP keepalives)."""
        return Sole()

    @asynccontextmanager
    async def user_lock(self, user_id: int, retry: float) -> AsyncIterator[bool]:
        """Handle one user's updates and jobs in one instance at a time, across every
        instance on this database (``retry``: seconds between tries while another holds it);
        True for the task that took it. One instance: nothing to hold, its updates run as
        they always did."""
        yield True

    async def ping(self) -> None:
        """Raise unless the database can be written (health checks): its file is still the
        one open here (not deleted or replaced under the bot, whose writes would go nowhere)
        and no other connection holds the write lock for longer than ``PROBE_BUSY_MS``."""
        if self._path is not None and self._identity is not None:
            try:
                found = self._path.stat()
            except FileNotFoundError:
                raise DatabasePathError(
                    f"{self._path} was deleted while the bot runs: what it writes now is lost"
                ) from None
            if (found.st_dev, found.st_ino) != self._identity:
                raise DatabasePathError(
                    f"{self._path} was replaced while the bot runs: it still writes the old file"
                )
        # Shielded: a health check's timeout must not leave BEGIN without its ROLLBACK.
        await asyncio.shield(self._write_probe())

    async def _write_probe(self) -> None:
        async with self._lock:  # not inside another task's transaction
            await self._conn.execute(f"PRAGMA busy_timeout = {PROBE_BUSY_MS}")
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.execute("ROLLBACK")
            finally:
                await self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    async def schema_version(self) -> int:
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0] or 0) if row else 0

    async def migrate(self, until: int | None = None) -> list[str]:
        """Apply the migrations this database lacks, each in its own transaction; ``until``:
        only those up to that version (the upgrade test builds each earlier schema so)."""
        applied = []
        await self.schema_version()  # creates the table on a new database
        done = {row[0] for row in await self.fetch_all("SELECT version FROM schema_version")}
        # A new database gets every migration: one line says so, not one per migration.
        fresh = not done
        # By number, not "above the highest": a lower number merged later still applies.
        for version, name, sql in migrations():
            if version in done or (until is not None and version > until):
                continue
            if not fresh:  # a migration of a large database can take a while: say which
                log.info("applying migration %s", name)
            async with self.transaction():
                for statement in _split_sql(sql):
                    await self._conn.execute(statement)
                await self._conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at)"
                    " VALUES (?, ?, datetime('now'))",
                    (version, name),
                )
            if not fresh:
                log.info("applied migration %s", name)
            applied.append(name)
        if fresh and applied:
            log.info(
                "created database %s at schema version %d",
                self._path or "(in memory)",
                await self.schema_version(),
            )
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block atomically; nested use joins the outer transaction."""
        if self._in_transaction.get():
            yield
            return
        async with self._lock:
            token = self._in_transaction.set(True)
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    # A stop: the statement running in aiosqlite's thread ends now, not when
                    # it is done (a migration of a large database), and the ROLLBACK follows.
                    await self._conn.interrupt()
                try:
                    await self._conn.execute("ROLLBACK")
                except sqlite3.OperationalError:
                    if self._conn.in_transaction:
                        raise  # an interrupted write rolls the transaction back by itself
                raise
            else:
                await self._conn.execute("COMMIT")
            finally:
                self._in_transaction.reset(token)

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[None]:
        # A lone statement must not slip into another task's open transaction.
        if self._in_transaction.get():
            yield
        else:
            async with self._lock:
                yield

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement; returns the number of rows changed."""
        async with self._statement():
            cursor = await self._conn.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT; returns the new row id."""
        async with self._statement():
            cursor = await self._conn.execute(sql, params)
            row_id = cursor.lastrowid
            await cursor.close()
            return int(row_id or 0)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._statement():
            await self._conn.executemany(sql, rows)

    # Reads take no lock: on the shared connection they may see what a transaction another
    # task has open wrote so far. A caller that must not, reads inside its own transaction.
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements; a ';' inside a trigger's body or a literal does not
    end one (``sqlite3.complete_statement`` says where one ends)."""
    statements: list[str] = []
    current = ""
    for part in sql.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            statement = current.strip().removesuffix(";").strip()
            if statement and not all(
                line.strip().startswith("--") or not line.strip()
                for line in statement.splitlines()
            ):
                statements.append(statement)
            current = ""
    if current.strip().removesuffix(";").strip():
        statements.append(current.strip().removesuffix(";"))
    return statements

"""Consistent copies of the database, taken and put back with SQLite's online backup API.

The bot runs in WAL mode: the database file alone is not the database (committed pages may
still be in ``-wal``), so copying it is no backup. ``sqlite3.Connection.backup`` reads every
page under one read transaction on its own connection, so the copy is one committed state
while the bot goes on writing. Both directions write a temporary file created owner-only in
the target's folder and rename it into place: a reader never sees half a file, and the copy
is never readable by others, not even for a moment.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.db import (
    DatabasePathError,
    SchemaState,
    open_read_only,
    read_schema,
    tables_at,
)

# The database's own files: never a backup's target.
_OWN_FILES = ("", "-wal", "-shm", "-journal", ".lock")


class BackupRefused(Exception):
    """The backup cannot be restored here (one line with the reason and the fix)."""


class TargetRefused(Exception):
    """``uabot backup --to`` names no file a backup may be written to (one line, the fix)."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup (or a restored database) holds: for the operator's one glance."""

    path: Path
    size: int  # bytes
    schema: SchemaState
    rows: dict[str, int]  # table -> row count, by table name


def _tables(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    # Table names come from sqlite_master itself, quoted as identifiers.
    return {
        name: int(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]) for name in names
    }


def snapshot(path: Path) -> Snapshot:
    """Size, schema state and row counts of a file no one writes (a backup, a database just
    put back): opened immutable, so no -wal or -shm file is created beside it."""
    conn = open_read_only(path, immutable=True)
    try:
        rows = _tables(conn)
    finally:
        conn.close()
    return Snapshot(path, path.stat().st_size, read_schema(path, immutable=True), rows)


@contextlib.contextmanager
def _private_temp(beside: Path) -> Iterator[Path]:
    """A new empty file in ``beside``'s folder, mode 0600 from its creation (mkstemp), removed
    unless the caller renamed it into place."""
    fd, name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".tmp", dir=beside.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
    finally:  # also on Ctrl-C or SIGTERM (the CLI turns it into KeyboardInterrupt)
        temp.unlink(missing_ok=True)
        temp.with_name(temp.name + "-journal").unlink(missing_ok=True)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Every page of ``source`` into the (empty) file ``target``, as one rollback-journal
    database: a backup is one self-contained file, without -wal or -shm."""
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
        problem = dest.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise DatabasePathError(f"the copy fails SQLite's check: {problem}")
    finally:
        dest.close()
    with target.open("rb") as file:
        os.fsync(file.fileno())


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_target(target: Path, *, force: bool) -> None:
    """Refuse a target that is a folder, or a file already there unless ``force`` (and even
    then one that is no uabot database: a typo must not replace the config or anything else)."""
    if target.is_dir():
        raise TargetRefused(
            f"{target} is a folder: name a file in it, e.g. {target / 'uabot.sqlite3'}"
        )
    if not target.exists():
        return
    if not force:
        raise TargetRefused(
            f"{target} already exists: choose a new file name, or add --force to replace it"
        )
    try:
        check_restorable(target)
    except BackupRefused as refusal:
        raise TargetRefused(f"not replaced, even with --force: {refusal}") from None


def take(database: Path, target: Path, *, force: bool = False) -> Snapshot:
    """Back ``database`` up into ``target``, while the bot may run. An existing ``target`` is
    replaced only with ``force``, and only if it is a uabot database (an older backup)."""
    if not database.is_file():
        raise DatabasePathError(f"{database} does not exist: check storage.path")
    own = {database.resolve().with_name(database.name + suffix) for suffix in _OWN_FILES}
    if target.resolve() in own:
        raise TargetRefused(
            f"{target} is the database (or one of its files): back up to another file"
        )
    _check_target(target, force=force)
    folder = target.parent
    if not folder.is_dir():
        raise TargetRefused(f"{target}: the folder {folder} does not exist: create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TargetRefused(f"{target}: the folder {folder} is not writable by this user")
    # Not read-only: in WAL mode a reader may need to write the -shm index.
    try:
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)
        try:
            source.execute("PRAGMA busy_timeout = 5000")
            with _private_temp(target) as temp:
                _copy(source, temp)
                temp.replace(target)
        finally:
            source.close()
    except sqlite3.Error as exc:  # a busy or damaged database: one line, not a traceback
        raise DatabasePathError(f"{database} could not be backed up: {exc}") from None
    _fsync_folder(folder)
    return snapshot(target)


def check_restorable(backup: Path) -> Snapshot:
    """Refuse a file that is no uabot database, or one a newer uabot made (its migrations are
    unknown here; an older one is fine: the migrations run at the next start)."""
    if not backup.is_file():
        raise BackupRefused(f"{backup} does not exist or is not a file")
    if backup.with_name(backup.name + "-wal").exists():
        # Read as a backup (immutable), its -wal's pages would be missed.
        raise BackupRefused(
            f"{backup} has a -wal file beside it: it is a live database, not a backup; "
            "take one with `uabot backup`"
        )
    try:
        found = snapshot(backup)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{backup} is not a SQLite database ({exc})") from None
    except DatabasePathError as exc:
        raise BackupRefused(str(exc)) from None
    if not found.schema.applied:
        raise BackupRefused(f"{backup} is no uabot database (it has no schema_version)")
    if found.schema.unknown:
        versions = ", ".join(str(v) for v in found.schema.unknown)
        raise BackupRefused(
            f"{backup} was made by a newer uabot (schema version {found.schema.version}; "
            f"migrations {versions} are unknown here): install that version first"
        )
    missing = sorted(tables_at(found.schema.applied) - set(found.rows))
    if missing:
        raise BackupRefused(
            f"{backup} is no uabot database: at schema version {found.schema.version} it "
            f"lacks the tables {', '.join(missing)}"
        )
    return found


def _keep_replaced(database: Path) -> Path:
    """Hard-link ``database`` as ``<database>.before-restore-<UTC time>``: a new name for
    every restore, so a second restore never replaces the copy the first one kept."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for attempt in range(100):
        suffix = f".before-restore-{stamp}" + (f"-{attempt}" if attempt else "")
        kept = database.with_name(database.name + suffix)
        try:
            os.link(database, kept)
        except FileExistsError:
            continue
        return kept
    raise DatabasePathError(f"{database}: too many copies kept this second: try again")


def put_back(backup: Path, database: Path) -> tuple[Snapshot, Path | None]:
    """Replace ``database`` with the copy in ``backup``, atomically; what it holds now and
    where the replaced one is kept (None if there was none).

    The caller checked the path (``check_path``) and holds the database's lock
    (``hold_lock``), so no bot runs on it. The database it replaces is kept beside it
    (``_keep_replaced``: a hard link, the rename stays one step); its -wal is folded into it
    first, so none is left to be replayed into the restored file.
    """
    check_restorable(backup)
    kept = None
    try:
        if database.exists():
            old = sqlite3.connect(database)
            try:
                old.execute("PRAGMA journal_mode = DELETE")  # checkpoints, removes the -wal
            finally:
                old.close()
            kept = _keep_replaced(database)
        source = open_read_only(backup, immutable=True)
        try:
            with _private_temp(database) as temp:
                _copy(source, temp)
                for suffix in ("-wal", "-shm"):
                    database.with_name(database.name + suffix).unlink(missing_ok=True)
                temp.replace(database)
        finally:
            source.close()
    except sqlite3.Error as exc:  # say, storage.path names a file that is no database
        raise DatabasePathError(f"{database} could not be restored: {exc}") from None
    _fsync_folder(database.parent)
    return snapshot(database), kept

"""Backups as an operator takes them: `uabot backup` while the bot runs, `uabot restore` into a
fresh folder, the bot's own backup job; and a backup taken mid-broadcast that, restored, lets
a new bot finish the broadcast with exactly one message for each subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_ID, TOKEN
from fault_servers import Uabot, assert_clean, write_config
from journeys import subscriber, upload

from bot.config import BackupConfig, Config, StorageConfig
from bot.emulator import Emulator, SimUser
from bot.services.backup import backup_now
from bot.services.backup import folder as backup_folder
from bot.storage import Database, Storage
from bot.storage.db import migrations

# About SQLite's backup files, restore and the file lock:
# not run on PostgreSQL (UABOT_TEST_DATABASE_URL).
pytestmark = pytest.mark.sqlite_only


CASE = "UA 012/26"


async def uabot(command: str, config: Path, *args: str) -> tuple[int, Uabot]:
    """One operator command as a process: its exit status and its output."""
    process = await Uabot.start(config, command=command, args=args)
    try:
        status = await process.finish()
    finally:
        await process.kill()
    assert_clean(process, TOKEN)
    return status, process


async def eventually(predicate: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:  # noqa: ASYNC109
    """Until ``predicate()`` holds, checked every 50 ms (what it watches is no emulator event)."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"not within {timeout}s"
        await asyncio.sleep(0.05)


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def kept_copies(folder: Path) -> list[Path]:
    """The databases restores replaced, oldest first."""
    return sorted(folder.glob("bot.sqlite3.before-restore-*"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        count = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    conn.close()
    return count


def cards(user: SimUser) -> int:
    return len([m for m in user.messages if m.text and CASE in m.text])


def reports(admin: SimUser) -> list[str]:
    return [m.text for m in admin.messages if m.text and "Broadcast finished" in m.text]


async def test_backup_while_the_bot_runs_and_restore_refused_until_it_stops(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emulator.base_url)
    db = tmp_path / "bot.sqlite3"
    backup = tmp_path / "copies" / "monday.sqlite3"
    backup.parent.mkdir()
    bot = await Uabot.start(config)
    try:
        await bot.wait_for("started as @")
        for uid in (1, 2, 3):
            await subscriber(emulator, uid, "en")
        status, taken = await uabot("backup", config, "--to", str(backup))
        assert status == 0, taken.output
        assert mode(backup) == 0o600
        assert taken.out[0].startswith(f"{backup}: {backup.stat().st_size} bytes, schema version ")
        assert "  users: 3 rows" in taken.out
        assert rows(backup, "users") == 3  # one file: no -wal needed to read it
        assert not backup.with_name(backup.name + "-wal").exists()

        status, refused = await uabot("restore", config, "--from", str(backup))
        assert status == 2
        assert refused.err == [
            f"uabot: another uabot is running on this database (pid {bot.process.pid}): stop "
            f"it first, or give this one another storage.path than {db}"
        ]
        await subscriber(emulator, 4, "en")  # the bot went on, its database untouched
        assert await bot.interrupt() == 0
    finally:
        await bot.kill()
    assert rows(db, "users") == 4

    status, restored = await uabot("restore", config, "--from", str(backup))
    assert status == 0, restored.output
    assert "  users: 3 rows" in restored.out
    assert rows(db, "users") == 3 and mode(db) == 0o600
    (kept,) = kept_copies(tmp_path)
    assert restored.out[-1] == f"the database it replaced is kept as {kept}"
    assert rows(kept, "users") == 4  # kept, just in case


async def test_restore_refuses_a_newer_schema_and_takes_an_older_one(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:1/bot")
    newer, older = tmp_path / "newer.sqlite3", tmp_path / "older.sqlite3"
    await (await Database.open(newer)).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, '999_future.sql', 'now')")
    conn.close()
    (previous, _, _), (_, name, _) = migrations()[-2:]
    db = await Database.open(older, migrate=False)
    await db.migrate(until=previous)  # the schema the uabot before the last migration made
    await db.close()

    status, refused = await uabot("restore", config, "--from", str(newer))
    assert status == 2
    assert refused.err == [
        f"uabot: {newer} was made by a newer uabot (schema version 999; migrations 999 are "
        "unknown here): install that version first"
    ]
    assert not (tmp_path / "bot.sqlite3").exists()

    status, restored = await uabot("restore", config, "--from", str(older))
    assert status == 0, restored.output
    assert restored.out[-1] == "1 migration(s) will be applied at the next start"
    status, migrated = await uabot("migrate", config)
    assert status == 0 and f"applied {name}" in migrated.out


async def test_the_bot_takes_and_rotates_its_own_backups(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    # Hours compressed: one backup every 1.8 s, the newest 2 kept.
    settings = BackupConfig(every_hours=0.0005, keep=2)
    folder = config.storage.path.parent / "backups"
    seen: set[str] = set()

    def backups() -> list[Path]:  # not the temporary file of one being taken
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))

    async def three_taken() -> bool:
        if folder.is_dir():
            seen.update(p.name for p in backups())
        return len(seen) >= 3

    async with restart(backup=settings):
        await subscriber(emulator, 1, "en")
        await eventually(three_taken, timeout=60)
    kept = backups()
    seen.update(p.name for p in kept)
    assert len(kept) == 2 and {p.name for p in kept} < seen
    assert mode(folder) == 0o700 and all(mode(p) == 0o600 for p in kept)
    assert rows(kept[-1], "users") == 1


async def test_a_backup_mid_broadcast_restored_elsewhere_finishes_it_once_for_everyone(
    emulator: Emulator, config: Config, restart: Any, tmp_path: Path
) -> None:
    settings = replace(config.broadcast, max_probe_interval_seconds=0.2, messages_per_second=10)
    backup = tmp_path / "mid-broadcast.sqlite3"
    async with restart(broadcast=settings) as app:
        users = {uid: await subscriber(emulator, uid, "en") for uid in range(1, 41)}
        admin = await subscriber(emulator, ADMIN_ID, "en")
        await admin.tap(await upload(admin, "ua-012-26-1.toml"), "📣 Publish")
        await emulator.wait_until(lambda: sum(map(cards, users.values())) >= 5, timeout=20)
        # Held mid-way: Telegram answers every message with 502, the broadcast pauses.
        emulator.http_error(502, methods=("sendMessage",))
        storage: Storage = app.bot_data.storage

        async def paused() -> bool:
            return any(b.paused_at for b in await storage.broadcasts.unfinished())

        await eventually(paused)
        sent = sum(map(cards, users.values()))
        assert 5 <= sent < 40, "held mid-way"
        operator = write_config(tmp_path, emulator.base_url, db=config.storage.path)
        status, taken = await uabot("backup", operator, "--to", str(backup))
        assert status == 0, taken.output

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    restored_db = fresh / "bot.sqlite3"
    status, restored = await uabot(
        "restore", write_config(fresh, emulator.base_url, db=restored_db), "--from", str(backup)
    )
    assert status == 0, restored.output
    remove_database(config.storage.path)  # the restored one is all there is
    emulator.end_http_error()
    async with restart(broadcast=settings, storage=StorageConfig(path=restored_db)):
        await emulator.wait_until(lambda: reports(admin), timeout=30)
    assert {uid: cards(user) for uid, user in users.items()} == dict.fromkeys(users, 1)
    assert "Delivered: 41" in reports(admin)[0] and "Failed: 0" in reports(admin)[0]


async def database_with_users(path: Path, count: int) -> None:
    storage = await Storage.open(path)
    await storage.close()
    with sqlite3.connect(path) as conn:
        for uid in range(1, count + 1):
            conn.execute("INSERT INTO users (id, language) VALUES (?, 'en')", (uid,))
    conn.close()


async def test_backup_to_an_existing_file_or_a_folder_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:1/bot")
    await database_with_users(tmp_path / "bot.sqlite3", 2)
    settings = config.read_bytes()

    status, refused = await uabot("backup", config, "--to", str(config))
    assert status == 2
    assert refused.err == [
        f"uabot: --to: {config} already exists: choose a new file name, or add --force to "
        "replace it"
    ]
    status, refused = await uabot("backup", config, "--to", str(config), "--force")
    assert status == 2
    assert refused.err[0].startswith(f"uabot: --to: not replaced, even with --force: {config}")
    assert config.read_bytes() == settings  # the config in use, untouched

    status, refused = await uabot("backup", config, "--to", str(tmp_path))
    assert status == 2
    assert refused.err == [
        f"uabot: --to: {tmp_path} is a folder: name a file in it, e.g. "
        f"{tmp_path / 'uabot.sqlite3'}"
    ]

    backup = tmp_path / "nightly.sqlite3"
    status, taken = await uabot("backup", config, "--to", str(backup))
    assert status == 0, taken.output
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("INSERT INTO users (id, language) VALUES (3, 'en')")
    conn.close()
    status, refused = await uabot("backup", config, "--to", str(backup))
    assert status == 2 and rows(backup, "users") == 2
    status, taken = await uabot("backup", config, "--to", str(backup), "--force")
    assert status == 0, taken.output
    assert rows(backup, "users") == 3  # an older backup is replaced when asked


async def test_sigterm_during_a_backup_leaves_no_temporary_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:1/bot")
    db = tmp_path / "bot.sqlite3"
    await database_with_users(db, 1)
    folder = tmp_path / "copies"
    folder.mkdir()
    target = folder / "t.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE ballast (blob BLOB)")
    conn.close()
    # Large enough for the copy to take a moment; larger each time it ended before the
    # signal could be sent while its temporary file was there (a fast machine).
    for _ in range(5):
        with sqlite3.connect(db) as conn:
            conn.executemany("INSERT INTO ballast VALUES (randomblob(1000000))", [()] * 60)
        conn.close()
        process = await Uabot.start(config, command="backup", args=("--to", str(target)))
        try:
            while process.process.returncode is None:
                if any(folder.iterdir()):
                    break
                await asyncio.sleep(0.005)
            if process.process.returncode is None:  # the temporary copy is being written
                process.process.terminate()
                status = await process.finish()
                break
            await process.finish()
            target.unlink()
        finally:
            await process.kill()
    else:
        raise AssertionError("every backup ended before it could be stopped")
    assert status == 130, process.output
    assert list(folder.iterdir()) == []
    assert_clean(process, TOKEN)


async def test_rotation_keeps_the_new_backup_beside_future_dated_names_and_sweeps_leftovers(
    config: Config, caplog: Any
) -> None:
    """The job's own step (``backup_now``): names stamped in the future (a clock once wrong)
    must not outrank the backup just taken; a killed backup's temporary files go."""
    await database_with_users(config.storage.path, 1)
    settings = replace(config, backup=BackupConfig(every_hours=24, keep=2))
    folder = backup_folder(settings)
    folder.mkdir()
    old = time.time() - 7200
    future = [folder / f"{config.storage.path.stem}-2099010{n}-000000.sqlite3" for n in (1, 2, 3)]
    leftovers = [
        folder / f".{config.storage.path.stem}-20261129-101010.sqlite3.abcd1234.tmp",
        folder / f".{config.storage.path.stem}-20261129-101010.sqlite3.abcd1234.tmp-journal",
    ]
    fresh = folder / f".{config.storage.path.stem}-20261129-111111.sqlite3.ffff0000.tmp"
    for n, path in enumerate([*future, *leftovers, fresh]):
        path.write_bytes(b"x")
        if path != fresh:
            os.utime(path, (old + n, old + n))
    with caplog.at_level(logging.INFO, logger="bot.services.backup"):
        taken = backup_now(settings)
    assert taken.exists() and rows(taken, "users") == 1
    assert sorted(folder.iterdir()) == sorted([future[2], taken, fresh])
    assert "named after a future time" in caplog.text
    assert "left by an interrupted backup" in caplog.text


async def test_restore_refuses_files_of_other_programs_and_keeps_every_replaced_database(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:1/bot")
    folder = tmp_path / "in"
    folder.mkdir()
    weird, foreign, good = (folder / f"{n}.sqlite3" for n in ("weird", "foreign", "good"))
    for path, version in ((weird, "'1.0'"), (foreign, "1")):
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE schema_version (version, name, applied_at)")
            conn.execute(f"INSERT INTO schema_version VALUES ({version}, 'x', 'now')")
            conn.execute("CREATE TABLE notes (text TEXT)")
        conn.close()
    await database_with_users(good, 2)
    with sqlite3.connect(good) as conn:  # a WAL-mode file: read, it must get no -shm beside it
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    before = sorted(folder.iterdir())

    status, refused = await uabot("restore", config, "--from", str(weird))
    assert status == 2
    assert refused.err == [
        f"uabot: {weird} is no uabot database: its schema_version holds '1.0', not a version "
        "number"
    ]
    status, refused = await uabot("restore", config, "--from", str(foreign))
    assert status == 2
    assert refused.err[0].startswith(
        f"uabot: {foreign} is no uabot database: at schema version 1 it lacks the tables "
    )
    assert not (tmp_path / "bot.sqlite3").exists()

    await database_with_users(tmp_path / "bot.sqlite3", 5)
    for _ in range(2):
        status, restored = await uabot("restore", config, "--from", str(good))
        assert status == 0, restored.output
    kept = kept_copies(tmp_path)
    assert [rows(path, "users") for path in kept] == [5, 2]  # the first copy not overwritten
    assert sorted(folder.iterdir()) == before

"""Migrations and the users repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import Database, Storage
from bot.storage import db as db_module
from bot.storage.db import migrations


def test_migrations_may_leave_gaps_but_never_share_a_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbers are reserved per branch of work: a gap is fine, a number used twice is not."""
    shipped = tmp_path / "migrations"
    shipped.mkdir()
    monkeypatch.setattr(db_module.resources, "files", lambda package: tmp_path)
    for name in ("003_later.sql", "001_first.sql", "notes.txt"):
        (shipped / name).write_text("SELECT 1;", encoding="utf-8")
    assert [name for _, name, _ in migrations()] == ["001_first.sql", "003_later.sql"]
    (shipped / "003_other.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(RuntimeError, match="share a number"):
        migrations()


@pytest.mark.sqlite_only  # SQLite's migration files, pragmas, connection
async def test_a_migration_numbered_below_the_highest_applied_still_applies(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        last = migrations()[-1][0]
        await db.execute("DELETE FROM schema_version WHERE version = 1")
        await db.execute("DROP TABLE users")
        assert await db.schema_version() == last
        assert await db.migrate() == ["001_users.sql"]
        assert await db.fetch_value("SELECT COUNT(*) FROM users") == 0
    finally:
        await db.close()


@pytest.mark.sqlite_only  # SQLite's migration files, pragmas, connection
async def test_open_applies_every_migration_once_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    try:
        assert await db.schema_version() == migrations()[-1][0]
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        assert await db.migrate() == []  # nothing left to apply
    finally:
        await db.close()


def test_uabot_migrate_reports_the_schema_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    db = tmp_path / "cli.sqlite3"
    config.write_text(f'[telegram]\ntoken = "1:a"\n[storage]\npath = "{db}"\n', encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "applied 001_users.sql" in out
    assert f"schema version {migrations()[-1][0]}" in out
    assert main(["migrate", "--config", str(config)]) == 0
    assert "applied" not in capsys.readouterr().out


async def test_a_failing_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(RuntimeError):
            async with storage.db.transaction():
                await storage.users.subscribe(1, "en")
                raise RuntimeError("boom")
        assert await storage.users.get(1) is None
    finally:
        await storage.close()


async def test_users_subscribe_pause_block_and_forget(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    users = storage.users
    try:
        assert await users.subscribe(1, "de") is True
        assert await users.subscribe(1, "de") is False
        await users.subscribe(2, "fr")
        assert await users.count_reachable_subscribers() == 2
        await users.set_subscribed(2, False)
        await users.mark_unreachable(1)
        assert await users.count_reachable_subscribers() == 0
        await users.seen(await users.get(1))  # a user who writes has unblocked the bot
        assert (await users.get(1)).blocked is False  # type: ignore[union-attr]
        assert await users.delete(1) is True
        assert await users.get(1) is None
    finally:
        await storage.close()

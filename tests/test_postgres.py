"""PostgreSQL as the operator meets it: ``storage.url``, ``uabot migrate-storage`` copying a
SQLite database across, ``uabot doctor`` and ``uabot migrate`` on a URL, its password shown
nowhere. The config's rules run everywhere; the rest needs ``UABOT_TEST_DATABASE_URL`` (.ci/run
starts a throwaway cluster) and skips without it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import TOKEN
from fault_servers import Uabot, assert_clean

from bot.config import ConfigError, parse_config
from bot.emulator import Emulator
from bot.storage import Storage
from bot.storage.db import Database

URL = os.environ.get("UABOT_TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(URL is None, reason="UABOT_TEST_DATABASE_URL is not set")
PASSWORD = "pw-Never-Shown-7781"


def test_storage_url_selects_postgresql_and_path_stays_the_default() -> None:
    default = parse_config({"telegram": {"token": TOKEN}}, environ={})
    assert default.storage.sqlite and default.storage.target == Path("uabot.sqlite3").absolute()
    url = f"postgresql://uabot:{PASSWORD}@db.example.org/uabot"
    chosen = parse_config({"telegram": {"token": TOKEN}, "storage": {"url": url}}, environ={})
    assert chosen.storage.target == url and not chosen.storage.sqlite
    assert chosen.storage.shown == "postgresql://***@db.example.org/uabot"
    assert PASSWORD in chosen.secrets()  # masked by the log filter wherever it appears
    with pytest.raises(ConfigError, match=r"storage\.path and storage\.url are both set"):
        parse_config(
            {"telegram": {"token": TOKEN}, "storage": {"url": url, "path": "x.sqlite3"}},
            environ={},
        )
    with pytest.raises(ConfigError, match=r"storage\.url must start with postgresql://"):
        parse_config({"telegram": {"token": TOKEN}, "storage": {"url": "mysql://x/y"}}, environ={})


def test_the_dialect_translates_what_sqlite_alone_spells_and_leaves_literals_alone() -> None:
    pytest.importorskip("psycopg")
    from bot.storage.postgres import postgres_sql

    assert postgres_sql("SELECT '?%' , ? WHERE n % 2 = ? AND id IN ()") == (
        "SELECT '?%' , %s WHERE n %% 2 = %s AND id IN (NULL)"
    )
    assert postgres_sql("UPDATE t SET at = datetime('now'), day = date('now', '-30 days')") == (
        "UPDATE t SET at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
        " day = to_char(now() AT TIME ZONE 'UTC' + interval '-30 days', 'YYYY-MM-DD')"
    )
    assert postgres_sql("json_extract(r.content, '$.outcome') = ?") == (
        "(r.content::jsonb ->> 'outcome') = %s"
    )


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own (migrate-storage wants an empty one),
    its URL carrying a password (the test cluster trusts local users: any password passes)."""
    import psycopg

    assert URL is not None
    name = f"copy_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(URL)
    user = parts.username or "uabot"
    host = parts.netloc.rpartition("@")[2]
    yield urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{host}", path=f"/{name}"))
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def write_url_config(folder: Path, base_url: str, url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\n\n[storage]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return path


async def uabot(*args: str) -> tuple[int, Uabot]:
    """The real ``uabot ARGS``, finished: its status; nothing unclean in its output, and no
    password."""
    process = Uabot(
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    )
    try:
        status = await process.finish()
    finally:
        await process.kill()
    assert_clean(process, PASSWORD, TOKEN)
    return status, process


async def sqlite_database(path: Path) -> None:
    """A SQLite database with a little of everything the copy must carry."""
    storage = Storage.on(await Database.open_sqlite(path))
    try:
        async with storage.db.transaction():
            for user_id in (11, 12, 13):
                await storage.users.subscribe(user_id, "de")
            await storage.users.set_subscribed(13, False)
            await storage.db.execute(
                "INSERT INTO revisions (case_number, revision, content, fingerprint, status,"
                " issued, published_at) VALUES ('UA 1/26', 1, '{}', 'f', 'open', '2026-01-01',"
                " datetime('now'))"
            )
            await storage.tally.confirm("UA 1/26", 1, 11, "de", date(2026, 1, 2))
            await storage.tally.confirm("UA 1/26", 1, 12, "fr", date(2026, 1, 3))
            session = await storage.sessions.start(-100, "UA 1/26", 1.0, 30, 1801.0, "a" * 32)
            assert session is not None
            await storage.sessions.join(session, 11)  # session_members (015) is copied too
            await storage.audit.record(None, "publish", "UA 1/26")
    finally:
        await storage.close()


@needs_postgres
async def test_migrate_storage_copies_everything_once_and_the_bot_goes_on_there(
    tmp_path: Path, database: str
) -> None:
    from bot.storage.postgres import migrations

    source = tmp_path / "bot.sqlite3"
    await sqlite_database(source)

    status, copied = await uabot("migrate-storage", "--from", f"sqlite:{source}", "--to", database)
    assert status == 0, copied.output
    assert "  users: 3 rows" in copied.out
    assert "  confirmations: 2 rows" in copied.out
    assert "  sessions: 1 row" in copied.out
    assert "  session_members: 1 row" in copied.out
    assert "postgresql://***@" in copied.output
    assert "created tables in postgresql://***@" in copied.output  # one line

    storage = await Storage.open(database)
    try:
        assert (await storage.stats.subscribers()).active == 2  # the counters, counted
        await storage.users.subscribe(14, "fr")  # and kept by the trigger from then on
        assert (await storage.stats.subscribers()).active == 3
        assert await storage.tally.cases_of(11) == ["UA 1/26"]
        # New rows after copied ones: the identity sequences were moved past them.
        assert await storage.sessions.start(-200, "UA 1/26", 2.0, 30, 1802.0, "b" * 32) == 2
        assert await storage.db.schema_version() == max(v for v, _, _ in migrations())
    finally:
        await storage.close()

    status, again = await uabot("migrate-storage", "--from", f"sqlite:{source}", "--to", database)
    assert status == 2
    assert "already holds rows (users): migrate-storage copies into an empty database" in (
        again.output
    )


@needs_postgres
async def test_doctor_and_migrate_on_a_url_say_the_version_and_never_the_password(
    tmp_path: Path, database: str, emulator: Emulator
) -> None:
    config = write_url_config(tmp_path, emulator.base_url, database)
    _, doctor = await uabot("doctor", "--config", str(config))
    assert "storage: postgresql://***@" in doctor.output, doctor.output
    assert "schema: no tables yet: created at the first start" in doctor.output

    status, migrated = await uabot("migrate", "--config", str(config))
    assert status == 0, migrated.output
    from bot.storage.postgres import migrations

    version, name, _ = migrations()[-1]
    assert f"applied {name}" in migrated.out
    _, doctor = await uabot("doctor", "--config", str(config))
    assert f"schema: version {version}, up to date" in doctor.output, doctor.output
    assert "problem" not in doctor.output

    unreachable = database.replace(urlsplit(database).path, "/no_such_database")
    write_url_config(tmp_path, emulator.base_url, unreachable)
    status, failed = await uabot("migrate", "--config", str(config))
    assert status != 0
    assert "storage.url: postgresql://***@" in failed.output, failed.output
    assert "no_such_database" in failed.output

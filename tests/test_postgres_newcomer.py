"""A newcomer's first steps on PostgreSQL (issue 16 §3): every command on ``storage.url``,
the sandbox kept off it, a role without privileges, psycopg missing, a database that comes
after the bot, the password never shown, and migrate-storage's words. The real ``uabot``
process throughout."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from conftest import TOKEN
from fault_servers import Uabot, assert_clean
from test_postgres import (
    PASSWORD,
    URL,
    database,  # noqa: F401  (a fixture)
    needs_postgres,
    sqlite_database,
    write_url_config,
)

from bot.config import ConfigError, parse_config
from bot.emulator import Emulator
from bot.storage import Storage
from bot.storage.db import hold_lock, read_schema

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "ua-014-26-1.toml"


async def uabot(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, Uabot]:
    """``uabot ARGS`` finished, in ``cwd``: its status and output (no traceback, no password)."""
    process = Uabot(
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
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


def table_exists(url: str, table: str) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


@needs_postgres
async def test_every_config_reading_command_works_on_storage_url_from_any_folder(
    tmp_path: Path,
    database: str,  # noqa: F811
    emulator: Emulator,
) -> None:
    folder, elsewhere = tmp_path / "conf", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    config = str(write_url_config(folder, emulator.base_url, database))

    status, imported = await uabot(
        "import", "--publish", "--config", config, str(EXAMPLE), cwd=elsewhere
    )
    assert status == 0, imported.output
    assert "new and published; broadcast 1" in imported.out[-1]
    status, stats = await uabot("stats", "--config", config, cwd=elsewhere)
    assert status == 0 and "storage.path" not in stats.output, stats.output
    status, audit = await uabot("audit", "--config", config, cwd=elsewhere)
    assert status == 0 and "publish" in audit.output, audit.output
    for command in ("migrate", "doctor", "check"):
        extra = (str(EXAMPLE),) if command == "check" else ()
        _, done = await uabot(command, "--config", config, *extra, cwd=elsewhere)
        assert "storage.path" not in done.output and "sqlite" not in done.output, done.output
    # The case is in PostgreSQL, where the bot runs; no SQLite file was made anywhere.
    storage = await Storage.open(database)
    try:
        assert await storage.db.fetch_value("SELECT COUNT(*) FROM broadcasts") == 1
    finally:
        await storage.close()
    assert not [
        path for path in [*elsewhere.iterdir(), *folder.iterdir()] if "sqlite" in path.name
    ]


def test_the_default_sqlite_file_is_in_the_config_s_folder(tmp_path: Path) -> None:
    raw = {"telegram": {"token": TOKEN}}
    assert parse_config(raw, base=tmp_path, environ={}).storage.path == tmp_path / "uabot.sqlite3"
    with_url = {**raw, "storage": {"url": "postgresql://uabot@db.example.org/uabot"}}
    parsed = parse_config(with_url, base=tmp_path, environ={})
    assert parsed.storage.path == tmp_path / "uabot.sqlite3"  # where the doctor looks


@needs_postgres
async def test_the_sandbox_works_on_a_copy_of_postgresql_and_leaves_production_alone(
    tmp_path: Path,
    database: str,  # noqa: F811
    emulator: Emulator,
) -> None:
    from bot.actions.importer import import_revision
    from bot.actions.parse import parse_action
    from bot.services.publishing import publish_and_broadcast

    storage = await Storage.open(database)
    try:  # the repro: real subscribers the emulator never saw, and a broadcast still queued
        for user_id in (1001, 9000, *range(2001, 2017)):
            await storage.users.subscribe(user_id, "en")
        revision = parse_action(
            EXAMPLE.read_bytes(),
            source=str(EXAMPLE),
            languages=("en", "de", "fr"),
            default_language="en",
        )
        await import_revision(storage, revision, by=None)
        queued = await publish_and_broadcast(
            storage, revision.case, revision.revision, requested_by=None, engine=None
        )
        assert queued is not None and queued.total == 18
    finally:
        await storage.close()

    config = write_url_config(tmp_path, emulator.base_url, database)
    sandbox = await Uabot.start(config, command="sandbox", args=("--port", "0"))
    try:
        await sandbox.wait_for("sandbox: working on a copy of postgresql://***@")
        await sandbox.wait_for("broadcast 1 finished")  # on the copy, to the emulator
        # Ctrl-C once it says so: the broadcast resumes during the bot's start, and a Ctrl-C
        # inside that start hung the sandbox under load (noted, left for the next issue).
        for _ in range(600):  # its stdout, once the web chat is up
            if any("Ctrl-C stops it" in line for line in sandbox.out):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the sandbox never said it was up:\n{sandbox.output}")
        assert await sandbox.interrupt() == 0
    finally:
        await sandbox.kill()
    assert_clean(sandbox, PASSWORD, TOKEN)

    storage = await Storage.open(database)
    try:  # production: no one marked unreachable, its broadcast still queued for the real bot
        assert (
            await storage.db.fetch_value("SELECT COUNT(*) FROM users WHERE blocked_at IS NOT NULL")
            == 0
        )
        assert await storage.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE state = 0") == 18
    finally:
        await storage.close()


@pytest.fixture
def unprivileged(database: str) -> Iterator[str]:  # noqa: F811
    """``database`` as a role that may connect but not create in ``public`` (PostgreSQL 15's
    default for a role that does not own the database)."""
    import psycopg

    role = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    parts = urlsplit(database)
    yield urlunsplit(parts._replace(netloc=f"{role}:{PASSWORD}@{parts.netloc.rpartition('@')[2]}"))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
    with psycopg.connect(URL or "", autocommit=True) as conn:
        conn.execute(f"DROP ROLE {role}")


@needs_postgres
async def test_a_role_that_may_not_create_tables_is_told_the_grant_everywhere(
    tmp_path: Path, unprivileged: str, emulator: Emulator
) -> None:
    role = urlsplit(unprivileged).username
    fix = f"GRANT CREATE ON SCHEMA public TO {role}"
    config = str(write_url_config(tmp_path, emulator.base_url, unprivileged))
    status, doctor = await uabot("doctor", "--config", config)
    assert status == 1
    assert "problem  storage: postgresql://***@" in doctor.output and fix in doctor.output
    status, run = await uabot("run", "--config", config)
    assert status == 2 and len(run.err) == 1 and fix in run.err[0], run.output
    source = tmp_path / "bot.sqlite3"
    await sqlite_database(source)
    status, moved = await uabot(
        "migrate-storage", "--from", f"sqlite:{source}", "--to", unprivileged
    )
    assert status == 2 and len(moved.err) == 1 and fix in moved.err[0], moved.output

    owner = unprivileged.replace(f"{role}:", "uabot:")  # the tables made by another role
    storage = await Storage.open(owner)
    await storage.close()
    status, doctor = await uabot("doctor", "--config", config)
    assert f"make {role} their owner (REASSIGN OWNED BY" in doctor.output, doctor.output
    assert "cannot be reached" not in doctor.output


async def test_without_psycopg_every_command_names_the_readme_s_install(
    tmp_path: Path, emulator: Emulator
) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "psycopg.py").write_text("raise ModuleNotFoundError('no psycopg here')\n")
    env = {"PYTHONPATH": str(blocked)}
    url = f"postgresql://uabot:{PASSWORD}@127.0.0.1:1/uabot"
    config = str(write_url_config(tmp_path, emulator.base_url, url))
    install = 'pip install -e ".[postgres]"'
    status, doctor = await uabot("doctor", "--config", config, env=env)
    assert status == 1 and "problem  storage: postgresql://***@" in doctor.output
    assert install in doctor.output and doctor.output.count("problem ") == 1, doctor.output
    status, run = await uabot("run", "--config", config, env=env)
    assert status == 2 and len(run.err) == 1 and install in run.err[0], run.output
    source = tmp_path / "bot.sqlite3"
    await sqlite_database(source)
    status, moved = await uabot(
        "migrate-storage", "--from", f"sqlite:{source}", "--to", url, env=env
    )
    assert status == 2 and moved.err[0].startswith("uabot: --to: ") and install in moved.err[0]


@contextlib.asynccontextmanager
async def forwarding(port: int, socket_path: str) -> AsyncIterator[None]:
    """127.0.0.1:``port`` forwarded to PostgreSQL's socket: the server "comes up"."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


@needs_postgres
async def test_run_waits_for_a_postgresql_that_starts_after_it(
    tmp_path: Path,
    database: str,  # noqa: F811
    emulator: Emulator,
) -> None:
    from fault_servers import refused_port

    parts = urlsplit(database)
    socket_path = f"{parse_qs(parts.query)['host'][0]}/.s.PGSQL.5432"
    port = refused_port()
    later = f"postgresql://uabot:{PASSWORD}@127.0.0.1:{port}{parts.path}"
    config = write_url_config(tmp_path, emulator.base_url, later)
    bot = await Uabot.start(config)
    try:
        await bot.wait_for("Connection refused")
        await bot.wait_for("; next try in 2 s")  # one line a try, the wait doubled
        assert bot.process.returncode is None
        async with forwarding(port, socket_path):
            await bot.wait_for("started as @")
            assert await bot.interrupt() == 0
    finally:
        await bot.kill()
    assert_clean(bot, PASSWORD, TOKEN)
    assert "postgresql://***@127.0.0.1" in bot.output


def test_storage_url_with_a_raw_at_or_hash_in_its_password_is_refused_unshown() -> None:
    for url in (
        "postgresql://uabot:Se@cr3t@127.0.0.1/uabot",
        "postgresql://uabot:Se#cr3t@127.0.0.1/uabot",
        "postgresql://uabot:Secr3t@127.0.0.1:99999/uabot",
    ):
        with pytest.raises(ConfigError, match="percent-encode") as raised:
            parse_config({"telegram": {"token": TOKEN}, "storage": {"url": url}}, environ={})
        assert "cr3t" not in str(raised.value)
    fine = "postgresql://uabot:Se%40cr3t@127.0.0.1:5432/uabot?sslmode=require"
    parse_config({"telegram": {"token": TOKEN}, "storage": {"url": fine}}, environ={})


@needs_postgres
async def test_a_password_in_the_query_string_is_never_shown(
    tmp_path: Path,
    database: str,  # noqa: F811
    emulator: Emulator,
) -> None:
    parts = urlsplit(database)
    host = parts.netloc.rpartition("@")[2]
    in_query = urlunsplit(
        parts._replace(netloc=f"uabot@{host}", query=f"{parts.query}&password={PASSWORD}")
    )
    config = str(write_url_config(tmp_path, emulator.base_url, in_query))
    status, migrated = await uabot("migrate", "--config", config)  # assert_clean: no PASSWORD
    assert status == 0 and "postgresql://***@" in migrated.out[-1], migrated.output
    status, doctor = await uabot("doctor", "--config", config)
    assert status == 0, doctor.output
    no_password = urlunsplit(parts._replace(netloc=f"uabot@{host}"))
    write_url_config(tmp_path, emulator.base_url, no_password)
    _, migrated = await uabot("migrate", "--config", config)
    assert "postgresql://***@" in migrated.out[-1], migrated.output  # the user masked too


@needs_postgres
async def test_doctor_sends_an_empty_target_to_migrate_storage_and_says_a_failure_once(
    tmp_path: Path,
    database: str,  # noqa: F811
    emulator: Emulator,
) -> None:
    config = str(write_url_config(tmp_path, emulator.base_url, database))
    await sqlite_database(tmp_path / "uabot.sqlite3")  # the old default, beside the config
    status, doctor = await uabot("doctor", "--config", config)
    assert status == 1
    assert "copy it first (uabot migrate-storage --from sqlite:" in doctor.output, doctor.output
    status, run = await uabot("run", "--config", config)
    assert status == 2 and "migrate-storage" in run.err[0]  # never starts on the empty one
    assert not table_exists(database, "users")

    gone = database.replace(urlsplit(database).path, "/no_such_database")
    write_url_config(tmp_path, emulator.base_url, gone)
    status, doctor = await uabot("doctor", "--config", config)
    problems = [line for line in doctor.out if line.startswith("problem")]
    assert len(problems) == 1 and "no_such_database" in problems[0], doctor.output
    assert doctor.out[-1] == "1 problem(s)"


@needs_postgres
async def test_migrate_storage_words_and_leaves_its_source_alone(
    tmp_path: Path,
    database: str,  # noqa: F811
) -> None:
    source = tmp_path / "c3.sqlite3"
    await sqlite_database(source)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    lock = hold_lock(source)
    try:
        status, busy = await uabot(
            "migrate-storage", "--from", f"sqlite:{source}", "--to", database
        )
    finally:
        os.close(lock)
    assert status == 2 and busy.err == [
        f"uabot: --from: a uabot runs on {source} (pid {os.getpid()}): stop it first"
    ]
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello, not a database\n")
    status, bad = await uabot(
        "migrate-storage", "--from", f"sqlite:{not_sqlite}", "--to", database
    )
    assert status == 2 and bad.err[0].startswith(f"uabot: --from: {not_sqlite}"), bad.output

    status, copied = await uabot("migrate-storage", "--from", f"sqlite:{source}", "--to", database)
    assert status == 0, copied.output
    assert "  sessions: 1 row" in copied.out and "  users: 3 rows" in copied.out
    assert "created tables in postgresql://***@" in copied.output
    assert "created database" not in copied.output
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # not even migrated
    assert read_schema(source).applied  # still the bot's database

    status, again = await uabot("migrate-storage", "--from", f"sqlite:{source}", "--to", database)
    assert status == 2 and "give it a new one (createdb -O ROLE NAME)" in again.err[0]


async def test_a_stop_while_run_waits_for_postgresql_is_a_clean_stop(
    tmp_path: Path, emulator: Emulator
) -> None:
    pytest.importorskip("psycopg")
    from fault_servers import refused_port

    url = f"postgresql://uabot:{PASSWORD}@127.0.0.1:{refused_port()}/uabot"
    bot = await Uabot.start(write_url_config(tmp_path, emulator.base_url, url))
    try:
        await bot.wait_for("check storage.url and that PostgreSQL runs; next try in 1 s")
        assert await bot.interrupt() == 0
    finally:
        await bot.kill()
    assert_clean(bot, PASSWORD, TOKEN)
    assert "stopped before the database was ready" in bot.output

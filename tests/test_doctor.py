"""`uabot doctor` as an operator runs it: the real process, one line per check, the exit status.

And `uabot run` makes the doctor's offline checks (one list, bot.doctor.OFFLINE) before it
contacts Telegram: a server that would reject the token shows that it never was.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest
from conftest import SECRET, TOKEN, webhook_keys
from fault_servers import (
    UNAUTHORIZED,
    Uabot,
    answering,
    assert_clean,
    base_url,
    refused_port,
    write_config,
)

from bot.emulator import Emulator
from bot.storage import Database
from bot.storage.db import migrations

# About the doctor's checks of a SQLite file, in a process of its own:
# not run on PostgreSQL (UABOT_TEST_DATABASE_URL).
pytestmark = pytest.mark.sqlite_only

SECRET_HALF = TOKEN.partition(":")[2]
CHECKS = (
    "config",
    "token",
    "storage",
    "schema",
    "catalogs",
    "webhook",
    "backup",
    "metrics",
    "webhook server",
    "feed",
    "telegram",
)


async def doctor(
    config: Path, *, wrapper: tuple[str, ...] = ()
) -> tuple[int, dict[str, str], Uabot]:
    """Run ``uabot doctor``: its status and its lines by check name ("ok: …"/"problem: …")."""
    uabot = await Uabot.start(config, command="doctor", wrapper=wrapper)
    try:
        status = await uabot.finish()
    finally:
        await uabot.kill()
    lines = {}
    for line in uabot.out:
        verdict, _, rest = line.partition(" ")
        name, _, text = rest.strip().partition(": ")
        if verdict in ("ok", "problem"):
            lines[name] = f"{verdict}: {text}"
    assert_clean(uabot, TOKEN, SECRET_HALF)
    return status, lines, uabot


async def test_all_ok_against_telegram_names_the_bot(emulator: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    feed = tmp_path / "actions"
    feed.mkdir()
    (feed / "ua.toml").write_text("# an action file\n", encoding="utf-8")
    config = write_config(tmp_path, emulator.base_url, db=db, extra=f'[feed]\nsource = "{feed}"\n')
    status, lines, uabot = await doctor(config)
    assert status == 0, uabot.output
    assert list(lines) == list(CHECKS), uabot.output
    assert all(text.startswith("ok: ") for text in lines.values()), uabot.output
    assert lines["telegram"] == (
        f"ok: @uabot_test_bot answers (127.0.0.1:{emulator.port}); inline mode off (/setinline"
        " at @BotFather lets supporters share cases with @uabot_test_bot)"
    )
    assert lines["schema"] == f"ok: version {migrations()[-1][0]}, up to date"
    assert lines["feed"] == f"ok: {feed}: 1 action file(s)"
    assert uabot.out[-1] == "all checks passed"


async def test_in_webhook_mode_the_doctor_says_what_telegram_sees_of_the_webhook(
    emulator: Emulator, tmp_path: Path
) -> None:
    """getWebhookInfo: where Telegram posts, or its last error while updates wait."""
    emulator.inline_mode = True
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    port = refused_port()  # the bot is down: nothing listens where Telegram posts
    url = f"http://127.0.0.1:{port}/telegram"
    keys = "".join(f'{key} = "{value}"\n' for key, value in webhook_keys(port).items())
    config = write_config(tmp_path, emulator.base_url, db=db, extra=keys)
    answers = f"ok: @uabot_test_bot answers (127.0.0.1:{emulator.port}); inline mode on"

    status, lines, uabot = await doctor(config)  # before the first `uabot run`
    assert status == 0, uabot.output
    assert lines["telegram"] == f"{answers}; webhook not set yet: uabot run sets it"

    emulator.webhook.set({"url": url, "secret_token": SECRET})
    status, lines, uabot = await doctor(config)
    assert status == 0, uabot.output
    assert lines["telegram"] == f"{answers}; Telegram posts to {url}"

    await emulator.user(61, language_code="en").send("/start")  # it cannot be delivered
    await emulator.wait_until(lambda: emulator.webhook.failures >= 1, timeout=10)
    status, lines, uabot = await doctor(config)
    assert status == 1, uabot.output
    assert lines["telegram"] == (
        f"problem: Telegram cannot deliver to {url}: Connection refused (1 waiting): check the"
        " reverse proxy and telegram.webhook_url"
    )


async def test_a_rejected_token_reads_as_uabot_run_says_it(tmp_path: Path) -> None:
    async with answering(401, UNAUTHORIZED) as url:
        config = write_config(tmp_path, url)
        status, lines, uabot = await doctor(config)
    assert status == 1
    assert lines["telegram"] == (
        f"problem: Telegram rejected the token (401): check telegram.token in {config}"
    )
    assert lines["storage"].startswith("ok: ")  # the other checks still ran
    assert uabot.out[-1] == "1 problem(s)"


async def test_telegram_unreachable_names_the_host_and_the_fix(tmp_path: Path) -> None:
    port = refused_port()
    status, lines, _ = await doctor(write_config(tmp_path, base_url(port)))
    assert status == 1
    assert lines["telegram"].startswith(f"problem: Telegram (127.0.0.1:{port}) not reachable: ")
    assert lines["telegram"].endswith(
        "check the network, telegram.proxy or telegram.base_url (README: Behind a proxy)"
    )


def unprivileged() -> tuple[str, ...]:
    """Root writes into any folder: as root, the doctor runs without that privilege
    (CAP_DAC_OVERRIDE), as a service user would."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv (util-linux) writes into read-only folders")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search")


async def test_an_unwritable_storage_folder_is_a_problem_with_the_fix(
    emulator: Emulator, tmp_path: Path
) -> None:
    storage = tmp_path / "ro"
    storage.mkdir()
    storage.chmod(0o555)
    config = write_config(tmp_path, emulator.base_url, db=storage / "bot.sqlite3")
    try:
        status, lines, uabot = await doctor(config, wrapper=unprivileged())
    finally:
        storage.chmod(0o700)
    assert status == 1, uabot.output
    assert lines["storage"] == (
        f"problem: {storage / 'bot.sqlite3'}: the folder {storage} is not writable by this user "
        "(SQLite writes its -wal and -shm files beside the database): choose a writable folder"
    )
    assert lines["telegram"].startswith("ok: @uabot_test_bot")


async def test_a_missing_storage_folder_says_how_to_make_it(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    status, lines, _ = await doctor(write_config(tmp_path, base_url(refused_port()), db=db))
    assert status == 1
    assert lines["storage"] == (
        f"problem: {db}: the folder {db.parent} does not exist: create it "
        f"(mkdir -p {db.parent}) or choose another path"
    )


def _forget_last_migration(db: Path) -> str:
    version, name, _ = migrations()[-1]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_version WHERE version = ?", (version,))
    conn.close()
    return name


async def test_a_pending_migration_is_ok_as_uabot_run_applies_it_at_start(
    tmp_path: Path,
) -> None:
    """After an upgrade, while the old bot still runs: nothing to do but restart it."""
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    name = _forget_last_migration(db)
    config = write_config(tmp_path, base_url(refused_port()), db=db)
    status, lines, _ = await doctor(config)
    previous = migrations()[-2][0]
    assert lines["schema"] == (
        f"ok: version {previous}; 1 migration pending ({name}): applied at the next start"
    )
    assert status == 1  # Telegram (a refused port) only: the schema is no problem
    assert [name for name, line in lines.items() if line.startswith("problem")] == ["telegram"]
    with sqlite3.connect(db) as conn:  # the doctor changed nothing
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == previous
    conn.close()


async def test_a_database_from_a_newer_uabot_stops_doctor_and_run(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, '999_future.sql', 'now')")
    conn.close()
    async with answering(401, UNAUTHORIZED) as url:  # reached only if the checks passed
        config = write_config(tmp_path, url, db=db)
        status, lines, _ = await doctor(config)
        run = await Uabot.start(config)
        try:
            assert await run.finish() == 2
        finally:
            await run.kill()
    why = f"{db} is at schema version 999, newer than this uabot knows (migrations 999)"
    assert status == 1 and lines["schema"].startswith(f"problem: {why}")
    assert run.err == [
        f"uabot: {why}: install the newer uabot, or restore a backup made by this one "
        "(uabot restore)"
    ], run.output


async def test_a_config_mistake_is_the_doctors_first_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, base_url(refused_port()), extra="[storag]\n")
    status, lines, uabot = await doctor(config)
    assert status == 1
    assert lines == {"config": "problem: unknown section [storag]: did you mean [storage]?"}
    assert uabot.out[-1] == "1 problem(s)"


async def test_uabot_run_stops_at_a_missing_catalog_before_telegram(tmp_path: Path) -> None:
    async with answering(401, UNAUTHORIZED) as url:
        config = write_config(
            tmp_path, url, extra='[i18n]\nlanguages = ["en", "xx"]\ndefault_language = "en"\n'
        )
        run = await Uabot.start(config)
        try:
            assert await run.finish() == 2
        finally:
            await run.kill()
        status, lines, _ = await doctor(config)
    assert len(run.err) == 1 and run.err[0].startswith("uabot: no catalog for language 'xx'")
    assert "rejected" not in run.output  # Telegram was never asked
    assert status == 1 and lines["catalogs"].startswith("problem: no catalog for language 'xx'")


async def test_uabot_run_says_once_at_start_that_inline_mode_is_off(
    emulator: Emulator, tmp_path: Path
) -> None:
    """getMe's supports_inline_queries: the README's /setinline step, where the operator looks."""
    config = write_config(tmp_path, emulator.base_url)
    off = (
        "inline mode is off: /setinline at @BotFather lets supporters share cases with"
        " @uabot_test_bot"
    )
    for inline_mode, said in ((False, 1), (True, 0)):
        emulator.inline_mode = inline_mode
        run = await Uabot.start(config)
        try:
            await run.wait_for("started as @")
            assert await run.interrupt() == 0
        finally:
            await run.kill()
        assert sum(off in line for line in run.err) == said, run.output
        assert_clean(run, TOKEN, SECRET_HALF)


async def test_an_unwritable_backup_folder_is_a_problem_while_backups_are_on(
    tmp_path: Path,
) -> None:
    """The running bot's backup job would fail at every interval, said only in the log (under
    systemd's ProtectSystem=strict, any folder outside /var/lib/uabot does)."""
    backups = tmp_path / "backups"
    backups.mkdir()
    backups.chmod(0o555)
    url = base_url(refused_port())
    config = write_config(tmp_path, url, extra=f'[backup]\nfolder = "{backups}"\n')
    try:
        status, lines, uabot = await doctor(config, wrapper=unprivileged())
    finally:
        backups.chmod(0o700)
    assert status == 1, uabot.output
    assert lines["backup"].startswith(f"problem: {backups} is not writable by this user ("), lines
    assert "ReadWritePaths" in lines["backup"]
    missing = tmp_path / "new" / "backups"
    write_config(tmp_path, url, extra=f'[backup]\nfolder = "{missing}"\n')
    _, lines, _ = await doctor(config)
    assert lines["backup"] == (
        f"ok: {missing} does not exist yet: the first backup creates it (owner-only)"
    )
    # Permission bits say yes to root where the kernel says no: the doctor tries.
    beyond = Path("/proc/uabot-doctor-test/backups")
    write_config(tmp_path, url, extra=f'[backup]\nfolder = "{beyond}"\n')
    status, lines, _ = await doctor(config)
    assert status == 1 and lines["backup"].startswith(f"problem: {beyond} does not exist"), lines
    write_config(tmp_path, url, extra=f'[backup]\nevery_hours = 0\nfolder = "{backups}"\n')
    _, lines, _ = await doctor(config)
    assert lines["backup"] == "ok: no automatic backups ([backup] every_hours = 0)"


async def test_a_metrics_port_taken_is_a_problem_unless_the_running_bot_holds_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    """``uabot run`` would stop at it only once Telegram answered; the doctor says it first."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        config = write_config(
            tmp_path, emulator.base_url, extra=f'[metrics]\nlisten = "{listen}"\n'
        )
        status, lines, _ = await doctor(config)
        assert status == 1
        assert lines["metrics"] == (
            f"problem: {listen} cannot be served (Address already in use): choose another "
            "metrics.listen (a free port; an address of this machine; ports below 1024 need "
            "privileges)"
        )
    # Free now: the doctor's own try leaves it free for the bot.
    status, lines, _ = await doctor(config)
    assert status == 0
    assert lines["metrics"] == f"ok: {listen} is free to serve /healthz and /metrics"
    # The bot itself serves it: that is what should be.
    bot = await Uabot.start(config)
    try:
        await bot.wait_for("metrics: /healthz and /metrics on")
        status, lines, _ = await doctor(config)
    finally:
        await bot.interrupt()
    assert status == 0, lines
    assert lines["metrics"].startswith(f"ok: {listen} is served by the running uabot (pid "), lines


async def test_in_webhook_mode_a_taken_listen_port_is_a_problem(
    emulator: Emulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        keys = "".join(f'{key} = "{value}"\n' for key, value in webhook_keys(port).items())
        config = write_config(tmp_path, emulator.base_url, extra=keys)
        status, lines, _ = await doctor(config)
    assert status == 1
    assert lines["webhook server"] == (
        f"problem: 127.0.0.1:{port} cannot be served (Address already in use): choose another "
        "telegram.listen (a free port; an address of this machine; ports below 1024 need "
        "privileges)"
    )
    status, lines, _ = await doctor(config)
    assert lines["webhook server"] == f"ok: 127.0.0.1:{port} is free for the webhook server"

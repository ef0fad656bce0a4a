"""Starting `uabot run` in a hostile world: bad settings, a refused token, Telegram unreachable.

The process tests start the real ``uabot run`` (``python -m bot run``) as an operator would and
read what it prints: one line per problem with its fix, the right exit status, no traceback,
and never the token or its secret half, whatever the server in front of it does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_ID, POSTGRES_URL, TOKEN, make_config, postgres_url_for
from fault_servers import (
    UNAUTHORIZED,
    Uabot,
    answering,
    assert_clean,
    base_url,
    refused_port,
    silent,
    write_config,
)

from bot.cli import main
from bot.config import Config
from bot.emulator import Emulator
from bot.logs import RedactingFilter
from bot.ptb.redact import redact
from bot.storage import Database, Storage

SECRET_HALF = TOKEN.partition(":")[2]
# What a start that is not clean leaves on stderr.
EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def assert_no_secret(uabot: Uabot) -> None:
    assert TOKEN not in uabot.output
    assert SECRET_HALF not in uabot.output


# -- a refused token -------------------------------------------------------------------------


@pytest.mark.parametrize("from_env", [False, True], ids=["config", "UABOT_TOKEN"])
async def test_a_rejected_token_is_one_line_with_the_fix_and_exit_2(
    tmp_path: Path, from_env: bool
) -> None:
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()  # migrated already: nothing else to log
    async with answering(401, UNAUTHORIZED) as url:
        config = write_config(tmp_path, url, token=None if from_env else TOKEN, db=db)
        uabot = await Uabot.start(config, env_token=TOKEN if from_env else None)
        try:
            assert await uabot.finish() == 2
        finally:
            await uabot.kill()
    where = "$UABOT_TOKEN" if from_env else f"telegram.token in {config}"
    assert uabot.err == [
        f"uabot: Telegram rejected the token (401): check {where}"
        + (" (it overrides telegram.token)" if from_env else "")
    ]
    assert uabot.out == []
    assert_no_secret(uabot)


# -- Telegram unreachable at start -----------------------------------------------------------


@pytest.mark.parametrize("through_proxy", [False, True], ids=["direct", "proxy"])
async def test_a_refused_connection_is_retried_one_line_each_and_ctrl_c_stops_at_once(
    tmp_path: Path, through_proxy: bool
) -> None:
    port = refused_port()
    proxy_port = refused_port()
    extra = (
        f'proxy = "http://uabot:proxy-pass-4711@127.0.0.1:{proxy_port}"' if through_proxy else ""
    )
    uabot = await Uabot.start(write_config(tmp_path, base_url(port), extra=extra))
    try:
        await uabot.wait_for("next try in 1 s")
        await uabot.wait_for("next try in 2 s")
        await uabot.wait_for("next try in 4 s")
        started = time.monotonic()
        # The bot sleeps 4 s before its next try: Ctrl-C must not wait for it.
        assert await uabot.interrupt(timeout=4) == 0
        stopped_after = time.monotonic() - started
    finally:
        await uabot.kill()
    retries = [line for line in uabot.err if "not reachable" in line]
    assert len(retries) == 3, uabot.output
    where = f"Telegram (127.0.0.1:{port}"
    if through_proxy:
        where += f" through the proxy http://127.0.0.1:{proxy_port})"
    assert all(where in line for line in retries), retries
    assert "stopped before Telegram answered" in uabot.err[-1]
    assert "proxy-pass-4711" not in uabot.output
    assert_no_secret(uabot)
    assert_clean(uabot)
    print(f"Ctrl-C to exit: {stopped_after:.2f} s")


async def test_a_server_that_never_answers_times_out_by_config(tmp_path: Path) -> None:
    async with silent() as url:
        extra = "connect_timeout = 0.5\nread_timeout = 0.5"
        uabot = await Uabot.start(write_config(tmp_path, url, extra=extra))
        try:
            await uabot.wait_for("not reachable", count=2)
            assert await uabot.interrupt() == 0
        finally:
            await uabot.kill()
    retries = [line for line in uabot.err if "not reachable" in line]
    assert all("not reachable: timed out" in line for line in retries), uabot.output
    assert_no_secret(uabot)
    assert_clean(uabot)


async def test_a_404_for_the_token_names_the_base_url_too(tmp_path: Path) -> None:
    not_found = '{"ok": false, "error_code": 404, "description": "Not Found"}'
    async with answering(404, not_found) as url:
        config = write_config(tmp_path, url)
        uabot = await Uabot.start(config)
        try:
            assert await uabot.finish() == 2
        finally:
            await uabot.kill()
    assert uabot.err[-1] == (
        "uabot: Telegram rejected the token (404): "
        f"check telegram.token in {config} and telegram.base_url"
    )
    assert_no_secret(uabot)
    assert_clean(uabot)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(500, "Internal Server Error (500)"), (401, "Unauthorized (401)")],
    ids=["500", "401-from-a-proxy"],
)
async def test_an_html_error_page_is_retried_without_the_page_or_the_token(
    tmp_path: Path, status: int, reason: str
) -> None:
    # Only Telegram's JSON answer is its word on the token: a proxy's page is an outage.
    page = f"<html><body><h1>{status}</h1><p>Error while serving {{path}}</p></body></html>"
    async with answering(status, page, content_type="text/html") as url:
        uabot = await Uabot.start(write_config(tmp_path, url))
        try:
            await uabot.wait_for("not reachable", count=2)
            assert await uabot.interrupt() == 0
        finally:
            await uabot.kill()
    retries = [line for line in uabot.err if "not reachable" in line]
    assert all(f"{reason} (not Telegram's answer)" in line for line in retries), retries
    assert "<html>" not in uabot.output
    assert_no_secret(uabot)
    assert_clean(uabot)


async def test_the_bot_comes_up_when_telegram_answers_again(tmp_path: Path) -> None:
    port = refused_port()
    db = tmp_path / "bot.sqlite3"
    uabot = await Uabot.start(write_config(tmp_path, base_url(port), db=db))
    try:
        await uabot.wait_for("not reachable")
        async with Emulator(token=TOKEN, port=port) as emulator:
            await uabot.wait_for("started as @")
            user = emulator.user(41, first_name="Olena", language_code="en")
            await user.send("/start")
            assert "Welcome!" in (await user.receive(timeout=30)).text
            assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    started = next(line for line in uabot.err if "started as @" in line)
    # On the suite's PostgreSQL run: its URL, the user masked as every URL in the logs.
    shown = redact(postgres_url_for(db)) if POSTGRES_URL else db
    assert started.endswith(
        f"started as @uabot_test_bot (long polling): 0 admins, database {shown}, "
        "languages en, de, fr (default en)"
    ), started
    assert_no_secret(uabot)
    assert_clean(uabot)


# -- checks before Telegram is asked ---------------------------------------------------------


def never_contact_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(config: Config, prepare: Callable[[], Awaitable[None]] | None = None) -> None:
        if prepare is not None:  # the database is opened before Telegram is asked
            asyncio.run(prepare())
        raise AssertionError("uabot run contacted Telegram despite a bad setting")

    monkeypatch.setattr("bot.app.run", fail)


def run_in_process(
    config: Path, capsys: pytest.CaptureFixture[str], command: str = "run"
) -> tuple[int, str]:
    status = main([command, "--config", str(config)])
    captured = capsys.readouterr()
    assert captured.out == ""
    return status, captured.err


def test_the_example_configs_placeholder_token_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    never_contact_telegram(monkeypatch)
    monkeypatch.delenv("UABOT_TOKEN", raising=False)
    status, err = run_in_process(EXAMPLE, capsys)
    assert status == 2
    assert err == (
        f"uabot: config error: telegram.token in {EXAMPLE} is still the placeholder of "
        "config.example.toml: put your bot's token from @BotFather there (or in $UABOT_TOKEN)\n"
    )


@pytest.mark.parametrize(
    "token",
    ["123456", "bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "123456:short", "12:a b c d"],
)
@pytest.mark.parametrize("from_env", [False, True], ids=["config", "UABOT_TOKEN"])
def test_a_token_of_the_wrong_shape_stops_the_start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
    from_env: bool,
) -> None:
    never_contact_telegram(monkeypatch)
    if from_env:
        monkeypatch.setenv("UABOT_TOKEN", token)
    else:
        monkeypatch.delenv("UABOT_TOKEN", raising=False)
    config = write_config(tmp_path, base_url(refused_port()), token=None if from_env else token)
    status, err = run_in_process(config, capsys)
    where = "$UABOT_TOKEN" if from_env else f"telegram.token in {config}"
    assert status == 2
    assert err.startswith(f"uabot: config error: {where}")
    assert err.endswith(
        "does not look like a bot token (digits, a colon, then about 35 "
        "letters, digits, - or _): copy it again from @BotFather\n"
    )
    assert err.count("\n") == 1


def _folder_missing(tmp: Path) -> tuple[Path, str]:
    return tmp / "no" / "such" / "db.sqlite3", f"the folder {tmp / 'no' / 'such'} does not exist"


def _parent_is_a_file(tmp: Path) -> tuple[Path, str]:
    (tmp / "plain").write_text("x", encoding="utf-8")
    return tmp / "plain" / "db.sqlite3", f"{tmp / 'plain'} is a file, not a folder"


def _a_folder(tmp: Path) -> tuple[Path, str]:
    (tmp / "data").mkdir()
    return tmp / "data", f"{tmp / 'data'} is a folder: name a file in it"


def _not_a_database(tmp: Path) -> tuple[Path, str]:
    (tmp / "notes.txt").write_text("not a database, " * 300, encoding="utf-8")
    return tmp / "notes.txt", "cannot be opened as a SQLite database (file is not a database)"


@pytest.mark.sqlite_only  # SQLite files that cannot work
@pytest.mark.parametrize("make", [_folder_missing, _parent_is_a_file, _a_folder, _not_a_database])
@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_storage_path_that_cannot_work_is_one_line_naming_it_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], tuple[Path, str]],
    command: str,
) -> None:
    never_contact_telegram(monkeypatch)
    db, reason = make(tmp_path)
    config = write_config(tmp_path, base_url(refused_port()), db=db)
    status, err = run_in_process(config, capsys, command)
    assert status == 2
    assert err.startswith(f"uabot: storage.path: {db}"), err
    assert reason in err
    assert err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    never_contact_telegram(monkeypatch)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        config = write_config(tmp_path, base_url(refused_port()), db=folder / "db.sqlite3")
        status, err = run_in_process(config, capsys)
    finally:
        folder.chmod(0o700)
    assert status == 2
    assert f"the folder {folder} is not writable by this user" in err


@pytest.mark.sqlite_only  # a SQLite file in a missing folder
async def test_a_bad_storage_path_is_one_line_from_the_real_process(tmp_path: Path) -> None:
    async with answering(401, UNAUTHORIZED) as url:  # reached only if the check failed
        uabot = await Uabot.start(
            write_config(tmp_path, url, db=tmp_path / "missing" / "db.sqlite3")
        )
        try:
            assert await uabot.finish() == 2
        finally:
            await uabot.kill()
    assert len(uabot.err) == 1, uabot.output
    assert uabot.err[0].startswith(f"uabot: storage.path: {tmp_path / 'missing' / 'db.sqlite3'}")
    assert_clean(uabot)


# -- the second line of defence: the log filter ----------------------------------------------


def test_the_log_filter_masks_secrets_in_messages_arguments_and_tracebacks() -> None:
    redacting = RedactingFilter()
    redacting.add([TOKEN, SECRET_HALF, "proxy-pass-4711"])
    try:
        raise ValueError(f"Cannot connect to http://127.0.0.1/bot{TOKEN}/getMe")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed %s via %s", (SECRET_HALF, "p"), sys.exc_info()
        )
    record.args = (SECRET_HALF, "http://u:proxy-pass-4711@proxy:3128")
    assert redacting.filter(record)
    text = logging.Formatter().format(record)
    assert "failed *** via http://***@proxy:3128" in text
    bot_id = TOKEN.partition(":")[0]  # public: the bot's id, kept for the reader of the log
    assert f"ValueError: Cannot connect to http://127.0.0.1/bot{bot_id}:***/getMe" in text
    assert TOKEN not in text and SECRET_HALF not in text and "proxy-pass-4711" not in text


def test_redact_masks_any_bot_tokens_secret_and_any_url_password() -> None:
    text = "GET https://api.telegram.org/bot987654:OtherSecret_-x/getMe via http://a:b@p:1"
    assert redact(text) == "GET https://api.telegram.org/bot987654:***/getMe via http://***@p:1"


# -- the database's files --------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only  # SQLite's file and its -wal and -shm
async def test_the_database_and_its_wal_and_shm_are_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    old_umask = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        storage = await Storage.open(path)
        try:
            await storage.users.subscribe(1, "en")
            wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
            assert {p.name: _mode(p) for p in (path, wal, shm)} == {
                path.name: 0o600,
                wal.name: 0o600,
                shm.name: 0o600,
            }
            # Files of an earlier version, open to others, are tightened at the next open.
            for file in (path, wal, shm):
                file.chmod(0o644)
            second = await Storage.open(path)
            await second.close()
            assert [_mode(p) for p in (path, wal, shm)] == [0o600, 0o600, 0o600]
        finally:
            await storage.close()
    finally:
        os.umask(old_umask)


# -- stale admin menus -----------------------------------------------------------------------


async def test_an_admin_removed_from_the_config_loses_the_admin_menu_at_the_next_start(
    emulator: Emulator, tmp_path: Path
) -> None:
    from bot.app import build_application, running

    former = ADMIN_ID + 1
    db = tmp_path / "uabot.sqlite3"

    def menu(chat_id: int, language: str) -> list[str]:
        scope: dict[str, Any] = {"type": "chat", "chat_id": chat_id}
        return [name for name, _ in emulator.commands(language_code=language, scope=scope)]

    for admin in (ADMIN_ID, former):
        emulator.user(admin)  # both opened the bot once: Telegram knows their chats
    both = make_config(emulator, db, telegram={"admins": [ADMIN_ID, former]})
    async with running(build_application(both), poll_timeout=1):
        for admin in (ADMIN_ID, former):
            assert "stats" in menu(admin, "de") and "stats" in menu(admin, "")

    one = make_config(
        emulator, db, telegram={"admins": [ADMIN_ID]}, i18n={"languages": ["en", "de"]}
    )
    async with running(build_application(one), poll_timeout=1):
        for language in ("", "en", "de", "fr"):
            assert menu(former, language) == []  # Telegram falls back to the public menu
        assert "stats" in menu(ADMIN_ID, "de")
        assert menu(ADMIN_ID, "fr") == []  # a language no longer offered: its menu is gone too
        assert "stats" not in [name for name, _ in emulator.commands(language_code="de")]


async def test_an_outage_while_running_is_one_line_per_retry_and_the_bot_resumes(
    tmp_path: Path,
) -> None:
    emulator = await Emulator(token=TOKEN, port=refused_port()).start()
    uabot = await Uabot.start(write_config(tmp_path, emulator.base_url))
    try:
        await uabot.wait_for("started as @")
        user = emulator.user(43, first_name="Mykola", language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=30)).text
        await emulator.stop()
        await uabot.wait_for("Telegram not reachable while polling", count=2)
        await emulator.start()
        await user.send("/help")
        assert "/actions" in (await user.receive(timeout=60)).text
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
        await emulator.stop()
    assert_no_secret(uabot)
    assert_clean(uabot)

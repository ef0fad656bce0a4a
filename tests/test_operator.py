"""What a newcomer operator met (review of issue 10): each case as they met it, fixed.

Proxy passwords with special characters, relative paths, two copies of the bot, Ctrl-C in an
outage, mistakes that need a config change, odd database paths, and the CLI's small lies.
Process tests start the real ``uabot run`` as tests/test_startup.py does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import stat
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from conftest import TOKEN
from fault_servers import (
    Uabot,
    answering,
    assert_clean,
    base_url,
    refused_port,
    write_config,
)

from bot.cli import main
from bot.config import Config, ConfigError, load_config, parse_config
from bot.emulator import Emulator
from bot.ptb.redact import redact, without_userinfo
from bot.storage import Database

SECRET_HALF = TOKEN.partition(":")[2]
SPECIALS = ["/", "@", " ", "#", "?"]


def never_contact_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(config: Config) -> None:
        raise AssertionError("uabot run contacted Telegram despite a bad setting")

    monkeypatch.setattr("bot.app.run", fail)


# -- 1. a proxy password with special characters ---------------------------------------------


@pytest.mark.parametrize("char", SPECIALS, ids=["slash", "at", "space", "hash", "question"])
def test_a_proxy_password_with_a_raw_special_character_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    char: str,
) -> None:
    never_contact_telegram(monkeypatch)
    proxy = f'proxy = "http://alice:S3cr{char}tPW@127.0.0.1:{refused_port()}"'
    config = write_config(tmp_path, base_url(refused_port()), extra=proxy)
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("uabot: config error: telegram.proxy is not a valid URL")
    assert "percent-encode special characters in the user or password" in err
    assert "S3cr" not in err and "tPW" not in err


async def test_the_real_process_refuses_a_raw_slash_without_showing_the_password(
    tmp_path: Path,
) -> None:
    proxy = f'proxy = "http://alice:S3cr/tPW@127.0.0.1:{refused_port()}"'
    uabot = await Uabot.start(write_config(tmp_path, base_url(refused_port()), extra=proxy))
    try:
        assert await uabot.finish() == 2
    finally:
        await uabot.kill()
    assert len(uabot.err) == 1 and "percent-encode" in uabot.err[0], uabot.output
    assert "S3cr" not in uabot.output and "tPW" not in uabot.output


@pytest.mark.parametrize("char", ["/", "@", "#", "?"])
def test_redact_masks_a_urls_userinfo_up_to_its_last_at(char: str) -> None:
    text = f"InvalidURL: url='http://alice:S3cr{char}tPW@127.0.0.1:3128' and more"
    assert redact(text) == "InvalidURL: url='http://***@127.0.0.1:3128' and more"
    assert without_userinfo(f"http://alice:S3cr{char}tPW@proxy:3128") == "http://proxy:3128"


def test_a_percent_encoded_password_is_accepted_and_kept_secret() -> None:
    proxy = "http://alice:S3cr%2F%40%20%23%3FtPW@127.0.0.1:3128"
    config = parse_config({"telegram": {"token": TOKEN, "proxy": proxy}}, environ={})
    assert config.telegram.proxy == proxy
    assert "S3cr/@ #?tPW" in config.secrets()  # as aiohttp decodes and sends it


@pytest.mark.parametrize(
    ("proxy", "fragment"),
    [
        ("socks5://proxy:1080", "must be an http:// or https:// URL"),
        ("http://proxy:31x8", "port that is not a number"),
        ("http://:3128", "names no host"),
        ("http://proxy:3128/path", "no path, ? or #"),
    ],
)
def test_other_proxy_mistakes_are_named(proxy: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"telegram": {"token": TOKEN, "proxy": proxy}}, environ={})
    assert fragment in str(caught.value)


# -- 2. relative paths ------------------------------------------------------------------------


def test_relative_paths_are_taken_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, elsewhere, home = tmp_path / "etc", tmp_path / "elsewhere", tmp_path / "home"
    for path in (folder / "certs", elsewhere, home):
        path.mkdir(parents=True)
    trustme.CA().cert_pem.write_to_path(str(folder / "certs" / "ca.pem"))
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nca_bundle = "certs/ca.pem"\n'
        '[storage]\npath = "data/bot.sqlite3"\n[feed]\nsource = "actions"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(elsewhere)
    loaded = load_config(Path("..") / "etc" / "config.toml")
    assert loaded.storage.path == folder / "data" / "bot.sqlite3"
    assert loaded.telegram.ca_bundle == str(folder / "certs" / "ca.pem")
    assert loaded.feed.source == str(folder / "actions")

    monkeypatch.setenv("HOME", str(home))
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n[storage]\npath = "~/bot.sqlite3"\n'
        '[feed]\nsource = "https://example.org/index.json"\n',
        encoding="utf-8",
    )
    loaded = load_config(config)
    assert loaded.storage.path == home / "bot.sqlite3"
    assert loaded.feed.source == "https://example.org/index.json"


async def test_the_start_line_names_the_absolute_database_and_a_new_one_is_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    folder, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{emulator.base_url}"\n[storage]\npath = "bot.sqlite3"\n',
        encoding="utf-8",
    )
    uabot = await Uabot.start(config, env_token=emulator.token, cwd=elsewhere)
    try:
        await uabot.wait_for("started as @")
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    database = folder / "bot.sqlite3"
    assert database.exists() and not (elsewhere / "bot.sqlite3").exists()
    assert any(f"database {database}, languages" in line for line in uabot.err), uabot.output
    created = [line for line in uabot.err if "created database" in line]
    assert len(created) == 1 and f"created database {database} at schema version" in created[0]
    assert not any("applied migration" in line for line in uabot.err), uabot.output
    assert_clean(uabot, TOKEN, SECRET_HALF)


@pytest.mark.sqlite_only  # a SQLite file that does not exist
@pytest.mark.parametrize("command", ["stats", "audit"])
def test_reading_commands_refuse_a_database_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    db = tmp_path / "typo.sqlite3"
    config = write_config(tmp_path, base_url(refused_port()), db=db)
    assert main([command, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"uabot: storage.path: {db} does not exist: check storage.path (relative paths are "
        "taken from the config file's folder); `uabot run` creates the database\n"
    )
    assert not db.exists()


# -- 3. two copies of the bot ---------------------------------------------------------------


@pytest.mark.sqlite_only  # the SQLite file's lock (PostgreSQL: issue 16 §4)
async def test_a_second_uabot_on_the_same_database_exits_2_naming_the_first(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emulator.base_url)
    first = await Uabot.start(config)
    try:
        await first.wait_for("started as @")
        second = await Uabot.start(config)
        try:
            assert await second.finish() == 2
        finally:
            await second.kill()
        lock = tmp_path / "bot.sqlite3.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert await first.interrupt() == 0
    finally:
        await first.kill()
    assert second.err == [
        f"uabot: another uabot is running on this database (pid {first.process.pid}): stop it "
        f"first, or give this one another storage.path than {tmp_path / 'bot.sqlite3'}"
    ]
    # The lock dies with its holder: the next start goes ahead.
    third = await Uabot.start(config)
    try:
        await third.wait_for("started as @")
        assert await third.interrupt() == 0
    finally:
        await third.kill()


async def test_the_emulator_ends_an_overtaken_long_poll_with_409(emulator: Emulator) -> None:
    import aiohttp

    url = f"{emulator.base_url}{emulator.token}/getUpdates"
    async with aiohttp.ClientSession() as session:

        async def poll() -> tuple[int, dict[str, object]]:
            async with session.post(url, json={"timeout": 30}) as response:
                return response.status, await response.json()

        older = asyncio.create_task(poll())
        await asyncio.sleep(0.2)  # the older poll waits in the emulator
        newer = asyncio.create_task(poll())
        status, body = await asyncio.wait_for(older, 10)
        newer.cancel()
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running"
    )


async def test_another_copy_polling_with_the_token_is_one_line_each_no_traceback(
    emulator: Emulator, tmp_path: Path
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    copies = [
        await Uabot.start(write_config(folder, emulator.base_url)) for folder in (here, there)
    ]
    try:
        for copy in copies:
            await copy.wait_for("another copy of the bot is polling with this token: stop it")
        for copy in copies:
            assert await copy.interrupt() == 0
    finally:
        for copy in copies:
            await copy.kill()
    for copy in copies:
        assert_clean(copy)
        assert "error while handling" not in copy.output


async def test_ctrl_c_in_an_outage_is_quick_quiet_and_exit_0(tmp_path: Path) -> None:
    emulator = await Emulator(token=TOKEN, port=refused_port()).start()
    uabot = await Uabot.start(write_config(tmp_path, emulator.base_url))
    try:
        await uabot.wait_for("started as @")
        user = emulator.user(44, first_name="Iryna", language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=30)).text  # polling runs
        await emulator.stop()
        # PTB sleeps 1, 1.5, 2.25, 3.4, then 5.1 s between failed polls.
        await uabot.wait_for("Telegram not reachable while polling", count=5)
        started = time.monotonic()
        assert await uabot.interrupt() == 0
        stopped_after = time.monotonic() - started
    finally:
        await uabot.kill()
    assert stopped_after < 5, f"Ctrl-C took {stopped_after:.1f} s"  # not the 5.1 s sleep
    assert "Error while calling `get_updates`" not in uabot.output
    assert_clean(uabot, TOKEN, SECRET_HALF)
    print(f"Ctrl-C in an outage to exit: {stopped_after:.2f} s")


def test_ctrl_c_while_starting_is_exit_0_for_run_and_130_for_one_shot_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("bot.app.run", interrupted)
    config = write_config(tmp_path, base_url(refused_port()))
    assert main(["run", "--config", str(config)]) == 0
    monkeypatch.setattr("bot.cli._with_storage", interrupted)
    Path(tmp_path / "bot.sqlite3").touch()
    assert main(["stats", "--config", str(config)]) == 130


# -- 4. mistakes that need a config change ----------------------------------------------------


@contextlib.asynccontextmanager
async def proxy_answering_407() -> AsyncIterator[int]:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="p"\r\nContent-Length: 0\r\n\r\n'
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def test_a_407_from_the_proxy_at_start_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    async with proxy_answering_407() as port:
        proxy = f'proxy = "http://alice:S3cr%2FtPW@127.0.0.1:{port}"'
        config = write_config(tmp_path, "https://api.telegram.invalid/bot", extra=proxy)
        uabot = await Uabot.start(config)
        try:
            assert await uabot.finish() == 2
        finally:
            await uabot.kill()
    assert len(uabot.err) == 2 and "at schema version" in uabot.err[0], uabot.output
    assert uabot.err[1].startswith(
        f"uabot: Telegram (api.telegram.invalid through the proxy http://127.0.0.1:{port}) not "
        "reachable: aiohttp.ClientHttpProxyError: 407"
    )
    assert uabot.err[1].endswith(": check the user and password in telegram.proxy")
    assert "S3cr" not in uabot.output and "tPW" not in uabot.output
    assert_clean(uabot, TOKEN, SECRET_HALF)


async def test_an_untrusted_certificate_at_start_is_exit_2_naming_ca_bundle(
    tmp_path: Path,
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
    port = int(server.sockets[0].getsockname()[1])
    try:
        uabot = await Uabot.start(write_config(tmp_path, f"https://127.0.0.1:{port}/bot"))
        try:
            assert await uabot.finish() == 2
        finally:
            await uabot.kill()
    finally:
        server.close()
        await server.wait_closed()
    assert len(uabot.err) == 2 and "at schema version" in uabot.err[0], uabot.output
    assert "CERTIFICATE_VERIFY_FAILED" in uabot.err[1]
    assert uabot.err[1].endswith(": set telegram.ca_bundle (see README)")
    assert_clean(uabot, TOKEN, SECRET_HALF)


async def test_a_redirect_at_start_is_retried_with_the_hint(tmp_path: Path) -> None:
    async with answering(302, "") as url:
        uabot = await Uabot.start(write_config(tmp_path, url))
        try:
            await uabot.wait_for("not reachable", count=2)
            assert await uabot.interrupt() == 0
        finally:
            await uabot.kill()
    retries = [line for line in uabot.err if "not reachable" in line]
    assert all(
        "Found (302) (not Telegram's answer): something between the bot and Telegram redirects: "
        "check telegram.base_url / telegram.proxy; next try in" in line
        for line in retries
    ), retries
    assert_clean(uabot, TOKEN, SECRET_HALF)


# -- 5. the database's path -------------------------------------------------------------------


@pytest.mark.sqlite_only  # a SQLite file that cannot be created
def test_a_database_that_cannot_be_created_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, base_url(refused_port()), db=Path("/proc/x.sqlite3"))
    assert main(["migrate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    # migrate takes the database's lock first (as run and restore): its file is the first.
    assert err.startswith("uabot: storage.path: /proc/x.sqlite3: cannot create "), err
    assert err.count("\n") == 1


@pytest.mark.sqlite_only  # a file that is no SQLite database
def test_a_file_that_is_not_a_database_keeps_its_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, " * 300, encoding="utf-8")
    notes.chmod(0o644)
    config = write_config(tmp_path, base_url(refused_port()), db=notes)
    assert main(["migrate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cannot be opened as a SQLite database (file is not a database)" in err
    assert err.count("\n") == 1
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644  # someone else's file: not touched


# -- 6. small things --------------------------------------------------------------------------


@pytest.mark.sqlite_only  # SQLite's log line (PostgreSQL's: test_postgres.py)
async def test_a_new_database_is_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.storage.db")
    db = await Database.open(tmp_path / "new.sqlite3")
    version = await db.schema_version()
    await db.close()
    assert [r.getMessage() for r in caplog.records] == [
        f"created database {tmp_path / 'new.sqlite3'} at schema version {version}"
    ]


def test_v_after_the_command_turns_on_debug_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    levels: list[int] = []
    monkeypatch.setattr(
        "bot.app.run", lambda config, *_: levels.append(logging.getLogger("bot").level)
    )
    config = write_config(tmp_path, base_url(refused_port()))
    assert main(["run", "-v", "--config", str(config)]) == 0
    assert main(["-v", "run", "--config", str(config)]) == 0
    assert main(["run", "--config", str(config)]) == 0
    assert levels == [logging.DEBUG, logging.DEBUG, logging.NOTSET]


def test_import_publish_says_what_happened_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    action = Path(__file__).parent / "fixtures" / "actions" / "ua-012-26-1.toml"
    config = write_config(tmp_path, base_url(refused_port()))
    args = ["import", "--config", str(config), "--publish", str(action)]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(args) == 0
    second = capsys.readouterr().out.splitlines()
    assert len(first) == 1 and first[0].startswith("UA 012/26: new and published; broadcast")
    assert second == ["UA 012/26: unchanged and already published: nothing to send"]


def test_an_unreadable_ca_bundle_says_permission_denied(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        folder.chmod(0o755)
        bundle = folder / "ca.pem"
        trustme.CA().cert_pem.write_to_path(str(bundle))
        bundle.chmod(0o000 if os.geteuid() else 0o600)
        config = folder / "config.toml"
        config.write_text(f'[telegram]\ntoken = "{TOKEN}"\nca_bundle = "ca.pem"\n')
        config.chmod(0o644)
        if os.geteuid() == 0:
            os.seteuid(65534)  # root reads anything: be somebody else for the check
        try:
            with pytest.raises(ConfigError) as caught:
                load_config(config)
        finally:
            if os.getuid() == 0:
                os.seteuid(0)
        assert str(caught.value) == (
            f"telegram.ca_bundle ca.pem ({bundle}): permission denied: make it readable by "
            "the bot's user"
        )
    finally:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()

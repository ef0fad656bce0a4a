"""`uabot run` is the same bot: started as a process against the emulator, it answers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from fault_servers import Uabot, write_config

from bot.emulator import Emulator
from bot.storage import Database


async def test_uabot_run_answers_start_in_german_for_de_ch(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[telegram]\n"
        f'base_url = "{emulator.base_url}"\n'
        f'base_file_url = "{emulator.base_file_url}"\n'
        f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "UABOT_TOKEN": emulator.token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        user = emulator.user(31, first_name="Heidi", language_code="de-CH")
        await user.send("/start")
        reply = await user.receive(timeout=30)
        assert "Willkommen!" in reply.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert emulator.token not in log  # the token is never logged
    assert "/start" not in log and "Heidi" not in log  # nor what users write


async def test_uabot_v_run_logs_neither_names_nor_texts_nor_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emulator.base_url, token=None)
    uabot = await Uabot.start(config, env_token=emulator.token, verbose=True)
    try:
        await uabot.wait_for("started as @")
        user = emulator.user(32, first_name="Oksana", last_name="Zhyvotenko", language_code="en")
        await user.send("/start")
        assert "Welcome!" in (await user.receive(timeout=30)).text
        await user.send("my brother Taras is held in Kherson")
        await user.receive(timeout=30)
        assert await uabot.interrupt() == 0
    finally:
        await uabot.kill()
    assert " DEBUG " in uabot.output  # -v is on
    for private in ("Oksana", "Zhyvotenko", "Taras", "Kherson"):
        assert private not in uabot.output
    assert emulator.token not in uabot.output
    assert emulator.token.partition(":")[2] not in uabot.output


async def test_migrate_is_refused_while_a_bot_runs_on_the_database(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The upgrade steps' order (install, doctor, restart): a `uabot migrate` in between would
    change the tables under the old, still running bot. It takes the lock run holds."""
    config = write_config(tmp_path, emulator.base_url)
    bot = await Uabot.start(config)
    try:
        await bot.wait_for("started as @")
        assert "(long polling)" in bot.output  # the start line says how updates come
        migrate = await Uabot.start(config, command="migrate")
        assert await migrate.finish() == 2, migrate.output
        assert "another uabot is running on this database (pid " in migrate.output
        assert await bot.interrupt() == 0
    finally:
        await bot.kill()
    migrate = await Uabot.start(config, command="migrate")
    assert await migrate.finish() == 0, migrate.output
    assert "schema version" in migrate.output


def _into_a_closed_pipe(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uabot ARGS | head`` when head has already gone: stdout's reader is closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(config)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


async def test_backup_and_stats_into_a_closed_pipe_end_quietly(tmp_path: Path) -> None:
    """The backup is written; the reader that went away (`| head`) is no error to report: no
    traceback, and the status of a shell tool its reader left (141, as `yes | head`)."""
    db = tmp_path / "bot.sqlite3"
    await (await Database.open(db)).close()
    config = write_config(tmp_path, "http://127.0.0.1:9/bot", db=db)
    copy = tmp_path / "copy.sqlite3"
    backup = _into_a_closed_pipe(config, "backup", "--to", str(copy))
    assert backup.returncode in (0, 141), backup.stderr
    assert backup.stderr == ""
    assert copy.stat().st_size > 0
    stats = _into_a_closed_pipe(config, "stats")
    assert stats.returncode in (0, 141), stats.stderr
    assert stats.stderr == ""


def test_run_help_names_both_ways_of_receiving_updates() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "Run the bot (long polling, or a webhook: [telegram] mode)." in shown

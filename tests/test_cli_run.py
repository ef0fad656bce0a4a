"""`uabot run` is the same bot: started as a process against the emulator, it answers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from fault_servers import Uabot, write_config

from bot.emulator import Emulator


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

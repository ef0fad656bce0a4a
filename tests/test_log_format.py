"""``uabot run --log-format json``: one JSON object a line, secrets masked, plain text default."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import aiohttp
from fault_servers import TOKEN, Uabot, assert_clean, write_config
from journeys import ADMIN_ID, publish, subscriber

from bot.emulator import Emulator
from bot.logs import about, setup_logging
from bot.ptb.redact import token_secrets


def records(uabot: Uabot) -> list[dict[str, Any]]:
    """Every stderr line, each of which must be one JSON object."""
    parsed = []
    for line in uabot.err:
        record = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(record, dict), line
        parsed.append(record)
    return parsed


async def test_json_lines_name_the_broadcast_and_case_and_hold_no_user_data(
    tmp_path: Path,
) -> None:
    async with Emulator(token=TOKEN) as emulator:
        config = write_config(
            tmp_path,
            emulator.base_url,
            extra=f'base_file_url = "{emulator.base_file_url}"\nadmins = [{ADMIN_ID}]\n'
            '[metrics]\nlisten = "127.0.0.1:0"\n',
        )
        uabot = await Uabot.start(config, args=("--log-format", "json"))
        try:
            await uabot.wait_for('"started as @')
            supporter = await subscriber(emulator, 1, "de")
            admin = await subscriber(emulator, ADMIN_ID, "en")
            await publish(admin, "ua-012-26-1.toml")
            await supporter.receive()
            await uabot.wait_for("finished: 2 delivered")
            # The real process serves /healthz too, on the port its log line names.
            served = next(r for r in records(uabot) if r["logger"] == "bot.metrics")
            port = re.search(r":(\d+)$", served["message"])
            assert port is not None, served
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port[1]}/healthz") as response,
            ):
                assert (response.status, await response.text()) == (200, "ok\n")
            status = await uabot.interrupt()
        finally:
            await uabot.kill()
    assert status == 0, uabot.output
    assert_clean(uabot, *token_secrets(TOKEN), "User1")
    lines = records(uabot)
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in lines), lines
    assert all(r["time"].endswith("+00:00") for r in lines), lines
    started = next(r for r in lines if r["message"].startswith("started as @"))
    assert (started["level"], started["logger"]) == ("INFO", "bot.app")
    published = next(r for r in lines if r["message"].startswith("published UA 012/26"))
    assert (published["case"], published["broadcast"]) == ("UA 012/26", 1)
    finished = next(r for r in lines if "finished: 2 delivered" in r["message"])
    assert (finished["case"], finished["broadcast"], finished["logger"]) == (
        "UA 012/26",
        1,
        "bot.broadcast.engine",
    )
    # Plain records carry no such fields.
    assert "broadcast" not in started and "case" not in started


async def test_plain_text_stays_the_default(tmp_path: Path) -> None:
    async with Emulator(token=TOKEN) as emulator:
        uabot = await Uabot.start(write_config(tmp_path, emulator.base_url))
        try:
            await uabot.wait_for("started as @")
            status = await uabot.interrupt()
        finally:
            await uabot.kill()
    assert status == 0
    assert re.search(r" INFO bot\.app: started as @", uabot.output), uabot.output
    assert not any(line.startswith("{") for line in uabot.err), uabot.output


def test_the_json_lines_are_masked_like_the_text() -> None:
    """The redacting filter still runs before the JSON formatter: message and traceback."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        setup_logging(False, token_secrets(TOKEN), "json")
        log = logging.getLogger("bot.test")
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            log.exception("calling %s", TOKEN, extra=about(7, "UA 1/26"))
        setup_logging(False)  # back to plain text
        log.warning("plain again")
    finally:
        root.removeHandler(handler)
    first, second = stream.getvalue().splitlines()[-2:]
    record = json.loads(first)
    for secret in token_secrets(TOKEN):
        assert secret not in first
    assert record["message"].startswith("calling ")
    assert "RuntimeError" in record["traceback"]
    assert (record["broadcast"], record["case"]) == (7, "UA 1/26")
    assert second.endswith("WARNING bot.test: plain again")


async def test_the_fatal_one_liners_are_json_too(tmp_path: Path) -> None:
    """``--log-format json``: the line that ends a start is one JSON object as every other."""
    async with Emulator(token=TOKEN) as emulator:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            metrics = f'[metrics]\nlisten = "127.0.0.1:{port}"\n'
            cases = {
                "config error: unknown key telegram.colour": "colour = 1\n",
                f"metrics.listen 127.0.0.1:{port} cannot be served": metrics,
            }
            for fragment, extra in cases.items():
                config = write_config(tmp_path, emulator.base_url, extra=extra)
                uabot = await Uabot.start(config, args=("--log-format", "json"))
                try:
                    assert await uabot.finish(60) == 2, uabot.output
                finally:
                    await uabot.kill()
                last = records(uabot)[-1]  # every line parses as JSON
                assert last["level"] == "CRITICAL", last
                assert last["message"].startswith("uabot: "), last
                assert fragment in last["message"], last

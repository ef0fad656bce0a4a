"""Fixtures: a Bot API emulator on 127.0.0.1 and the real Application built against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, running
from bot.config import Config, parse_config
from bot.emulator import Emulator

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwx"  # the shape of a real token
ADMIN_ID = 9000
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emu:
        yield emu


def make_config(emulator: Emulator, db_path: Path, **sections: dict[str, Any]) -> Config:
    """A config pointing at the emulator; ``sections`` override or add TOML tables."""
    raw: dict[str, Any] = {
        "telegram": {
            "token": TOKEN,
            "base_url": emulator.base_url,
            "base_file_url": emulator.base_file_url,
            "admins": [ADMIN_ID],
        },
        "storage": {"path": str(db_path)},
        "i18n": {"default_language": "en", "languages": ["en", "de", "fr"]},
        "broadcast": {"messages_per_second": 200},
    }
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values}
    return parse_config(raw, environ={})


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    return make_config(emulator, tmp_path / "uabot.sqlite3")


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[Any]:
    """The real bot, long-polling the emulator until the test ends."""
    async with running(build_application(config), poll_timeout=1) as app:
        yield app


@pytest.fixture
def restart(config: Config) -> Callable[..., Any]:
    """Start another Application on the same database (a restart, or a second process)."""

    def _start(**changes: Any) -> Any:
        return running(build_application(replace(config, **changes)), poll_timeout=1)

    return _start

"""Fixtures: a Bot API emulator on 127.0.0.1 and the real Application built against it."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from journeys import TODAY
from transitions import record

from bot import logs
from bot.app import build_application, running
from bot.config import Config, parse_config
from bot.emulator import Emulator
from bot.ptb.context import BotData

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwx"  # the shape of a real token
ADMIN_ID = 9000
FIXTURES = Path(__file__).parent / "fixtures"
# How the bots of make_config get their updates: "polling" (the default) or "webhook", which
# runs the same journeys over PTB's webhook server, the emulator POSTing each update
# (`UABOT_TEST_TRANSPORT=webhook python -m pytest -m journey`, as .ci/run does).
TRANSPORT = os.environ.get("UABOT_TEST_TRANSPORT", "polling")
if TRANSPORT not in ("polling", "webhook"):
    raise RuntimeError(f"UABOT_TEST_TRANSPORT={TRANSPORT!r}: use 'polling' or 'webhook'")
SECRET = "test-webhook-secret_0123456789"


def free_port() -> int:
    """A port nothing listens on now (bound and released: taken again only by the bot)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_keys(port: int | None = None) -> dict[str, Any]:
    """``[telegram]`` keys for webhook mode on 127.0.0.1 (a free port unless given)."""
    port = port or free_port()
    return {
        "mode": "webhook",
        "webhook_url": f"http://127.0.0.1:{port}/telegram",
        "listen": f"127.0.0.1:{port}",
        "secret_token": SECRET,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs the real bot through the ``bot`` or ``restart`` fixture is a
    journey (``-m journey``); the check of the transitions the journeys took
    (tests/transitions.py) runs last."""
    for item in items:
        if {"bot", "restart"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.journey)
        if TRANSPORT == "webhook" and item.get_closest_marker("polling"):
            item.add_marker(pytest.mark.skip(reason="about long polling"))
    last = [item for item in items if item.get_closest_marker("after_journeys")]
    items[:] = [item for item in items if item not in last] + last


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_journeys: runs after every other test")
    config.addinivalue_line(
        "markers", "journey: drives the real bot through the bot/restart fixtures (automatic)"
    )
    config.addinivalue_line("markers", "polling: about getUpdates (skipped over webhooks)")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands run in-process set up logging for a whole process (levels, filters, warnings
    into logging); undo it after each test, or later tests would see neither warnings nor PTB's
    log records."""
    names = [*logs.CHATTY_LOGGERS, *logs.OWN_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    logging.captureWarnings(False)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, logs.RedactingFilter)]:
            handler.removeFilter(old)


@pytest.fixture(autouse=True)
def _restore_stop_signals() -> Iterator[None]:
    """``uabot run`` in-process ignores SIGINT/SIGTERM after its stop, for the rest of the
    process (bot.stops): right for the bot, which exits next, but an ignored signal is
    inherited across exec, so an emulator a later test starts could not be terminated (the
    run hung). Put back what the test started with."""
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in before.items():
        signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every application and `uabot check` read today from ``BotData.today``: a fixed day, so
    no test depends on the date it runs (tests set their own where the day matters)."""
    monkeypatch.setattr(BotData, "today", staticmethod(lambda: TODAY))


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
        # Faster than Telegram's free 30/s, so paid (allow_paid_broadcast, the emulator's 1000/s).
        "broadcast": {"messages_per_second": 200, "paid": True},
    }
    if TRANSPORT == "webhook":
        raw["telegram"].update(webhook_keys())
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values}
    return parse_config(raw, environ={})


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    return make_config(emulator, tmp_path / "uabot.sqlite3")


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[Any]:
    """The real bot, long-polling the emulator (or taking its webhook) until the test ends."""
    async with running(record(build_application(config)), poll_timeout=1) as app:
        yield app


@pytest.fixture
def restart(config: Config) -> Callable[..., Any]:
    """Start another Application on the same database (a restart, or a second process)."""

    def _start(**changes: Any) -> Any:
        return running(record(build_application(replace(config, **changes))), poll_timeout=1)

    return _start

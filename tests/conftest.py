"""Fixtures: a Bot API emulator on 127.0.0.1 and the real Application built against it."""

from __future__ import annotations

import contextlib
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
# The suite's second run (.ci/run): every database a test opens is a fresh schema in this
# PostgreSQL database instead of a SQLite file; unset (the README's command), SQLite only.
POSTGRES_URL = os.environ.get("UABOT_TEST_DATABASE_URL")


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
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite's files (skipped with UABOT_TEST_DATABASE_URL)"
    )
    config.addinivalue_line(
        "markers", "postgres_only: several instances on one database (needs the URL; CI sets it)"
    )


@pytest.fixture(autouse=True)
def _postgres(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With ``UABOT_TEST_DATABASE_URL``: each SQLite path a test opens is a fresh PostgreSQL
    schema (the same path, the same schema: a restart finds its data); tests marked
    ``sqlite_only`` (backup files, SQLite's upgrade samples) skip."""
    if POSTGRES_URL is None:
        if request.node.get_closest_marker("postgres_only"):
            pytest.skip("PostgreSQL only: set UABOT_TEST_DATABASE_URL (CI does)")
        yield
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("SQLite only (UABOT_TEST_DATABASE_URL runs the suite on PostgreSQL)")
    import psycopg

    from bot.storage.db import Database, is_postgres_url

    _TEST_SCHEMAS.clear()
    opened = Database.open.__func__  # type: ignore[attr-defined]

    async def open_on_postgres(cls: type, path: Path | str, *, migrate: bool = True) -> Any:
        if not is_postgres_url(path):
            path = postgres_url_for(Path(path))
        return await opened(cls, path, migrate=migrate)

    monkeypatch.setattr(Database, "open", classmethod(open_on_postgres))
    yield
    if _TEST_SCHEMAS:  # a pool a test left open must not hang the run: the schema then stays
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '5s'")
            for url in _TEST_SCHEMAS.values():
                with contextlib.suppress(psycopg.errors.LockNotAvailable):
                    conn.execute(f"DROP SCHEMA {url.rpartition('%3D')[2]} CASCADE")
        _TEST_SCHEMAS.clear()


_SCHEMAS: list[str] = []  # every schema made in this process: their names stay unique
_TEST_SCHEMAS: dict[str, str] = {}  # the running test's: SQLite path -> PostgreSQL URL


def postgres_url_for(path: Path) -> str:
    """The PostgreSQL schema standing in for the SQLite file ``path`` in this test (made at
    the first use); also for a ``uabot`` process the test starts (fault_servers.write_config)."""
    import psycopg

    assert POSTGRES_URL is not None
    key = str(path.absolute())
    if key not in _TEST_SCHEMAS:
        name = f"t{os.getpid()}_{len(_SCHEMAS)}"
        _SCHEMAS.append(name)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        separator = "&" if "?" in POSTGRES_URL else "?"
        _TEST_SCHEMAS[key] = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{name}"
        # What checks the file before opening it (uabot stats, audit) finds one.
        with contextlib.suppress(OSError):
            if not path.exists():
                path.touch()
    return _TEST_SCHEMAS[key]


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


def storage_toml(path: Path) -> str:
    """A config's ``[storage]`` for the SQLite file ``path``: on the suite's PostgreSQL run,
    the schema standing in for it, so that a ``uabot`` process sees what the test stored."""
    key = f'url = "{postgres_url_for(path)}"' if POSTGRES_URL else f'path = "{path}"'
    return f"[storage]\n{key}\n"

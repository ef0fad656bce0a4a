"""The sandbox's config and database: a seeded throwaway one, or a copy of a real one.

A real database is copied, never used in place (a PostgreSQL one into a SQLite file): against
the emulator, every real subscriber's chat is unknown, so a resumed broadcast would mark them all
unreachable.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.actions.importer import ImportKind, import_revision
from bot.actions.model import ActionRevision
from bot.actions.parse import parse_action
from bot.config import Config, Secret, StorageConfig, parse_config
from bot.ptb.context import BotData
from bot.services.publishing import publish_and_broadcast
from bot.storage import Storage
from bot.storage.db import require_psycopg

log = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_ACTION = EXAMPLES_DIR / "ua-012-26-1.toml"
SEED_ADMIN_ID = 9000


@dataclass(frozen=True)
class Example:
    """A documented action file the sandbox publishes, and how old it is on the day the
    sandbox starts: recent, with its weeks to write still ahead."""

    path: Path
    age: timedelta


# Two cases in two countries, so that /actions is a list and `@bot kaz` visibly filters.
EXAMPLES = (
    Example(EXAMPLE_ACTION, timedelta(days=10)),
    Example(EXAMPLES_DIR / "ua-014-26-1.toml", timedelta(days=3)),
)


def seeded_config(workdir: Path, base_url: str, base_file_url: str, token: str) -> Config:
    """A fresh config: one admin, English/German/French, a database in ``workdir``."""
    return parse_config(
        {
            "telegram": {
                "token": token,
                "base_url": base_url,
                "base_file_url": base_file_url,
                "admins": [SEED_ADMIN_ID],
            },
            "storage": {"path": str(workdir / "sandbox.sqlite3")},
            "i18n": {"default_language": "en", "languages": ["en", "de", "fr"]},
            "broadcast": {"messages_per_second": 30},
        },
        environ={},
    )


async def copied_config(
    config: Config, workdir: Path, base_url: str, base_file_url: str, token: str
) -> Config:
    """``config`` pointed at the emulator and at a SQLite copy of its database (PostgreSQL's
    too: ``storage.url`` is dropped, never used); no feed."""
    target = workdir / "sandbox.sqlite3"
    if config.storage.url is not None:
        require_psycopg(config.storage.url)
        from bot.storage.transfer import copy_postgres_to_sqlite

        await copy_postgres_to_sqlite(config.storage.url, target)
        log.info("sandbox: working on a copy of %s", config.storage.shown)
    elif (source := Path(config.storage.path)).exists():
        # The backup API gives a consistent copy even while the real bot writes to it.
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        log.info("sandbox: working on a copy of %s", source)
    telegram = dataclasses.replace(
        config.telegram, token=Secret(token), base_url=base_url, base_file_url=base_file_url
    )
    config = dataclasses.replace(config, telegram=telegram, storage=StorageConfig(path=target))
    if hasattr(config, "feed"):  # a sandbox must not fetch or publish the real feed
        config = dataclasses.replace(config, feed=type(config.feed)())
    return config


def _read(action_file: Path) -> bytes | None:
    """The example's bytes; None when the repository's docs are not installed alongside."""
    if not action_file.exists():
        log.warning("sandbox: %s not found, starting without a case", action_file)
        return None
    return action_file.read_bytes()


def as_of(revision: ActionRevision, issued: date) -> ActionRevision:
    """The example moved in time to ``issued``, with its original time to act, so a newcomer
    never meets a case whose deadline passed months ago."""
    deadline = None
    if revision.deadline is not None:
        deadline = issued + (revision.deadline - revision.issued)
    return dataclasses.replace(revision, issued=issued, deadline=deadline)


async def seed(
    config: Config, examples: tuple[Example, ...] = EXAMPLES, *, today: date | None = None
) -> list[str]:
    """Import and publish the examples, dated around ``today`` (default: the day the sandbox
    starts, by the bot's one clock), so /actions has current cases; returns their labels."""
    today = today or BotData.today()
    labels = []
    storage = await Storage.open(config.storage.path)
    try:
        for example in examples:
            data = _read(example.path)
            if data is None:
                continue
            revision = parse_action(
                data,
                source=str(example.path),
                languages=config.i18n.languages,
                default_language=config.i18n.default_language,
            )
            revision = as_of(revision, today - example.age)
            result = await import_revision(storage, revision, by=None)
            if result.kind is not ImportKind.UNCHANGED or not result.published:
                # No engine: the sandbox's bot sends the broadcast when it starts.
                await publish_and_broadcast(
                    storage, revision.case, revision.revision, requested_by=None, engine=None
                )
            labels.append(revision.label)
    finally:
        await storage.close()
    return labels

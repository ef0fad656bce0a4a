"""The running bot's own backups: every ``[backup] every_hours``, the newest ``keep`` kept.

A JobQueue job takes them with the same online backup as ``uabot backup`` (on its own
connection, in a thread: the bot goes on answering). The time of the last one is kept in the
database, so a restart neither postpones the next backup forever nor takes one at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Config
from bot.ptb.context import BotData, Context
from bot.storage.backup import take
from bot.storage.db import DatabasePathError

log = logging.getLogger(__name__)

LAST_BACKUP = "backup.last"
# <database name>-YYYYMMDD-HHMMSS.sqlite3: sorted by name is sorted by time.
_STAMP = "%Y%m%d-%H%M%S"


def folder(config: Config) -> Path:
    """Where the bot's backups go: ``[backup] folder``, else "backups" beside the database."""
    return config.backup.folder or config.storage.path.parent / "backups"


def _pattern(config: Config) -> re.Pattern[str]:
    stem = re.escape(config.storage.path.stem)
    return re.compile(rf"^{stem}-\d{{8}}-\d{{6}}\.sqlite3$")


def backup_now(config: Config, now: datetime | None = None) -> Path:
    """Take one backup into ``folder`` and delete the oldest beyond ``keep``; its path."""
    target_folder = folder(config)
    target_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    target = target_folder / f"{config.storage.path.stem}-{stamp}.sqlite3"
    snapshot = take(config.storage.path, target)
    pattern = _pattern(config)
    ours = sorted(p for p in target_folder.iterdir() if pattern.match(p.name))
    for old in ours[: -config.backup.keep]:
        old.unlink(missing_ok=True)
    log.info(
        "backup %s taken (%d bytes); %d kept in %s",
        target.name,
        snapshot.size,
        min(len(ours), config.backup.keep),
        target_folder,
    )
    return target


async def run_backup(context: Context) -> None:
    """The job (``scheduling.schedule`` creates it): a failure is one line, tried again."""
    data: BotData = context.bot_data
    try:
        await asyncio.to_thread(backup_now, data.config)
    except (OSError, DatabasePathError) as exc:  # a full disk: said, retried
        log.warning("backup failed, tried again at the next interval: %s", exc)
        return
    await data.storage.job_state.set(LAST_BACKUP, str(time.time()))

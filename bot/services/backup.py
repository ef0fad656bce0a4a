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
from bot.i18n import format_number, ngettext
from bot.ptb.context import BotData, Context
from bot.ptb.text import escape, truncate
from bot.services.notify import notify_admins
from bot.storage.backup import take
from bot.storage.db import DatabasePathError

log = logging.getLogger(__name__)

LAST_BACKUP = "backup.last"
# Backups failed in a row since the last one taken; the admins are told at FAILURES_TOLD.
FAILURES = "backup.failures"
FAILURES_TOLD = 3
# How much of the error the admins' message quotes.
REASON_CHARS = 300
# <database name>-YYYYMMDD-HHMMSS.sqlite3, the UTC time it was taken.
_STAMP = "%Y%m%d-%H%M%S"
# A temporary copy untouched this long is a killed backup's leftover, not one being written.
STALE_TEMP_SECONDS = 3600


def folder(config: Config) -> Path:
    """Where the bot's backups go: ``[backup] folder``, else "backups" beside the database."""
    return config.backup.folder or config.storage.path.parent / "backups"


def _pattern(config: Config) -> re.Pattern[str]:
    stem = re.escape(config.storage.path.stem)
    return re.compile(rf"^{stem}-(\d{{8}}-\d{{6}})\.sqlite3$")


def _temp_pattern(config: Config) -> re.Pattern[str]:
    """The temporary files of a backup (``storage.backup``'s mkstemp name, its -journal)."""
    stem = re.escape(config.storage.path.stem)
    return re.compile(rf"^\.{stem}-\d{{8}}-\d{{6}}\.sqlite3\.[^/]+\.tmp(-journal)?$")


def _sweep_stale(config: Config, target_folder: Path, now: float) -> None:
    """Remove what a killed backup left (a whole database's size each time)."""
    temp = _temp_pattern(config)
    for path in target_folder.iterdir():
        if temp.match(path.name) and now - path.stat().st_mtime > STALE_TEMP_SECONDS:
            path.unlink(missing_ok=True)
            log.info("removed %s, left by an interrupted backup", path.name)


def _rotate(config: Config, target_folder: Path, target: Path, now: datetime) -> int:
    """Delete the oldest backups beyond ``keep``, never ``target``; how many are kept.

    Oldest by file time, not by name: a name stamped in the future (a clock set wrong once)
    would sort after every new backup and have them deleted in its place.
    """
    pattern = _pattern(config)
    others = []
    for path in target_folder.iterdir():
        match = pattern.match(path.name)
        if not match or path == target:
            continue
        stamped = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
        if stamped > now:
            log.warning(
                "backup %s is named after a future time (was the clock wrong?): "
                "rotated by its file time",
                path.name,
            )
        others.append(path)
    others.sort(key=lambda path: path.stat().st_mtime)
    doomed = others[: max(len(others) - (config.backup.keep - 1), 0)]
    for old in doomed:
        old.unlink(missing_ok=True)
    return len(others) - len(doomed) + 1


def backup_now(config: Config, now: datetime | None = None) -> Path:
    """Take one backup into ``folder`` and delete the oldest beyond ``keep``; its path."""
    target_folder = folder(config)
    target_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    moment = now or datetime.now(UTC)
    _sweep_stale(config, target_folder, time.time())
    target = target_folder / f"{config.storage.path.stem}-{moment.strftime(_STAMP)}.sqlite3"
    snapshot = take(config.storage.path, target, force=True)
    kept = _rotate(config, target_folder, target, moment)
    log.info(
        "backup %s taken (%d bytes); %d kept in %s",
        target.name,
        snapshot.size,
        kept,
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
        await backup_failed(context, exc)
        return
    taken_at = time.time()
    await data.storage.job_state.set(LAST_BACKUP, str(taken_at))
    await data.storage.job_state.set(FAILURES, "0")
    data.metrics.last_backup.set(taken_at)


async def backup_failed(context: Context, error: Exception) -> None:
    """Count a failed backup (``/metrics``, and in a row in the database, across restarts);
    at the ``FAILURES_TOLD``-th in a row the admins are told once: a log line alone is read
    too late, when the backup is needed."""
    data: BotData = context.bot_data
    data.metrics.backup_failures.inc()
    in_a_row = int(await data.storage.job_state.get(FAILURES) or 0) + 1
    await data.storage.job_state.set(FAILURES, str(in_a_row))
    if in_a_row != FAILURES_TOLD:
        return
    reason = truncate(str(error), REASON_CHARS)

    def build() -> tuple[str, None]:
        text = ngettext(
            "The automatic backup has failed {count} time in a row: {reason}\n"
            "Check the [backup] folder on the server (uabot doctor).",
            "The automatic backup has failed {count} times in a row: {reason}\n"
            "Check the [backup] folder on the server (uabot doctor).",
            in_a_row,
        ).format(count=format_number(in_a_row), reason=reason)
        return escape(text), None

    await notify_admins(context.bot, data.storage, data.config, build)

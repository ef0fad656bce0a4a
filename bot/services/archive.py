"""The archive: cases that ended (closed, or expired past ``actions.expired_days``), and how
often letters helped.

Read-only views for /archive and /start; what "ended" means is ``bot.actions.deadlines``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.actions import deadlines
from bot.actions.model import OUTCOME_GOOD, ActionRevision
from bot.storage import Storage


@dataclass(frozen=True)
class ArchiveEntry:
    revision: ActionRevision
    letters: int  # the final tally: letters confirmed for the case, every revision


async def entries(storage: Storage, today: date, expired_days: int) -> list[ArchiveEntry]:
    """Every archived case, the one that ended last first (by closing day, else deadline)."""
    revisions = [
        ActionRevision.from_json(stored.content)
        for stored in await storage.revisions.published_cases()
    ]
    ended = [item for item in revisions if deadlines.archived(item, today, expired_days)]
    # Stable sort: cases that ended on the same day keep the newest-activity order.
    ended.sort(key=deadlines.ended_on, reverse=True)
    counts = await storage.tally.counts([item.case for item in ended])
    return [ArchiveEntry(item, counts[item.case]) for item in ended]


async def letters_helped(storage: Storage) -> int:
    """Closed cases whose outcome was good: the N of "Letters helped in N cases".

    Good only, not mixed: a mixed outcome (released, yet still charged) is no success the
    organisation would claim for the letters, and a supporter reads the line as one. Closures
    without an outcome kind (made before it existed) are not counted either, nor are cases
    without a confirmed letter: nothing then says the letters helped.
    """
    return await storage.revisions.count_closed(OUTCOME_GOOD)

"""Counts for admins: subscribers and letters. Never user ids or names."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.storage.db import Database


@dataclass(frozen=True)
class SubscriberCounts:
    active: int
    paused: int
    unreachable: int
    by_language: dict[str, int]  # active subscribers per language
    seen_30_days: int = 0  # users who used the bot in the last 30 days (users.last_seen)
    never_subscribed: int = 0  # stored, never subscribed (e.g. came through a group's session)


@dataclass(frozen=True)
class LetterCount:
    case_number: str
    revision: int
    language: str
    letters: int


class Stats:
    """Aggregate queries; each returns counts only."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribers(self, staff: Collection[int] = ()) -> SubscriberCounts:
        """Counts of supporters. ``staff`` (the admins) count only while subscribed: an admin's
        row is stored for their language when they first write, not because they joined."""
        # From the counters the triggers keep (migration 014) and the last_seen index, not
        # by reading every user: a million subscribers are counted in milliseconds.
        staff_ids = sorted(staff)
        marks = ", ".join("?" * len(staff_ids))
        counts = await self._db.fetch_all(
            "SELECT language, subscribed, blocked, n FROM user_counts WHERE n > 0"
        )
        # Admins who are not subscribed are not supporters: taken out again.
        staff_rows = await self._db.fetch_all(
            "SELECT language, subscribed, blocked_at IS NOT NULL,"
            " last_seen >= date('now', '-30 days')"
            f" FROM users WHERE subscribed != 1 AND id IN ({marks})",
            tuple(staff_ids),
        )
        seen = int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM users WHERE last_seen >= date('now', '-30 days')"
            )
        )
        active = paused = never = unreachable = 0
        by_language: dict[str, int] = {}
        for language, subscribed, blocked, n in [
            *(tuple(row) for row in counts),
            *(
                (language, subscribed, blocked, -1)
                for language, subscribed, blocked, _ in staff_rows
            ),
        ]:
            if blocked:
                unreachable += n
            elif subscribed == 1:
                active += n
                by_language[language] = by_language.get(language, 0) + n
            elif subscribed == 0:
                paused += n
            else:
                never += n
        seen -= sum(1 for *_, recent in staff_rows if recent)
        ordered = sorted(
            ((lang, n) for lang, n in by_language.items() if n), key=lambda r: (-r[1], r[0])
        )
        return SubscriberCounts(active, paused, unreachable, dict(ordered), seen, never)

    async def letters(self) -> list[LetterCount]:
        """Confirmed letters per case, revision and letter language."""
        rows = await self._db.fetch_all(
            "SELECT case_number, revision, letter_language, COUNT(*) FROM confirmations"
            " GROUP BY case_number, revision, letter_language"
            " ORDER BY case_number, revision, letter_language"
        )
        return [LetterCount(*tuple(row)) for row in rows]

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
        staff_ids = sorted(staff)
        row = await self._db.fetch_one(
            "SELECT"
            " COALESCE(SUM(subscribed = 1 AND blocked_at IS NULL), 0),"
            " COALESCE(SUM(subscribed = 0 AND blocked_at IS NULL), 0),"
            " COALESCE(SUM(blocked_at IS NOT NULL), 0),"
            " COALESCE(SUM(last_seen >= date('now', '-30 days')), 0)"
            " FROM users"
            f" WHERE subscribed = 1 OR id NOT IN ({', '.join('?' * len(staff_ids))})",
            tuple(staff_ids),
        )
        rows = await self._db.fetch_all(
            "SELECT language, COUNT(*) FROM users WHERE subscribed = 1 AND blocked_at IS NULL"
            " GROUP BY language ORDER BY COUNT(*) DESC, language"
        )
        assert row is not None
        return SubscriberCounts(row[0], row[1], row[2], {r[0]: r[1] for r in rows}, row[3])

    async def letters(self) -> list[LetterCount]:
        """Confirmed letters per case, revision and letter language."""
        rows = await self._db.fetch_all(
            "SELECT case_number, revision, letter_language, COUNT(*) FROM confirmations"
            " GROUP BY case_number, revision, letter_language"
            " ORDER BY case_number, revision, letter_language"
        )
        return [LetterCount(*tuple(row)) for row in rows]

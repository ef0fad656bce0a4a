"""Supporters: the minimum the bot needs to reach someone in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage.db import Database, Row

# users.subscribed: 1 subscribed, 0 paused (/unsubscribe), 2 never subscribed (stored for a
# language or a group session's letter; alerts were offered, never taken).
SUBSCRIBED = 1
PAUSED = 0
NEVER_SUBSCRIBED = 2


@dataclass(frozen=True)
class User:
    id: int
    language: str
    subscribed: bool
    blocked: bool
    created_at: str
    last_seen: str


def _user(row: Row) -> User:
    return User(
        id=row["id"],
        language=row["language"],
        subscribed=row["subscribed"] == SUBSCRIBED,
        blocked=row["blocked_at"] is not None,
        created_at=row["created_at"],
        last_seen=row["last_seen"],
    )


class Users:
    """Narrow async access to the ``users`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> User | None:
        row = await self._db.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)

    async def seen(self, user: User) -> None:
        """A user who talks to the bot is reachable again, whatever we thought before.

        Written at most once a day per user (last_seen is a day), so most updates cost no write.
        """
        if not user.blocked and user.last_seen == datetime.now(UTC).date().isoformat():
            return
        await self._db.execute(
            "UPDATE users SET last_seen = date('now'), blocked_at = NULL WHERE id = ?",
            (user.id,),
        )

    async def subscribe(self, user_id: int, language: str) -> bool:
        """Store (or re-activate) a subscriber; returns True when they were not subscribed."""
        existing = await self.get(user_id)
        await self._db.execute(
            "INSERT INTO users (id, language) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET subscribed = 1, blocked_at = NULL",
            (user_id, language),
        )
        return existing is None or not existing.subscribed

    async def set_subscribed(self, user_id: int, subscribed: bool) -> bool:
        """Pause or resume alerts; returns False when the user is not stored at all."""
        changed = await self._db.execute(
            "UPDATE users SET subscribed = ? WHERE id = ?", (int(subscribed), user_id)
        )
        return changed > 0

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember a language choice (a new user is stored, but not subscribed: never was,
        as someone who came through a group's session link, which /stats tells apart)."""
        await self._db.execute(
            f"INSERT INTO users (id, language, subscribed) VALUES (?, ?, {NEVER_SUBSCRIBED})"
            " ON CONFLICT (id) DO UPDATE SET language = excluded.language",
            (user_id, language),
        )

    async def mark_unreachable(self, user_id: int) -> None:
        await self._db.execute(
            "UPDATE users SET blocked_at = datetime('now') WHERE id = ? AND blocked_at IS NULL",
            (user_id,),
        )

    async def delete(self, user_id: int) -> bool:
        """Erase a user; other tables cascade or lose their link (see the migrations)."""
        return await self._db.execute("DELETE FROM users WHERE id = ?", (user_id,)) > 0

    async def count_reachable_subscribers(self) -> int:
        value = await self._db.fetch_value(
            "SELECT COUNT(*) FROM users WHERE subscribed = 1 AND blocked_at IS NULL"
        )
        return int(value)

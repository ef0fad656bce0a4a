"""What scheduled work remembers: interest for reminders, the feed's items, job state."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.db import Database


@dataclass(frozen=True)
class DueReminder:
    user_id: int
    language: str


class Reminders:
    """Narrow async access to ``interest`` and the users' reminder setting."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def interested(self, user_id: int, case_number: str) -> None:
        """Remember that a user opened a case: its follow-ups and closure reach them whatever
        they follow, and a deadline reminder too if they keep reminders on. Also while their
        alerts are paused: those come once they /subscribe again (the broadcast and ``due``
        leave out whom alerts cannot reach)."""
        await self._db.execute(
            "INSERT INTO interest (user_id, case_number)"
            " SELECT id, ? FROM users WHERE id = ? ON CONFLICT DO NOTHING",
            (case_number, user_id),
        )

    async def forget_case(self, case_number: str) -> None:
        await self._db.execute("DELETE FROM interest WHERE case_number = ?", (case_number,))

    async def set_enabled(self, user_id: int, enabled: bool) -> bool:
        """Switch reminders (which cases the user opened stays: their follow-ups still come)."""
        changed = await self._db.execute(
            "UPDATE users SET reminders = ? WHERE id = ?", (int(enabled), user_id)
        )
        return changed > 0

    async def enabled(self, user_id: int) -> bool:
        value = await self._db.fetch_value("SELECT reminders FROM users WHERE id = ?", (user_id,))
        return bool(value) if value is not None else True

    async def due(self, case_number: str, revision: int) -> list[DueReminder]:
        """Interested, reachable subscribers (not paused) with reminders on, not yet reminded
        for this revision and without a confirmed letter for the case (any revision)."""
        rows = await self._db.fetch_all(
            "SELECT i.user_id, u.language FROM interest i JOIN users u ON u.id = i.user_id"
            " WHERE i.case_number = ? AND (i.reminded_revision IS NULL"
            "   OR i.reminded_revision < ?)"
            " AND u.reminders = 1 AND u.subscribed = 1 AND u.blocked_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.case_number = i.case_number"
            "   AND c.user_id = i.user_id)"
            " ORDER BY i.user_id",
            (case_number, revision),
        )
        return [DueReminder(row[0], row[1]) for row in rows]

    async def claim(
        self, user_id: int, case_number: str, revision: int, now: float, lease: float
    ) -> bool:
        """Take the reminder for ``lease`` seconds; False when it was sent or another run
        holds it. A lease left by a crash runs out, so the reminder is not lost."""
        changed = await self._db.execute(
            "UPDATE interest SET claimed_until = ? WHERE user_id = ? AND case_number = ?"
            " AND (reminded_revision IS NULL OR reminded_revision < ?)"
            " AND (claimed_until IS NULL OR claimed_until <= ?)",
            (now + lease, user_id, case_number, revision, now),
        )
        return changed > 0

    async def mark_reminded(self, user_id: int, case_number: str, revision: int) -> None:
        """Telegram accepted the reminder: never again for this revision."""
        await self._db.execute(
            "UPDATE interest SET reminded_revision = CASE WHEN reminded_revision > ?"
            " THEN reminded_revision ELSE ? END,"
            " claimed_until = NULL WHERE user_id = ? AND case_number = ?",
            (revision, revision, user_id, case_number),
        )

    async def release(self, user_id: int, case_number: str) -> None:
        """The send failed: the next run may try again."""
        await self._db.execute(
            "UPDATE interest SET claimed_until = NULL WHERE user_id = ? AND case_number = ?",
            (user_id, case_number),
        )


class FeedItems:
    """Narrow async access to ``feed_items``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def handled(self, source_key: str, fingerprint: str) -> bool:
        value = await self._db.fetch_value(
            "SELECT 1 FROM feed_items WHERE source_key = ? AND fingerprint = ?",
            (source_key, fingerprint),
        )
        return value is not None

    async def mark_handled(self, source_key: str, fingerprint: str) -> None:
        await self._db.execute(
            "INSERT INTO feed_items (source_key, fingerprint) VALUES (?, ?)"
            " ON CONFLICT (source_key) DO UPDATE SET fingerprint = excluded.fingerprint,"
            " handled_at = datetime('now')",
            (source_key, fingerprint),
        )


class JobState:
    """Small named values that jobs keep across restarts."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        value = await self._db.fetch_value("SELECT value FROM job_state WHERE name = ?", (name,))
        return None if value is None else str(value)

    async def get_for_update(self, name: str) -> str | None:
        """``get`` inside a transaction, the row kept from other instances' writes until it
        ends (PostgreSQL's FOR UPDATE; SQLite's transaction is one writer already)."""
        lock = " FOR UPDATE" if self._db.shared else ""
        value = await self._db.fetch_value(
            "SELECT value FROM job_state WHERE name = ?" + lock, (name,)
        )
        return None if value is None else str(value)

    async def set(self, name: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO job_state (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

"""The per-case count of letters that supporters confirmed they sent."""

from __future__ import annotations

from datetime import date

from bot.storage.db import Database


class Tally:
    """Narrow async access to ``confirmations``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self, case_number: str) -> int:
        """Letters confirmed for a case, all revisions together."""
        value = await self._db.fetch_value(
            "SELECT COUNT(*) FROM confirmations WHERE case_number = ?", (case_number,)
        )
        return int(value)

    async def counts(self, case_numbers: list[str]) -> dict[str, int]:
        if not case_numbers:
            return {}
        marks = ",".join("?" * len(case_numbers))
        rows = await self._db.fetch_all(
            f"SELECT case_number, COUNT(*) FROM confirmations WHERE case_number IN ({marks})"
            " GROUP BY case_number",
            case_numbers,
        )
        return dict.fromkeys(case_numbers, 0) | {row[0]: row[1] for row in rows}

    async def people(self, case_number: str) -> int:
        """People who confirmed a letter for a case: one per person, whatever the revisions.

        Counted by each person's first confirmation of the case (``first_for_case``), so the
        number stays right after /forget unlinked a person's rows.
        """
        value = await self._db.fetch_value(
            "SELECT COALESCE(SUM(first_for_case), 0) FROM confirmations WHERE case_number = ?",
            (case_number,),
        )
        return int(value)

    async def confirm(
        self, case_number: str, revision: int, user_id: int, letter_language: str, on: date
    ) -> bool:
        """Record one "I sent it" on the day ``on`` (the bot's clock, not SQLite's UTC day);
        False when this user already confirmed this revision.

        One statement decides the person's first confirmation of the case: atomic on SQLite
        (one writer). On PostgreSQL two at once (two revisions, two connections) may both
        decide "first"; a unique index lets one of them through and the other writes nothing,
        and is written again as not the first (its statement then sees the other's row).
        """
        for _ in range(2):
            changed = await self._db.execute(
                "INSERT INTO confirmations"
                " (case_number, revision, user_id, letter_language, confirmed_on, first_for_case)"
                " SELECT ?, ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM confirmations"
                "  WHERE case_number = ? AND user_id = ?) THEN 0 ELSE 1 END"
                " ON CONFLICT DO NOTHING",
                (
                    case_number,
                    revision,
                    user_id,
                    letter_language,
                    on.isoformat(),
                    case_number,
                    user_id,
                ),
            )
            if changed == 1:
                return True
            if await self._db.fetch_value(
                "SELECT 1 FROM confirmations WHERE case_number = ? AND revision = ?"
                " AND user_id = ?",
                (case_number, revision, user_id),
            ):
                return False
        return False

    async def cases_of(self, user_id: int) -> list[str]:
        """The cases a user confirmed a letter for, most recent first."""
        rows = await self._db.fetch_all(
            "SELECT case_number FROM confirmations WHERE user_id = ?"
            " GROUP BY case_number ORDER BY MAX(rowid) DESC",
            (user_id,),
        )
        return [row[0] for row in rows]

"""The per-case count of letters that supporters confirmed they sent."""

from __future__ import annotations

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

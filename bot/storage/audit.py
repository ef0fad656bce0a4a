"""The admins' audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.db import Database


@dataclass(frozen=True)
class AuditEntry:
    at: str  # UTC, "YYYY-MM-DD HH:MM:SS"
    admin_id: int | None
    action: str
    subject: str


class Audit:
    """Narrow async access to ``audit``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, admin_id: int | None, action: str, subject: str = "") -> None:
        await self._db.execute(
            "INSERT INTO audit (admin_id, action, subject) VALUES (?, ?, ?)",
            (admin_id, action, subject),
        )

    async def latest(self, limit: int = 20) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT at, admin_id, action, subject FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(*tuple(row)) for row in rows]

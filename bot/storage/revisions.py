"""Imported revisions of cases, drafts and published ones, kept as canonical JSON."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.db import Database, Row


@dataclass(frozen=True)
class StoredRevision:
    case_number: str
    revision: int
    content: str
    fingerprint: str
    published: bool


def _stored(row: Row) -> StoredRevision:
    return StoredRevision(
        case_number=row["case_number"],
        revision=row["revision"],
        content=row["content"],
        fingerprint=row["fingerprint"],
        published=row["published_at"] is not None,
    )


class Revisions:
    """Narrow async access to ``revisions``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest(
        self, case_number: str, *, published_only: bool = False
    ) -> StoredRevision | None:
        """The highest revision of a case (drafts included unless ``published_only``)."""
        row = await self._db.fetch_one(
            "SELECT * FROM revisions WHERE case_number = ?"
            + (" AND published_at IS NOT NULL" if published_only else "")
            + " ORDER BY revision DESC LIMIT 1",
            (case_number,),
        )
        return None if row is None else _stored(row)

    async def get(self, case_number: str, revision: int) -> StoredRevision | None:
        row = await self._db.fetch_one(
            "SELECT * FROM revisions WHERE case_number = ? AND revision = ?",
            (case_number, revision),
        )
        return None if row is None else _stored(row)

    async def add_draft(
        self,
        case_number: str,
        revision: int,
        content: str,
        fingerprint: str,
        status: str,
        issued: str,
    ) -> None:
        await self._db.execute(
            "INSERT INTO revisions (case_number, revision, content, fingerprint, status, issued)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (case_number, revision, content, fingerprint, status, issued),
        )

    async def discard_draft(self, case_number: str, revision: int) -> bool:
        changed = await self._db.execute(
            "DELETE FROM revisions WHERE case_number = ? AND revision = ?"
            " AND published_at IS NULL",
            (case_number, revision),
        )
        return changed > 0

    async def mark_published(self, case_number: str, revision: int) -> bool:
        """Publish a draft; False when it was already published (a double tap) or is gone."""
        changed = await self._db.execute(
            "UPDATE revisions SET published_at = datetime('now')"
            " WHERE case_number = ? AND revision = ? AND published_at IS NULL",
            (case_number, revision),
        )
        return changed > 0

    async def published_cases(self, *, status: str | None = None) -> list[StoredRevision]:
        """The latest published revision of every case, newest case activity first."""
        rows = await self._db.fetch_all(
            "SELECT r.* FROM revisions r"
            " JOIN (SELECT case_number, MAX(revision) AS revision FROM revisions"
            "       WHERE published_at IS NOT NULL GROUP BY case_number) latest"
            " USING (case_number, revision)"
            + (" WHERE r.status = ?" if status else "")
            + " ORDER BY r.issued DESC, r.published_at DESC, r.case_number DESC",
            (status,) if status else (),
        )
        return [_stored(row) for row in rows]

    async def count_closed(self, outcome: str) -> int:
        """Cases whose latest published revision closed them with this outcome kind (kept in
        the revision's JSON as ``outcome``) and for which at least one letter was confirmed:
        a case nobody wrote for is no case the letters helped in."""
        value = await self._db.fetch_value(
            "SELECT COUNT(*) FROM revisions r"
            " JOIN (SELECT case_number, MAX(revision) AS revision FROM revisions"
            "       WHERE published_at IS NOT NULL GROUP BY case_number) latest"
            " USING (case_number, revision)"
            " WHERE r.status = 'closed' AND json_extract(r.content, '$.outcome') = ?"
            " AND EXISTS (SELECT 1 FROM confirmations c WHERE c.case_number = r.case_number)",
            (outcome,),
        )
        return int(value)

    async def published_history(self, case_number: str, before: int) -> list[StoredRevision]:
        """The published revisions of a case below ``before``, newest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM revisions WHERE case_number = ? AND revision < ?"
            " AND published_at IS NOT NULL ORDER BY revision DESC",
            (case_number, before),
        )
        return [_stored(row) for row in rows]

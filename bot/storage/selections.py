"""What each subscriber follows (/topics), and who among them a broadcast reaches.

A subscriber without rows follows everything. The recipients of a case are chosen inside
SQLite (``matching``), for ``Broadcasts.create`` (INSERT ... SELECT into the outbox) and for
the reach in the upload preview alike, so the two never disagree.

Measured (bench/recipients.py: 100,000 subscribers, half following everything, the others
one to four topics, countries or regions, 125,000 selections; a shared 2-core machine): a
topic-filtered new case queued in 0.09-0.15 s (63,000 recipients), its follow-up with openers
and writers 0.11-0.13 s, its reach (a COUNT) 0.05 s; an announcement (everyone) 0.06 s. A
region is matched as its code against the regions of the case's country, so a follower of
Europe costs one row, not 53.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage.db import Database

TOPIC = "topic"
COUNTRY = "country"
REGION = "region"
KINDS = (TOPIC, COUNTRY, REGION)

# Who can be sent anything at all (users aliased ``u``).
REACHABLE = "u.subscribed = 1 AND u.blocked_at IS NULL"


@dataclass(frozen=True)
class Audience:
    """Who a case reaches: those following everything, one of ``topics``, its country in
    ``countries`` or one of ``regions`` (the regions containing the country); with
    ``case_number``, also everyone who opened that case or confirmed a letter for it."""

    topics: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    case_number: str | None = None


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def matching(audience: Audience) -> tuple[str, tuple[object, ...]]:
    """The WHERE condition (users aliased ``u``) selecting a case's recipients, and its
    parameters. Each test is an index probe per subscriber (the selections' primary key,
    ``interest``'s, ``confirmations_person``), so the cost grows with the subscribers, not
    with what they follow."""
    wanted: list[str] = []
    params: list[object] = []
    for kind, codes in (
        (TOPIC, audience.topics),
        (COUNTRY, audience.countries),
        (REGION, audience.regions),
    ):
        if codes:
            wanted.append(f"(s.kind = ? AND s.code IN ({_marks(len(codes))}))")
            params += [kind, *codes]
    tests = ["NOT EXISTS (SELECT 1 FROM selections s WHERE s.user_id = u.id)"]
    if wanted:
        tests.append(
            "EXISTS (SELECT 1 FROM selections s WHERE s.user_id = u.id"
            f" AND ({' OR '.join(wanted)}))"
        )
    if audience.case_number is not None:
        tests.append(
            "EXISTS (SELECT 1 FROM interest i WHERE i.user_id = u.id AND i.case_number = ?)"
        )
        tests.append(
            "EXISTS (SELECT 1 FROM confirmations c WHERE c.user_id = u.id AND c.case_number = ?)"
        )
        params += [audience.case_number, audience.case_number]
    return f"{REACHABLE} AND ({' OR '.join(tests)})", tuple(params)


class Selections:
    """Narrow async access to ``selections``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> set[tuple[str, str]]:
        """The (kind, code) pairs the user follows (none: everything)."""
        rows = await self._db.fetch_all(
            "SELECT kind, code FROM selections WHERE user_id = ?", (user_id,)
        )
        return {(row[0], row[1]) for row in rows}

    async def set(self, user_id: int, kind: str, code: str, followed: bool) -> bool:
        """Follow ``code`` or stop, whatever the state before (a double tap, an older menu:
        the same outcome); False for a user the bot does not know (choices are kept for
        stored users only)."""
        if followed:
            await self._db.execute(
                "INSERT INTO selections (user_id, kind, code)"
                " SELECT id, ?, ? FROM users WHERE id = ? ON CONFLICT DO NOTHING",
                (kind, code, user_id),
            )
        else:
            await self._db.execute(
                "DELETE FROM selections WHERE user_id = ? AND kind = ? AND code = ?",
                (user_id, kind, code),
            )
        known = await self._db.fetch_value("SELECT 1 FROM users WHERE id = ?", (user_id,))
        return known is not None

    async def clear(self, user_id: int) -> None:
        """Follow everything again."""
        await self._db.execute("DELETE FROM selections WHERE user_id = ?", (user_id,))

    async def reach(self, audience: Audience) -> int:
        """How many reachable subscribers a case with this audience would reach."""
        condition, params = matching(audience)
        value = await self._db.fetch_value(
            f"SELECT COUNT(*) FROM users u WHERE {condition}", params
        )
        return int(value)

    async def followers(self, kind: str) -> dict[str, int]:
        """Reachable subscribers per followed code of ``kind`` (the admins' /stats)."""
        rows = await self._db.fetch_all(
            "SELECT s.code, COUNT(*) FROM selections s JOIN users u ON u.id = s.user_id"
            f" WHERE s.kind = ? AND {REACHABLE} GROUP BY s.code ORDER BY COUNT(*) DESC, s.code",
            (kind,),
        )
        return {row[0]: row[1] for row in rows}

    async def following_everything(self) -> int:
        """Reachable subscribers without selections: all of them (the counters migration 014
        keeps) less those who chose, so the cost grows with the selections, not the users."""
        value = await self._db.fetch_value(
            "SELECT (SELECT COALESCE(SUM(n), 0) FROM user_counts"
            "  WHERE subscribed = 1 AND blocked = 0)"
            " - (SELECT COUNT(*) FROM (SELECT DISTINCT user_id FROM selections) s"
            f"  CROSS JOIN users u ON u.id = s.user_id WHERE {REACHABLE})"
        )
        return int(value)

    async def add_many(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Store (user_id, kind, code) rows at once (the benchmark's set-up, imports)."""
        await self._db.execute_many(
            "INSERT INTO selections (user_id, kind, code) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )

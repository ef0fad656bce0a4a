"""Broadcasts and their outbox: the durable queue behind every push to subscribers.

A broadcast to more than ``CHUNK`` recipients is queued in chunks of ``CHUNK`` in user-id order:
``create`` writes the first one (and the count of all as ``total``), ``enqueue_more`` each next
one while the first messages go out. Measured (bench/broadcast.py, 1,000,000 subscribers, a
shared 2-core machine): the whole outbox written at Publish took 0.6-2.5 s, during which the
database answered nobody; a chunk takes ~20 ms.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from enum import IntEnum
from typing import Any

from bot.storage.claims import NOW
from bot.storage.db import Database, Row
from bot.storage.selections import REACHABLE, Audience, matching


class Outcome(IntEnum):
    PENDING = 0
    DELIVERED = 1
    UNREACHABLE = 2
    FAILED = 3
    SKIPPED = 4
    # Sent twice without Telegram's answer (the read timed out): maybe delivered, not resent.
    UNCONFIRMED = 5
    # Sent once without an answer: still pending, owed one more try (never a third).
    UNANSWERED = 6


# Recipients queued at once: the first chunk at Publish, the next as the sender nears the end.
CHUNK = 20_000

# The states a recipient is still sent in.
_SENDABLE = f"({int(Outcome.PENDING)}, {int(Outcome.UNANSWERED)})"

_RECORD = "UPDATE outbox SET state = ?, attempts = ? WHERE broadcast_id = ? AND user_id = ?"
# Shared: only over the recipient's row while it is still to be sent and nobody else holds
# it (the claim ends with the outcome; a second try may go from anyone). An outcome that
# comes after its claim ran out and another instance claimed (or recorded) the row, or after
# ``finish`` dropped the outbox, changes nothing: that instance's result stands.
_RECORD_SHARED = (
    "UPDATE outbox SET state = ?, attempts = ?, claimed_until = NULL"
    f" WHERE broadcast_id = ? AND user_id = ? AND state IN {_SENDABLE}"
    f" AND (claimed_by = ? OR claimed_until IS NULL OR claimed_until < {NOW})"
)
# Recipients one instance claims at once on a shared database (PostgreSQL) at most: few, so
# that the others find work too and what one claimed is sent well within its lease.
CLAIM_BATCH = 64
# Claim the next sendable recipients nobody holds (or whose holder's lease ran out): the rows
# another instance is claiming right now are skipped, not waited for.
_PG_CLAIM = (
    "WITH claimed AS ("
    f" UPDATE outbox o SET claimed_until = {NOW} + ?, claimed_by = ?"
    " WHERE o.broadcast_id = ? AND o.user_id IN ("
    "  SELECT s.user_id FROM outbox s JOIN users u ON u.id = s.user_id"
    f"  WHERE s.broadcast_id = ? AND s.user_id > ? AND s.state IN {_SENDABLE}"
    f"  AND (s.claimed_until IS NULL OR s.claimed_until < {NOW})"
    "  AND u.subscribed = 1 AND u.blocked_at IS NULL"
    "  ORDER BY s.user_id LIMIT ? FOR UPDATE OF s SKIP LOCKED)"
    " RETURNING o.user_id, o.attempts, o.state)"
    " SELECT c.user_id, u.language, c.attempts,"
    " (SELECT CASE WHEN MAX(f.revision) < ? THEN MAX(f.confirmed_on) END"
    "  FROM confirmations f WHERE f.case_number = ? AND f.user_id = c.user_id),"
    " c.state"
    " FROM claimed c JOIN users u ON u.id = c.user_id ORDER BY c.user_id"
)


class StillSending(Exception):
    """``finish`` refused: recipients still wait (another instance gave its claims back or
    queued the last chunk after this one looked); the transaction rolls back, sending goes on."""


@dataclass(frozen=True)
class Broadcast:
    id: int
    kind: str
    case_number: str | None
    revision: int | None
    payload: str | None
    requested_by: int | None
    total: int
    delivered: int
    unreachable: int
    failed: int
    skipped: int
    started_at: float | None
    finished_at: float | None
    paused_at: float | None = None  # since when it waits for Telegram (None: not paused)
    pause_reason: str | None = None
    reported_at: float | None = None
    unconfirmed: int = 0  # sent twice without Telegram's answer: maybe delivered

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Recipient:
    user_id: int
    language: str
    attempts: int
    # The day of their latest confirmation for an earlier revision of the broadcast's case (a
    # follow-up asks them to write again, a closure thanks them); None: none, or they already
    # confirmed the broadcast's revision itself.
    wrote_on: date | None = None
    unanswered: bool = False  # sent once already without an answer: this is the last try


_BROADCAST_COLUMNS = (
    "id, kind, case_number, revision, payload, requested_by, total, delivered, unreachable,"
    " failed, skipped, started_at, finished_at, paused_at, pause_reason, reported_at, unconfirmed"
)


def _recipient(row: Row) -> Recipient:
    """A recipient from ``pending``'s or ``claim``'s row (user, language, attempts, the day
    they wrote, the outcome so far): both select the same five columns."""
    return Recipient(
        row[0],
        row[1],
        row[2],
        None if row[3] is None else date.fromisoformat(row[3]),
        row[4] == Outcome.UNANSWERED,
    )


def _broadcast(row: Row) -> Broadcast:
    return Broadcast(*row)


def _audience(stored: dict[str, Any]) -> Audience:
    """An ``Audience`` back from its JSON (lists where it holds tuples)."""
    return Audience(
        tuple(stored["topics"]),
        tuple(stored["countries"]),
        tuple(stored["regions"]),
        stored["case_number"],
    )


class Broadcasts:
    """Narrow async access to ``broadcasts`` and ``outbox``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def shared(self) -> bool:
        """Whether other instances drain the same outbox (PostgreSQL): recipients are then
        claimed under a lease (``claim``) and the send budget is the whole bot's
        (``reserve_sends``); on SQLite one process sends, as it always did."""
        return self._db.shared

    async def now(self) -> float:
        """The time (epoch seconds) a broadcast's start, pause and end are stamped with and
        the give-up time is measured on: shared, the database's clock, one for every
        instance whatever their machines' clocks say; on SQLite this machine's."""
        if not self._db.shared:
            return time.time()
        return float(await self._db.fetch_value(f"SELECT {NOW}"))

    async def create(
        self,
        *,
        kind: str,
        case_number: str | None = None,
        revision: int | None = None,
        payload: str | None = None,
        requested_by: int | None = None,
        audience: Audience | None = None,
    ) -> int:
        """A broadcast with one outbox row per recipient (call in a transaction): every
        reachable subscriber, or with ``audience`` those it selects (``selections.matching``);
        beyond ``CHUNK`` of them, the first ``CHUNK`` (``enqueue_more`` queues the others)."""
        broadcast_id = await self._db.insert(
            "INSERT INTO broadcasts (kind, case_number, revision, payload, requested_by)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, case_number, revision, payload, requested_by),
        )
        selective = audience is not None and await self._selective()
        condition, params = (
            matching(audience)
            if audience is not None and selective
            else (
                REACHABLE,
                (),
            )
        )
        queued = await self._enqueue(broadcast_id, 0, condition, params)
        if queued < CHUNK:
            total, after = queued, None
        else:  # more to come: the count of all, and where the next chunk begins
            total = int(
                await self._db.fetch_value(
                    f"SELECT COUNT(*) FROM users u WHERE {condition}", params
                )
            )
            after = await self._last_queued(broadcast_id)
        await self._db.execute(
            "UPDATE broadcasts SET total = ?, enqueue_after = ?, audience = ? WHERE id = ?",
            (
                total,
                after,
                json.dumps(asdict(audience)) if audience is not None and selective else None,
                broadcast_id,
            ),
        )
        return broadcast_id

    async def _enqueue(
        self, broadcast_id: int, after: int, condition: str, params: tuple[object, ...]
    ) -> int:
        """Queue the next ``CHUNK`` recipients after user ``after`` (the table read in id
        order, NOT INDEXED, so a chunk stops early instead of sorting everyone)."""
        return await self._db.execute(
            "INSERT INTO outbox (broadcast_id, user_id) SELECT ?, u.id"
            f" FROM users u NOT INDEXED WHERE u.id > ? AND {condition} ORDER BY u.id LIMIT ?"
            " ON CONFLICT DO NOTHING",
            (broadcast_id, after, *params, CHUNK),
        )

    async def _last_queued(self, broadcast_id: int) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT MAX(user_id) FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
            )
        )

    async def enqueue_more(self, broadcast_id: int) -> bool:
        """Queue the broadcast's next chunk of recipients; False when all were queued. The
        last chunk sets ``total`` to the recipients queued in all."""
        row = await self._db.fetch_one(
            "SELECT enqueue_after, audience FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        if row is None or row[0] is None:
            return False
        async with self._db.transaction():
            if self._db.shared:
                # Another instance may queue the same chunk right now: the broadcast's row,
                # locked, says where the next chunk begins once it is done.
                row = await self._db.fetch_one(
                    "SELECT enqueue_after, audience FROM broadcasts WHERE id = ? FOR UPDATE",
                    (broadcast_id,),
                )
                if row is None or row[0] is None:
                    return True  # the other queued the last chunk: claim again
            condition, params = (
                matching(_audience(json.loads(row[1]))) if row[1] is not None else (REACHABLE, ())
            )
            queued = await self._enqueue(broadcast_id, row[0], condition, params)
            if queued < CHUNK:
                await self._db.execute(
                    "UPDATE broadcasts SET enqueue_after = NULL,"
                    " total = (SELECT COUNT(*) FROM outbox WHERE broadcast_id = ?) WHERE id = ?",
                    (broadcast_id, broadcast_id),
                )
            else:
                await self._db.execute(
                    "UPDATE broadcasts SET enqueue_after = ? WHERE id = ?",
                    (await self._last_queued(broadcast_id), broadcast_id),
                )
        return True

    async def _selective(self) -> bool:
        """Whether anyone chose what they follow: if nobody did, every case reaches every
        reachable subscriber, by the plain query (as fast as before selections existed)."""
        return bool(await self._db.fetch_value("SELECT EXISTS (SELECT 1 FROM selections)"))

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetch_one(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return None if row is None else _broadcast(row)

    async def unfinished(self) -> list[Broadcast]:
        rows = await self._db.fetch_all(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE finished_at IS NULL ORDER BY id"
        )
        return [_broadcast(row) for row in rows]

    async def mark_started(self, broadcast_id: int, at: float) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET started_at = ? WHERE id = ? AND started_at IS NULL",
            (at, broadcast_id),
        )

    async def pause(self, broadcast_id: int, at: float, reason: str) -> None:
        """Mark the broadcast as waiting for Telegram since ``at`` (kept if already paused)."""
        await self._db.execute(
            "UPDATE broadcasts SET paused_at = COALESCE(paused_at, ?), pause_reason = ?"
            " WHERE id = ?",
            (at, reason, broadcast_id),
        )

    async def unpause(self, broadcast_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET paused_at = NULL, pause_reason = NULL WHERE id = ?",
            (broadcast_id,),
        )

    async def unreported(self) -> list[Broadcast]:
        """Finished broadcasts whose final report has not reached the admins yet."""
        rows = await self._db.fetch_all(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts"
            " WHERE finished_at IS NOT NULL AND reported_at IS NULL ORDER BY id"
        )
        return [_broadcast(row) for row in rows]

    async def mark_reported(self, broadcast_id: int, at: float) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET reported_at = ? WHERE id = ?", (at, broadcast_id)
        )

    async def pending(
        self,
        broadcast_id: int,
        after_user: int,
        limit: int,
        case_number: str | None = None,
        revision: int | None = None,
    ) -> list[Recipient]:
        """The next pending recipients in user-id order.

        Users who paused alerts or became unreachable since the broadcast began are passed over;
        ``finish`` counts them as skipped. With ``case_number`` and ``revision``, each recipient
        carries the day they last confirmed a letter for an earlier revision of that case.
        """
        rows = await self._db.fetch_all(
            "SELECT o.user_id, u.language, o.attempts,"
            " (SELECT CASE WHEN MAX(c.revision) < ? THEN MAX(c.confirmed_on) END"
            "  FROM confirmations c WHERE c.case_number = ? AND c.user_id = o.user_id),"
            " o.state"
            " FROM outbox o JOIN users u ON u.id = o.user_id"
            f" WHERE o.broadcast_id = ? AND o.state IN {_SENDABLE} AND o.user_id > ?"
            " AND u.subscribed = 1 AND u.blocked_at IS NULL"
            " ORDER BY o.user_id LIMIT ?",
            (revision, case_number, broadcast_id, after_user, limit),
        )
        return [_recipient(row) for row in rows]

    async def claim(
        self,
        broadcast_id: int,
        after_user: int,
        limit: int,
        case_number: str | None,
        revision: int | None,
        *,
        owner: str,
        lease: float,
    ) -> list[Recipient]:
        """The next recipients to send to. On SQLite: ``pending`` (the one process reads on
        from ``after_user``). Shared: ``limit`` recipients nobody holds, now held
        by ``owner`` for ``lease`` seconds, past ``after_user`` (a round passes 0: what others
        hold is skipped, what comes back from a dead instance is found again; a probe after a
        burst passes the recipients it refused)."""
        if not self._db.shared:
            return await self.pending(broadcast_id, after_user, limit, case_number, revision)
        rows = await self._db.fetch_all(
            _PG_CLAIM,
            (
                lease,
                owner,
                broadcast_id,
                broadcast_id,
                after_user,
                limit,
                revision,
                case_number,
            ),
        )
        return [_recipient(row) for row in rows]

    async def release(self, broadcast_id: int, owner: str) -> int:
        """Give back what ``owner`` claimed and did not send (a round ended or halted, a send
        failed on the way to Telegram): any instance may take it at once, not after the lease.
        How many were given back."""
        if not self._db.shared:
            return 0
        return await self._db.execute(
            "UPDATE outbox SET claimed_until = NULL, claimed_by = NULL"
            f" WHERE broadcast_id = ? AND claimed_by = ? AND state IN {_SENDABLE}"
            " AND claimed_until IS NOT NULL",
            (broadcast_id, owner),
        )

    async def held_elsewhere(self, broadcast_id: int, owner: str) -> bool:
        """Whether another instance still holds recipients of the broadcast (sending them, or
        dead and not yet past its lease): the broadcast is not finished before they are."""
        if not self._db.shared:
            return False
        return bool(
            await self._db.fetch_value(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE broadcast_id = ?"
                f" AND state IN {_SENDABLE} AND claimed_until >= {NOW}"
                " AND claimed_by <> ?)",
                (broadcast_id, owner),
            )
        )

    async def paused_elsewhere(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast if an instance paused it (Telegram unreachable): every instance
        waits then. None on SQLite (the one process knows its own pause)."""
        if not self._db.shared:
            return None
        found = await self.get(broadcast_id)
        return found if found is not None and found.paused_at is not None else None

    async def reserve_sends(self, count: int, seconds: float) -> float | None:
        """Reserve the whole bot's next ``count`` broadcast sends, ``seconds`` long together
        (``count`` / rate): in how many seconds from now they begin. None on SQLite: one
        process, its own rate limiter is the bot's budget."""
        if not self._db.shared:
            return None
        return float(
            await self._db.fetch_value(
                f"UPDATE broadcast_pace SET next_at = GREATEST(next_at, {NOW}) + ?"
                f" WHERE id = 1 RETURNING next_at - ? - {NOW}",
                (seconds, seconds),
            )
        )

    async def hold_sends(self, seconds: float) -> None:
        """Telegram answered a 429 (flood control is the whole bot's): no instance's broadcast
        sends begin for ``seconds``. Nothing on SQLite (the one rate limiter waits)."""
        if not self._db.shared:
            return
        await self._db.execute(
            f"UPDATE broadcast_pace SET next_at = GREATEST(next_at, {NOW} + ?) WHERE id = 1",
            (seconds,),
        )

    async def claim_report(self, broadcast_id: int, owner: str, lease: float) -> bool:
        """Whether ``owner`` is to send the broadcast's final report (now, and for ``lease``
        seconds; it renews its claim before each try): one instance of several sends it,
        another after the lease if that one died."""
        if not self._db.shared:
            return True
        return (
            await self._db.execute(
                f"UPDATE broadcasts SET report_claimed_until = {NOW} + ?,"
                " report_claimed_by = ? WHERE id = ? AND reported_at IS NULL"
                " AND (report_claimed_until IS NULL OR report_claimed_by = ?"
                f" OR report_claimed_until < {NOW})",
                (lease, owner, broadcast_id, owner),
            )
            == 1
        )

    async def release_report(self, broadcast_id: int, owner: str) -> None:
        """Give up ``owner``'s claim on the final report (a stop): another may send it now."""
        if not self._db.shared:
            return
        await self._db.execute(
            "UPDATE broadcasts SET report_claimed_until = NULL"
            " WHERE id = ? AND report_claimed_by = ?",
            (broadcast_id, owner),
        )

    async def record_many(
        self, broadcast_id: int, outcomes: list[tuple[int, Outcome, int]], *, owner: str = ""
    ) -> int:
        """Record (user_id, outcome, attempts) rows: call in a transaction for several; one
        row alone is one statement, atomic by itself. How many were recorded: shared, those
        of ``owner``'s claims or nobody's (``_RECORD_SHARED``); on SQLite all of them."""
        if not self._db.shared:
            await self._db.execute_many(
                _RECORD,
                [
                    (int(outcome), attempts, broadcast_id, user_id)
                    for user_id, outcome, attempts in outcomes
                ],
            )
            return len(outcomes)
        recorded = 0
        for user_id, outcome, attempts in outcomes:
            recorded += await self._db.execute(
                _RECORD_SHARED, (int(outcome), attempts, broadcast_id, user_id, owner)
            )
        return recorded

    async def pending_count(self) -> int:
        """Messages still to send, over every broadcast (the operator's metrics)."""
        return int(
            await self._db.fetch_value(f"SELECT COUNT(*) FROM outbox WHERE state IN {_SENDABLE}")
        )

    async def progress(self, broadcast_id: int) -> dict[Outcome, int]:
        rows = await self._db.fetch_all(
            "SELECT state, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        )
        counts = dict.fromkeys(Outcome, 0)
        for state, count in rows:
            counts[Outcome(state)] = count
        return counts

    async def fail_pending(self, broadcast_id: int) -> int:
        """Give up on every pending recipient (the outage outlasted the give-up time); one
        sent once without an answer may have it: unconfirmed, not failed."""
        await self._db.execute(
            "UPDATE outbox SET state = ? WHERE broadcast_id = ? AND state = ?",
            (int(Outcome.UNCONFIRMED), broadcast_id, int(Outcome.UNANSWERED)),
        )
        return await self._db.execute(
            "UPDATE outbox SET state = ? WHERE broadcast_id = ? AND state = ?",
            (int(Outcome.FAILED), broadcast_id, int(Outcome.PENDING)),
        )

    async def finish(self, broadcast_id: int, at: float) -> Broadcast | None:
        """Fold the outbox into counters and drop it (call in a transaction); None when
        another instance finished it first (it reports it, not this one).

        Shared: with the broadcast's row locked (an ``enqueue_more`` waits for it), raises
        ``StillSending`` while a reachable recipient is still to be sent, claimed or not, or a
        chunk is still to be queued: the three looks that ended this instance's round (claim,
        enqueue, held elsewhere) each saw a different moment."""
        if self._db.shared and await self._db.fetch_value(
            "SELECT enqueue_after IS NOT NULL OR EXISTS (SELECT 1 FROM outbox o"
            " JOIN users u ON u.id = o.user_id"
            f" WHERE o.broadcast_id = b.id AND o.state IN {_SENDABLE}"
            " AND u.subscribed = 1 AND u.blocked_at IS NULL)"
            " FROM broadcasts b WHERE b.id = ? AND b.finished_at IS NULL FOR UPDATE",
            (broadcast_id,),
        ):
            raise StillSending
        counts = await self.progress(broadcast_id)
        changed = await self._db.execute(
            "UPDATE broadcasts SET delivered = ?, unreachable = ?, failed = ?,"
            " skipped = skipped + ?, unconfirmed = ?, finished_at = ?, paused_at = NULL,"
            " pause_reason = NULL, enqueue_after = NULL WHERE id = ? AND finished_at IS NULL",
            (
                counts[Outcome.DELIVERED],
                counts[Outcome.UNREACHABLE],
                counts[Outcome.FAILED],
                counts[Outcome.SKIPPED] + counts[Outcome.PENDING],
                # Passed over while owed a second try (paused alerts meanwhile): maybe have it.
                counts[Outcome.UNCONFIRMED] + counts[Outcome.UNANSWERED],
                at,
                broadcast_id,
            ),
        )
        if not changed:
            return None
        await self._db.execute("DELETE FROM outbox WHERE broadcast_id = ?", (broadcast_id,))
        finished = await self.get(broadcast_id)
        assert finished is not None
        return finished

"""Publish, queue the broadcast, start it: the one path for files, closures, the feed and the CLI.

``engine`` is the running bot's ``BroadcastEngine``; without one (``uabot import --publish``)
the broadcast is only queued, and the running bot picks it up (``BROADCAST_POLL_SECONDS``).
"""

from __future__ import annotations

import logging

from bot.actions.importer import ImportResult, discard, import_revision, publish
from bot.actions.model import ActionRevision
from bot.broadcast.engine import BroadcastEngine
from bot.logs import about
from bot.services import announcements
from bot.storage import Broadcast, Storage

log = logging.getLogger(__name__)


async def import_draft(
    storage: Storage, revision: ActionRevision, *, by: int | None
) -> ImportResult:
    """Store an uploaded revision as a draft for review (``bot.actions.importer`` decides what
    is refused or changes nothing); the one write path for an admin's upload."""
    return await import_revision(storage, revision, by=by)


async def discard_draft(storage: Storage, case: str, revision: int, *, by: int) -> bool:
    """Drop a draft under review; False when it was already published or discarded."""
    return await discard(storage, case, revision, by)


def _start(engine: BroadcastEngine | None, broadcast: Broadcast | None) -> Broadcast | None:
    if engine is not None and broadcast is not None:
        engine.start(broadcast)
    return broadcast


async def publish_and_broadcast(
    storage: Storage,
    case: str,
    revision: int,
    *,
    requested_by: int | None,
    engine: BroadcastEngine | None,
) -> Broadcast | None:
    """Publish a draft and send it to the subscribers; None if it was already published or
    discarded (then nothing is sent)."""
    broadcast_id = await publish(storage, case, revision, requested_by)
    if broadcast_id is None:
        return None
    broadcast = await storage.broadcasts.get(broadcast_id)
    log.info(
        "published %s revision %d: broadcast %d to %d subscribers",
        case,
        revision,
        broadcast_id,
        broadcast.total if broadcast else 0,
        extra=about(broadcast_id, case),
    )
    return _start(engine, broadcast)


async def close_case(
    storage: Storage, closing: ActionRevision, *, by: int, engine: BroadcastEngine | None
) -> Broadcast | None:
    """Import a closing revision and publish it like any file; ``ImportRefused`` if the import
    is refused, None if another admin published it first."""
    await import_revision(storage, closing, by=by)
    return await publish_and_broadcast(
        storage, closing.case, closing.revision, requested_by=by, engine=engine
    )


async def announce(
    storage: Storage,
    texts: dict[str, str],
    *,
    requested_by: int,
    engine: BroadcastEngine | None,
) -> Broadcast | None:
    """Queue an announcement (texts by language) with its audit entry, and send it."""
    async with storage.db.transaction():
        broadcast_id = await storage.broadcasts.create(
            kind=announcements.KIND,
            payload=announcements.payload(texts),
            requested_by=requested_by,
        )
        await storage.audit.record(requested_by, "announce", f"broadcast {broadcast_id}")
    return _start(engine, await storage.broadcasts.get(broadcast_id))

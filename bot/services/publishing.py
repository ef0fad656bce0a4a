"""Publish, queue the broadcast, start it: the one path for files, closures, the feed and the CLI.

``engine`` is the running bot's ``BroadcastEngine``; without one (``uabot import --publish``)
the broadcast is only queued, and the running bot picks it up (``BROADCAST_POLL_SECONDS``).

A closure ends the case's running writing sessions: groups must not go on writing for a
closed case. ``app`` is the running bot, which then shows each session's result, unpins it and
thanks the group (``live.closed``); without one the sessions end in the database, and the
bot's next start closes their messages (``live.resume``).
"""

from __future__ import annotations

import logging
import time

from telegram.ext import Application

from bot.actions.importer import ImportResult, discard, import_revision, load, publish
from bot.actions.model import ActionRevision
from bot.broadcast.engine import BroadcastEngine
from bot.logs import about
from bot.services import announcements, sessions
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
    app: Application | None = None,
) -> Broadcast | None:
    """Publish a draft and send it to the subscribers; None if it was already published or
    discarded (then nothing is sent). A closure ends the case's sessions (module docstring)."""
    broadcast_id = await publish(storage, case, revision, requested_by)
    if broadcast_id is None:
        return None
    await _end_sessions(storage, case, revision, app)
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


async def _end_sessions(
    storage: Storage, case: str, revision: int, app: Application | None
) -> None:
    published = await load(storage, case, revision)
    if published is None or not published.is_closed:
        return
    # Imported here: live schedules on the JobQueue (bot.services.scheduling), which publishes.
    from bot.services.sessions import live

    for session in await sessions.end_case(storage, case, time.time()):
        if app is not None:
            live.closed(app, session)


async def close_case(
    storage: Storage,
    closing: ActionRevision,
    *,
    by: int,
    engine: BroadcastEngine | None,
    app: Application | None = None,
) -> Broadcast | None:
    """Import a closing revision and publish it like any file; ``ImportRefused`` if the import
    is refused, None if another admin published it first."""
    await import_revision(storage, closing, by=by)
    return await publish_and_broadcast(
        storage, closing.case, closing.revision, requested_by=by, engine=engine, app=app
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

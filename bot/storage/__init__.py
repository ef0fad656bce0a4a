"""The storage layer: the only package that speaks SQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.storage.audit import Audit, AuditEntry
from bot.storage.broadcasts import Broadcast, Broadcasts, Outcome, Recipient
from bot.storage.claims import Claims
from bot.storage.conversations import PersistenceRows
from bot.storage.db import Database
from bot.storage.menus import AdminMenus
from bot.storage.revisions import Revisions, StoredRevision
from bot.storage.scheduling import DueReminder, FeedItems, JobState, Reminders
from bot.storage.selections import Audience, Selections
from bot.storage.sessions import Group, Groups, SessionCounts, Sessions, StoredSession
from bot.storage.stats import LetterCount, Stats, SubscriberCounts
from bot.storage.tally import Tally
from bot.storage.users import User, Users

__all__ = [
    "AdminMenus",
    "Audience",
    "Audit",
    "AuditEntry",
    "Broadcast",
    "Broadcasts",
    "Claims",
    "Database",
    "DueReminder",
    "FeedItems",
    "Group",
    "Groups",
    "JobState",
    "LetterCount",
    "Outcome",
    "PersistenceRows",
    "Recipient",
    "Reminders",
    "Revisions",
    "Selections",
    "SessionCounts",
    "Sessions",
    "SharedStorage",
    "Stats",
    "Storage",
    "StoredRevision",
    "StoredSession",
    "SubscriberCounts",
    "Tally",
    "User",
    "Users",
]


@dataclass
class Storage:
    """The database and its repositories, opened once in ``post_init``."""

    db: Database
    users: Users
    revisions: Revisions
    broadcasts: Broadcasts
    tally: Tally
    conversations: PersistenceRows
    audit: Audit
    stats: Stats
    reminders: Reminders
    feed_items: FeedItems
    job_state: JobState
    admin_menus: AdminMenus
    selections: Selections
    groups: Groups
    sessions: Sessions
    claims: Claims

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        """The SQLite file at ``path``, or PostgreSQL at a ``postgresql://`` URL."""
        return cls.on(await Database.open(path))

    @classmethod
    def on(cls, db: Database) -> Storage:
        """The repositories over a database already open."""
        return cls(
            db=db,
            users=Users(db),
            revisions=Revisions(db),
            broadcasts=Broadcasts(db),
            tally=Tally(db),
            conversations=PersistenceRows(db),
            audit=Audit(db),
            stats=Stats(db),
            reminders=Reminders(db),
            feed_items=FeedItems(db),
            job_state=JobState(db),
            admin_menus=AdminMenus(db),
            selections=Selections(db),
            groups=Groups(db),
            sessions=Sessions(db),
            claims=Claims(db),
        )

    async def close(self) -> None:
        await self.db.close()


class SharedStorage:
    """The one Storage of a process, opened by whichever needs it first.

    PTB loads its persistence in ``Application.initialize()``, before ``post_init``: the
    persistence and the services share this one connection, whoever comes first opens it.
    """

    def __init__(self, path: Path | str) -> None:
        self._path = path
        self._storage: Storage | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Storage:
        async with self._lock:
            if self._storage is None:
                self._storage = await Storage.open(self._path)
            return self._storage

    async def close(self) -> None:
        async with self._lock:
            if self._storage is not None:
                await self._storage.close()
                self._storage = None

"""The storage layer: the only package that speaks SQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.storage.broadcasts import Broadcast, Broadcasts, Outcome, Recipient
from bot.storage.conversations import PersistenceRows
from bot.storage.db import Database
from bot.storage.revisions import Revisions, StoredRevision
from bot.storage.tally import Tally
from bot.storage.users import User, Users

__all__ = [
    "Broadcast",
    "Broadcasts",
    "Database",
    "Outcome",
    "Recipient",
    "Revisions",
    "Storage",
    "StoredRevision",
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

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        db = await Database.open(path)
        return cls(
            db=db,
            users=Users(db),
            revisions=Revisions(db),
            broadcasts=Broadcasts(db),
            tally=Tally(db),
            conversations=PersistenceRows(db),
        )

    async def close(self) -> None:
        await self.db.close()

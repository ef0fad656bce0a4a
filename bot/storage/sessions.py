"""Groups the bot is in and their writing sessions (issue 15). Counts only once a session ends.

See migrations 012, 013 and 016 for what is kept and why. The caller owns each transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.storage.db import Database


@dataclass(frozen=True)
class Group:
    chat_id: int
    language: str


@dataclass(frozen=True)
class StoredSession:
    id: int
    group_id: int
    case_number: str
    started_at: float  # Unix seconds
    minutes: int  # as asked for ("/session UA 046/19 60")
    ends_at: float  # Unix seconds: when its time is up
    message_id: int | None
    pinned: bool
    ended_at: float | None
    letters: int
    token: str  # names the session in its "Write my letter" link (unguessable, unlike ``id``)

    @property
    def running(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class SessionCounts:
    """For /stats and the export: no ids, only numbers."""

    groups: int  # groups the bot is in now
    groups_with_sessions: int  # distinct groups that held at least one session
    sessions: int
    running: int
    letters: int  # letters counted in sessions


def _session(row: aiosqlite.Row) -> StoredSession:
    return StoredSession(
        id=row["id"],
        group_id=row["group_id"],
        case_number=row["case_number"],
        started_at=row["started_at"],
        minutes=row["minutes"],
        ends_at=row["ends_at"],
        message_id=row["message_id"],
        pinned=bool(row["pinned"]),
        ended_at=row["ended_at"],
        letters=row["letters"],
        token=row["token"],
    )


class Groups:
    """Narrow async access to ``groups``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, chat_id: int, language: str) -> bool:
        """Record a group the bot was added to; False when it was known (language kept)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO groups (chat_id, language) VALUES (?, ?)", (chat_id, language)
        )
        return changed == 1

    async def get(self, chat_id: int) -> Group | None:
        row = await self._db.fetch_one(
            "SELECT chat_id, language FROM groups WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else Group(row[0], row[1])

    async def set_language(self, chat_id: int, language: str) -> bool:
        changed = await self._db.execute(
            "UPDATE groups SET language = ? WHERE chat_id = ?", (language, chat_id)
        )
        return changed == 1

    async def remove(self, chat_id: int) -> bool:
        """Forget a group (the bot was removed). Its sessions stay, as counts."""
        return await self._db.execute("DELETE FROM groups WHERE chat_id = ?", (chat_id,)) == 1

    async def move(self, old_id: int, new_id: int) -> None:
        """The group became a supergroup: its row takes the new id (a row the new id already
        has, from an update that came first, gives way to the old one and its language)."""
        if await self.get(old_id) is None:
            return
        await self._db.execute("DELETE FROM groups WHERE chat_id = ?", (new_id,))
        await self._db.execute("UPDATE groups SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))


class Sessions:
    """Narrow async access to ``sessions``, ``session_writers`` and ``session_members``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self,
        group_id: int,
        case_number: str,
        started_at: float,
        minutes: int,
        ends_at: float,
        token: str,
    ) -> int | None:
        """A new running session's id; None when the group already holds one (the schema's
        unique index decides, so two concurrent starts cannot both succeed)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO sessions"
            " (group_id, case_number, started_at, minutes, ends_at, token)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (group_id, case_number, started_at, minutes, ends_at, token),
        )
        if changed != 1:
            return None
        running = await self.running(group_id)
        assert running is not None
        return running.id

    async def get(self, session_id: int) -> StoredSession | None:
        row = await self._db.fetch_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return None if row is None else _session(row)

    async def by_token(self, token: str) -> StoredSession | None:
        row = await self._db.fetch_one("SELECT * FROM sessions WHERE token = ?", (token,))
        return None if row is None else _session(row)

    async def running(self, group_id: int) -> StoredSession | None:
        row = await self._db.fetch_one(
            "SELECT * FROM sessions WHERE group_id = ? AND ended_at IS NULL", (group_id,)
        )
        return None if row is None else _session(row)

    async def all_running(self) -> list[StoredSession]:
        """Every running session (a restart reschedules their jobs), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM sessions WHERE ended_at IS NULL ORDER BY started_at, id"
        )
        return [_session(row) for row in rows]

    async def set_message(self, session_id: int, message_id: int, *, pinned: bool) -> None:
        await self._db.execute(
            "UPDATE sessions SET message_id = ?, pinned = ? WHERE id = ?",
            (message_id, int(pinned), session_id),
        )

    async def add_writer(self, session_id: int, user_id: int) -> bool:
        """Count one letter for a running session unless this person counted already; True
        when counted. Call inside a transaction (two statements, one decision)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO session_writers (session_id, user_id)"
            " SELECT id, ? FROM sessions WHERE id = ? AND ended_at IS NULL",
            (user_id, session_id),
        )
        if changed != 1:
            return False
        await self._db.execute(
            "UPDATE sessions SET letters = letters + 1 WHERE id = ?", (session_id,)
        )
        return True

    async def join(self, session_id: int, user_id: int) -> None:
        """Record that this person came through a running session's link (once)."""
        await self._db.execute(
            "INSERT OR IGNORE INTO session_members (session_id, user_id)"
            " SELECT id, ? FROM sessions WHERE id = ? AND ended_at IS NULL",
            (user_id, session_id),
        )

    async def joined(self, user_id: int, case_number: str) -> StoredSession | None:
        """The running session of this case whose link this person came through (the newest,
        if several groups write for the case)."""
        row = await self._db.fetch_one(
            "SELECT s.* FROM sessions s JOIN session_members m ON m.session_id = s.id"
            " WHERE m.user_id = ? AND s.case_number = ? AND s.ended_at IS NULL"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
            (user_id, case_number),
        )
        return None if row is None else _session(row)

    async def running_for_case(self, case_number: str) -> list[StoredSession]:
        """The running sessions of a case (its closure ends them), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM sessions WHERE case_number = ? AND ended_at IS NULL"
            " ORDER BY started_at, id",
            (case_number,),
        )
        return [_session(row) for row in rows]

    async def end(self, session_id: int, ended_at: float) -> bool:
        """End a running session and drop who came and who wrote in it; False when it had
        ended. Call inside a transaction: the count stays, the user ids go at the same time."""
        changed = await self._db.execute(
            "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            (ended_at, session_id),
        )
        for table in ("session_writers", "session_members"):
            await self._db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        return changed == 1

    async def move_group(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its sessions follow it. Their messages stay in the
        old chat (message ids start again in the new one): a running session posts anew."""
        await self._db.execute(
            "UPDATE sessions SET group_id = ?, message_id = NULL, pinned = 0 WHERE group_id = ?",
            (new_id, old_id),
        )

    async def counts(self) -> SessionCounts:
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM groups), COUNT(DISTINCT group_id), COUNT(*),"
            " COALESCE(SUM(ended_at IS NULL), 0), COALESCE(SUM(letters), 0) FROM sessions"
        )
        assert row is not None
        return SessionCounts(*(int(value) for value in row))

    async def per_case(self) -> dict[str, tuple[int, int, int]]:
        """Per case: (groups, sessions, letters), for the export."""
        rows = await self._db.fetch_all(
            "SELECT case_number, COUNT(DISTINCT group_id), COUNT(*), SUM(letters)"
            " FROM sessions GROUP BY case_number ORDER BY case_number"
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

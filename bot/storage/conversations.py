"""Rows behind python-telegram-bot's persistence (see ``bot.ptb.persistence``)."""

from __future__ import annotations

import json
from typing import Any

from bot.storage.db import Database


class PersistenceRows:
    """Conversation states and user data as JSON rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        rows = await self._db.fetch_all(
            "SELECT key, state FROM conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(row[0])): json.loads(row[1]) for row in rows}

    async def set_conversation(
        self, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        if state is None:
            await self._db.execute(
                "DELETE FROM conversations WHERE name = ? AND key = ?", (name, json.dumps(key))
            )
        else:
            await self._db.execute(
                "INSERT INTO conversations (name, key, state) VALUES (?, ?, ?)"
                " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state,"
                " version = conversations.version + 1",
                (name, json.dumps(key), json.dumps(state)),
            )

    # Several instances (``Database.shared``): each reads a user's rows as it takes the user's
    # update, and writes a conversation only if no other instance wrote it since it read it.

    @property
    def shared(self) -> bool:
        """Whether other instances write these rows too (then read them for each update)."""
        return self._db.shared

    async def user_conversations(
        self, key: tuple[int | str, ...]
    ) -> dict[str, tuple[object, int]]:
        """Every conversation at ``key`` (one chat and user): name -> (state, version)."""
        rows = await self._db.fetch_all(
            "SELECT name, state, version FROM conversations WHERE key = ?", (json.dumps(key),)
        )
        return {row[0]: (json.loads(row[1]), int(row[2])) for row in rows}

    async def versioned_conversations(
        self, name: str
    ) -> dict[tuple[int | str, ...], tuple[object, int]]:
        """Every state of one conversation: key -> (state, version)."""
        rows = await self._db.fetch_all(
            "SELECT key, state, version FROM conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(row[0])): (json.loads(row[1]), int(row[2])) for row in rows}

    async def conversation_version(self, name: str, key: tuple[int | str, ...]) -> int | None:
        """The version of one conversation's row; None when it has ended (no row)."""
        value = await self._db.fetch_value(
            "SELECT version FROM conversations WHERE name = ? AND key = ?",
            (name, json.dumps(key)),
        )
        return None if value is None else int(value)

    async def put_conversation(
        self, name: str, key: tuple[int | str, ...], state: object | None, seen: int | None
    ) -> int | bool | None:
        """Write a conversation's state (None: it ended) if its row is still as its writer saw
        it (``seen``: that version; None: no row). The new version (None: no row now), or
        False when another instance wrote it meanwhile and nothing was changed."""
        encoded = json.dumps(key)
        if state is None:
            if seen is None:
                return None  # ended here, and never started elsewhere as far as we know
            changed = await self._db.execute(
                "DELETE FROM conversations WHERE name = ? AND key = ? AND version = ?",
                (name, encoded, seen),
            )
            return None if changed else False
        if seen is None:
            changed = await self._db.execute(
                "INSERT INTO conversations (name, key, state, version) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (name, key) DO NOTHING",
                (name, encoded, json.dumps(state)),
            )
            return 1 if changed else False
        changed = await self._db.execute(
            "UPDATE conversations SET state = ?, version = version + 1"
            " WHERE name = ? AND key = ? AND version = ?",
            (json.dumps(state), name, encoded, seen),
        )
        return seen + 1 if changed else False

    async def user_data_of(self, user_id: int) -> tuple[dict[str, Any], int | None]:
        """One user's data (empty when none is stored) and its version (None: no row)."""
        row = await self._db.fetch_one(
            "SELECT data, version FROM user_data WHERE user_id = ?", (user_id,)
        )
        return ({}, None) if row is None else (dict(json.loads(row[0])), int(row[1]))

    async def put_user_data(
        self, user_id: int, data: dict[str, Any], seen: int | None
    ) -> int | bool | None:
        """Write a user's data (empty: none) if its row is still as its writer saw it, as
        ``put_conversation`` does: the new version (None: no row now), or False."""
        if not data:
            if seen is None:
                return None
            changed = await self._db.execute(
                "DELETE FROM user_data WHERE user_id = ? AND version = ?", (user_id, seen)
            )
            return None if changed else False
        if seen is None:
            changed = await self._db.execute(
                "INSERT INTO user_data (user_id, data, version) VALUES (?, ?, 1)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, json.dumps(data)),
            )
            return 1 if changed else False
        changed = await self._db.execute(
            "UPDATE user_data SET data = ?, version = version + 1"
            " WHERE user_id = ? AND version = ?",
            (json.dumps(data), user_id, seen),
        )
        return seen + 1 if changed else False

    async def forget_conversations(self, user_id: int) -> None:
        """End every conversation of a private chat (key [chat_id, user_id])."""
        key = json.dumps([user_id, user_id])
        await self._db.execute("DELETE FROM conversations WHERE key = ?", (key,))

    async def user_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._db.fetch_all("SELECT user_id, data FROM user_data")
        return {row[0]: json.loads(row[1]) for row in rows}

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        if not data:
            await self.drop_user_data(user_id)
            return
        await self._db.execute(
            "INSERT INTO user_data (user_id, data) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " version = user_data.version + 1",
            (user_id, json.dumps(data)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM user_data WHERE user_id = ?", (user_id,))

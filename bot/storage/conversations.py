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
                " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
                (name, json.dumps(key), json.dumps(state)),
            )

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
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data",
            (user_id, json.dumps(data)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM user_data WHERE user_id = ?", (user_id,))

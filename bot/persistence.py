"""python-telegram-bot persistence on the bot's SQLite database.

PTB ships pickle and dict persistence only. Conversations (the letter wizard) and user data
are kept in two small tables instead, as JSON, so a restart resumes a letter where the user
was, and /forget can erase a user's rows like any other.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.storage.conversations import PersistenceRows
from bot.storage.db import Database

UserData = dict[str, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]


class SQLitePersistence(BasePersistence[UserData, dict[str, Any], Any]):
    """Stores conversations and user data; chat data, bot data and callback data are not kept."""

    def __init__(self, path: Path | str, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._path = path
        self._db: Database | None = None
        self._rows: PersistenceRows | None = None

    async def _open(self) -> PersistenceRows:
        # PTB reads persistence in Application.initialize(), before post_init opens storage.
        if self._rows is None:
            self._db = await Database.open(self._path)
            self._rows = PersistenceRows(self._db)
        return self._rows

    async def get_user_data(self) -> dict[int, UserData]:
        return await (await self._open()).user_data()

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_bot_data(self) -> Any:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        return await (await self._open()).conversations(name)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await (await self._open()).set_conversation(name, tuple(key), new_state)

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        await (await self._open()).set_user_data(user_id, data)

    async def drop_user_data(self, user_id: int) -> None:
        await (await self._open()).drop_user_data(user_id)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        """Called at shutdown, after PTB's last update_persistence(): only close."""
        if self._db is not None:
            await self._db.close()
            self._db = None
            self._rows = None

"""python-telegram-bot persistence on the bot's SQLite database.

PTB ships pickle and dict persistence only. Conversations (the letter wizard) and user data
are kept in two small tables instead, as JSON, so a restart resumes a letter where the user
was, and /forget can erase a user's rows like any other. The rows live on the storage's one
connection (``SharedStorage``); drafts abandoned while the bot was down are dropped as the
data is loaded, so PTB never holds them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.storage import SharedStorage
from bot.storage.conversations import PersistenceRows

log = logging.getLogger(__name__)

UserData = dict[str, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]


@dataclass(frozen=True)
class StaleWork:
    """The rule for work left alone, injected by the composition root (bot.app): plumbing
    knows no letters. ``stale(user_data, now)`` says whether the work at ``key`` is over;
    then the work goes, and the conversation ``conversation`` only (other dialogues stay)."""

    stale: Callable[[UserData, float], bool]
    key: str
    conversation: str


class SQLitePersistence(BasePersistence[UserData, dict[str, Any], Any]):
    """Stores conversations and user data; chat data, bot data and callback data are not kept."""

    def __init__(
        self,
        storage: SharedStorage,
        *,
        stale_work: StaleWork,
        clock: Callable[[], float] | None = None,
        update_interval: float = 5,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._storage = storage
        self._stale_work = stale_work
        self._clock = clock
        # Several instances (a shared database): the version of each conversation's row as
        # this process last read or wrote it (None: no row), so that it writes a row only if
        # no other instance wrote it since (bot.ptb.user_state).
        self._seen: dict[tuple[str, ConversationKey], int | None] = {}
        self._seen_users: dict[int, int | None] = {}  # the same for user_data's rows

    async def _open(self) -> PersistenceRows:
        return (await self._storage.get()).conversations

    async def get_user_data(self) -> dict[int, UserData]:
        """The stored user data, without drafts abandoned past the timeout (deleted too).

        PTB does not persist a conversation's timeout job; a draft left alone before a restart
        ends here, before PTB loads the user data or the conversations (which it loads after).
        """
        storage = await self._storage.get()
        loaded = await storage.conversations.user_data()
        now = self._clock() if self._clock else time.time()
        rule = self._stale_work
        for user_id, data in loaded.items():
            if rule.stale(data, now):
                data.pop(rule.key, None)
                async with storage.db.transaction():
                    await storage.conversations.set_user_data(user_id, data)
                    await storage.conversations.set_conversation(
                        rule.conversation, (user_id, user_id), None
                    )
                log.info("deleted abandoned work (%s)", rule.key)
        return loaded

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_bot_data(self) -> Any:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._open()
        if not rows.shared:
            return await rows.conversations(name)
        found = await rows.versioned_conversations(name)
        self._seen.update({(name, key): version for key, (_, version) in found.items()})
        return {key: state for key, (state, _) in found.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        rows = await self._open()
        if not rows.shared:
            await rows.set_conversation(name, tuple(key), new_state)
            return
        seen = (name, tuple(key))
        written = await rows.put_conversation(name, tuple(key), new_state, self._seen.get(seen))
        if written is False:
            # Another instance wrote it since this one read it: its state is newer.
            log.debug("a conversation moved on elsewhere: this instance's older state not kept")
        else:
            self._seen[seen] = written

    async def conversations_at(self, key: ConversationKey, names: list[str]) -> dict[str, object]:
        """The stored states of the conversations ``names`` at ``key`` (a chat and a user),
        as this process's view from now on (the versions it writes against)."""
        found = await (await self._open()).user_conversations(tuple(key))
        for name in names:
            self._seen[(name, tuple(key))] = found[name][1] if name in found else None
        return {name: state for name, (state, _) in found.items()}

    async def moved_on(self, name: str, key: ConversationKey) -> bool:
        """Whether another instance wrote (or ended) the conversation since this one last
        read or wrote it."""
        stored = await (await self._open()).conversation_version(name, tuple(key))
        return stored != self._seen.get((name, tuple(key)))

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        rows = await self._open()
        if not rows.shared:
            await rows.set_user_data(user_id, data)
            return
        written = await rows.put_user_data(user_id, data, self._seen_users.get(user_id))
        if written is False:
            # PTB writes a user's data again when a task of their update ends, maybe after
            # another instance took their next update: this process's copy is older.
            log.debug("a user's data moved on elsewhere: this instance's older copy not kept")
        else:
            self._seen_users[user_id] = written

    async def drop_user_data(self, user_id: int) -> None:
        await (await self._open()).drop_user_data(user_id)
        self._seen_users[user_id] = None

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def load_user_data(self, user_id: int, user_data: UserData) -> None:
        """The user's data as stored, in place of this process's copy: several instances
        share the database (bot.ptb.user_state, holding the user's lock)."""
        stored, self._seen_users[user_id] = await (await self._open()).user_data_of(user_id)
        user_data.clear()
        user_data.update(stored)

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        """Nothing to do: every write is done; the connection is the storage's to close."""

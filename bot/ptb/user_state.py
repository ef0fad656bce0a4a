"""A user's state when several instances share one database (issue 16 §4, webhook mode).

PTB keeps conversation states and user_data in each process's memory, loaded once at start
and written every few seconds. Behind one webhook URL any instance may take any update, so
on a shared database (PostgreSQL) each update of a user runs in a scope that:

1. holds the user's lock across instances (``Database.user_lock``): the user's updates run
   one at a time, wherever they arrive (a double tap on two instances counts once, a button
   and a text at once lose no draft);
2. reads the user's user_data and conversation states from the database into PTB's memory
   (not in PTB's ``refresh_user_data`` hook: a second update of the user on the same
   instance shares the first one's hold and its live data, as on one instance);
3. writes what the update changed before the lock goes (``Application.update_persistence``),
   so the next update, anywhere, reads it. A conversation's row is written only if no other
   instance wrote it since it was read (``PersistenceRows.put_conversation``).

PTB has no public way to set a ConversationHandler's state: its ``_conversations`` (a
``TrackingDict`` keyed like the persistence) is set here only, without marking it written, and
``check`` refuses to start if a PTB release changes it (tests/test_user_state.py).

On SQLite (one instance) nothing of this runs: the memory is the truth, as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler
from telegram.ext._utils.trackingdict import TrackingDict

from bot.ptb.persistence import ConversationKey, SQLitePersistence
from bot.storage import SharedStorage, Storage

App = Application[Any, Any, Any, Any, Any, Any]


def handler_states(handler: ConversationHandler[Any]) -> TrackingDict[ConversationKey, object]:
    """The handler's states (PTB's private ``_conversations``; see the module's docstring)."""
    states = getattr(handler, "_conversations", None)
    if not isinstance(states, TrackingDict):
        raise RuntimeError(
            "python-telegram-bot's ConversationHandler keeps its states elsewhere than "
            "_conversations: bot/ptb/user_state.py must follow it"
        )
    return states


def check(app: App) -> None:
    """Refuse a PTB whose ConversationHandler this module cannot follow (when built: the
    states become a ``TrackingDict`` as PTB loads the persistence, a dict before)."""
    for handler in conversations(app):
        if not isinstance(getattr(handler, "_conversations", None), dict | TrackingDict):
            raise RuntimeError(
                "python-telegram-bot's ConversationHandler has no _conversations: "
                "bot/ptb/user_state.py must follow it"
            )
        if not isinstance(handler.timeout_jobs, dict):
            raise RuntimeError("ConversationHandler.timeout_jobs is no dict: see user_state.py")


def conversations(app: App) -> list[ConversationHandler[Any]]:
    """The application's persistent conversations, whatever their group."""
    return [
        handler
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler) and handler.persistent and handler.name
    ]


class UserState:
    """The per-user scope of updates and of the jobs that change a user's state."""

    def __init__(self, storage: SharedStorage, persistence: SQLitePersistence, retry: float):
        self._storage = storage
        self._persistence = persistence
        self._retry = retry
        self._app: App | None = None
        self._shared: bool | None = None  # known once the storage is open
        # The conversation keys read for each user while this process holds their lock, and
        # how many of its tasks are in that hold (the entry goes with the last).
        self._loaded: dict[int, set[ConversationKey]] = {}
        self._holding: dict[int, int] = {}

    def attach(self, app: App) -> None:
        """The application whose conversations the scope reads into (built after this)."""
        check(app)
        self._app = app

    async def _is_shared(self) -> bool:
        if self._shared is None:
            self._shared = (await self._storage.get()).db.shared
        return self._shared

    @asynccontextmanager
    async def update(self, update: object) -> AsyncIterator[None]:
        """The scope of one update (``TrackedUpdates``): its user's, if it has one."""
        user = update.effective_user if isinstance(update, Update) else None
        if user is None or not await self._is_shared():
            yield
            return
        chat = update.effective_chat if isinstance(update, Update) else None
        async with self._held(user.id, (chat.id if chat else user.id, user.id)):
            yield

    @asynccontextmanager
    async def user(self, user_id: int, chat_id: int | None = None) -> AsyncIterator[None]:
        """The scope of a job's work on one user (private chat unless ``chat_id``): their
        state read again first (``Application.user_data``, the conversations), written at
        the end."""
        if not await self._is_shared():
            yield
            return
        key = (chat_id if chat_id is not None else user_id, user_id)
        async with self._held(user_id, key):
            yield

    @asynccontextmanager
    async def timeout(self, user_id: int, key: ConversationKey, name: str) -> AsyncIterator[bool]:
        """The scope of a conversation's timeout: False when another instance took a later
        step of it (or ended it) since this one did, and the timeout must do nothing."""
        if not await self._is_shared():
            yield True
            return
        storage = await self._storage.get()
        async with storage.db.user_lock(user_id, self._retry) as first:
            app = self._application()
            # What this instance's own last step changed is written first (an update of the
            # user may still be ending here), so that only another instance's step counts.
            await app.update_persistence()
            if await self._persistence.moved_on(name, key):
                # Forgotten here, not ended: PTB's end after the timeout would be a write
                # of this old view (which PTB may hand to the persistence only later, after
                # this instance read the conversation again for another update).
                for handler in conversations(app):
                    if handler.name == name:
                        handler_states(handler).data.pop(key, None)
                yield False
                return
            if first:
                self._loaded.pop(user_id, None)
                await self._persistence.load_user_data(user_id, app.user_data[user_id])
            try:
                yield True
            finally:
                # Ended here, under the lock, as PTB would end it right after: its end
                # (outside the lock) could come after another instance's next step.
                for handler in conversations(app):
                    if handler.name == name:
                        handler_states(handler).pop(key, None)
                await app.update_persistence()

    def _application(self) -> App:
        if self._app is None:
            raise RuntimeError("UserState.attach was not called")
        return self._app

    @asynccontextmanager
    async def _held(self, user_id: int, key: ConversationKey) -> AsyncIterator[None]:
        storage = await self._storage.get()
        app = self._application()
        self._holding[user_id] = self._holding.get(user_id, 0) + 1
        try:
            async with self._hold_read(storage, app, user_id, key):
                yield
        finally:
            self._holding[user_id] -= 1
            if not self._holding[user_id]:
                del self._holding[user_id]
                self._loaded.pop(user_id, None)

    @asynccontextmanager
    async def _hold_read(
        self, storage: Storage, app: App, user_id: int, key: ConversationKey
    ) -> AsyncIterator[None]:
        async with storage.db.user_lock(user_id, self._retry) as first:
            handlers = conversations(app)
            # The first of this process's tasks for the user reads their state; the others
            # (a double tap on this instance) share it in memory, as on one instance.
            if first:
                self._loaded[user_id] = set()
                await self._persistence.load_user_data(user_id, app.user_data[user_id])
            loaded = self._loaded.setdefault(user_id, set())
            if key not in loaded:
                loaded.add(key)
                names = [handler.name or "" for handler in handlers]
                found = await self._persistence.conversations_at(key, names)
                for handler in handlers:
                    states, state = handler_states(handler), found.get(handler.name or "")
                    if state is None:
                        states.data.pop(key, None)
                    else:
                        states.update_no_track({key: state})
            timeouts = {handler: handler.timeout_jobs.get(key) for handler in handlers}
            try:
                yield
            finally:
                # A step that kept its state (a handler returning None) wrote nothing, yet
                # moved the timeout on: write it, so an older timeout elsewhere sees it moved.
                for handler, before in timeouts.items():
                    states = handler_states(handler)
                    if handler.timeout_jobs.get(key) is not before and key in states:
                        states.mark_as_accessed(key)
                await app.update_persistence()

"""Simulated groups and supergroups: members with a status, the bot added and removed, messages
from several users filtered by privacy mode, pins and the upgrade to a supergroup."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .state import (
    BOT_USER,
    DEFAULT_ADMIN_RIGHTS,
    CallbackAnswer,
    GroupChat,
    Member,
    SentMessage,
    State,
    UserMessage,
)
from .users import ChatView, SimUser, text_entities

__all__ = ["SimGroup"]

User = SimUser | dict[str, Any]


def _user(who: User) -> dict[str, Any]:
    return who.user if isinstance(who, SimUser) else who


class SimGroup(ChatView):
    """A group as its members see it; create it with ``Emulator.group()``.

    ``messages``/``receive()`` are the bot's messages in the current chat: after ``migrate()``
    that is the new supergroup (the old group stays in ``old_chats``).
    """

    def __init__(self, state: State, chat: GroupChat) -> None:
        super().__init__(state, chat)
        self.group = chat
        self.old_chats: list[GroupChat] = []

    @property
    def id(self) -> int:
        return self.group.chat_id

    @property
    def type(self) -> str:
        """``group`` or ``supergroup``."""
        return self.group.type

    @property
    def title(self) -> str:
        return self.group.title

    @property
    def creator(self) -> dict[str, Any]:
        return next(m.user for m in self.group.members.values() if m.status == "creator")

    def __repr__(self) -> str:
        return f"SimGroup({self.id}, {self.title!r}, {self.type})"

    # -- members ---------------------------------------------------------------------------

    def member(self, who: User | int) -> Member:
        """A user's membership; asserts that they were in the group at some time."""
        user_id = who if isinstance(who, int) else int(_user(who)["id"])
        found = self.group.member(user_id)
        if found is None:
            raise AssertionError(f"user {user_id} was never in {self!r}")
        return found

    def status(self, who: User | int) -> str:
        return self.member(who).status

    @property
    def bot_status(self) -> str:
        """The bot's status here: left (never added), member, administrator, kicked."""
        return self.group.bot_member.status

    @property
    def bot_in(self) -> bool:
        return self.group.bot_member.is_member

    def _author(self, who: User) -> dict[str, Any]:
        user = _user(who)
        member = self.group.member(int(user["id"]))
        if member is None or not member.is_member:
            raise AssertionError(f"{user.get('first_name')} is not a member of {self!r}")
        return user

    def join(self, who: User) -> dict[str, Any]:
        """A user joins (by an invite link): the ``new_chat_members`` service message."""
        user = _user(who)
        self.group.set_member(user, "member")
        return self._service(user, {"new_chat_members": [user]})

    def leave(self, who: User) -> dict[str, Any]:
        """A user leaves: the ``left_chat_member`` service message."""
        user = self._author(who)
        self.group.set_member(user, "left")
        return self._service(user, {"left_chat_member": user})

    def promote(self, who: User, rights: Iterable[str] = DEFAULT_ADMIN_RIGHTS) -> None:
        """Make a member an administrator with ``rights`` (no update: the bot is not told)."""
        user = self._author(who)
        self.group.set_member(user, "administrator", frozenset(rights))

    # -- the bot's membership --------------------------------------------------------------

    def add_bot(
        self,
        by: User | None = None,
        *,
        admin: bool = False,
        rights: Iterable[str] = ("can_pin_messages", "can_delete_messages"),
    ) -> None:
        """``by`` (default: the creator) adds the bot, as a member or an administrator with
        ``rights``: a ``my_chat_member`` update, then the ``new_chat_members`` message."""
        if self.bot_in:
            raise AssertionError(f"the bot is already in {self!r}")
        user = self._author(by or self.creator)
        if admin and not self.member(user).can("can_promote_members"):
            raise AssertionError(f"{user.get('first_name')} may not add admins to {self!r}")
        status = "administrator" if admin else "member"
        self.group.bot_removed = False
        old, new = self.group.set_member(BOT_USER, status, frozenset(rights))
        self._state.my_chat_member(self.group, user, old, new)
        self._service(user, {"new_chat_members": [BOT_USER]})

    def promote_bot(
        self, rights: Iterable[str] = ("can_pin_messages",), by: User | None = None
    ) -> None:
        """Make the bot an administrator (``rights``), or change its rights: my_chat_member."""
        self._set_bot("administrator", frozenset(rights), by)

    def demote_bot(self, by: User | None = None) -> None:
        """The bot becomes a plain member again: my_chat_member."""
        self._set_bot("member", frozenset(), by)

    def remove_bot(self, by: User | None = None) -> None:
        """``by`` removes the bot: my_chat_member with "left" in a group, "kicked" in a
        supergroup (removing there bans), and the bot's calls to the chat answer 403."""
        status = "kicked" if self.type == "supergroup" else "left"
        self._set_bot(status, frozenset(), by)
        self.group.bot_removed = True

    def _set_bot(self, status: str, rights: frozenset[str], by: User | None) -> None:
        if not self.bot_in:
            raise AssertionError(f"the bot is not in {self!r}")
        user = self._author(by or self.creator)
        old, new = self.group.set_member(BOT_USER, status, rights)
        self._state.my_chat_member(self.group, user, old, new)
        self._state.touch(self.group)

    # -- messages --------------------------------------------------------------------------

    def _record(self, user: dict[str, Any], text: str | None, delivered: bool) -> UserMessage:
        chat = self.group
        record = UserMessage(
            chat.new_message_id(), text, from_user=user, delivered=delivered and self.bot_in
        )
        chat.by_id[record.message_id] = record
        chat.transcript.append(record)
        return record

    def _api(self, record: UserMessage, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": record.message_id,
            "from": user,
            "chat": self.group.api_chat(),
            "date": int(time.time()),
        }

    def _service(self, user: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """A service message: bots in the group get them whatever their privacy mode."""
        record = self._record(user, None, True)
        message = {**self._api(record, user), **fields}
        if record.delivered:
            self._state.enqueue_update("message", message)
        self._state.touch(self.group)
        return message

    def _bot_sees(self, text: str, entities: list[dict[str, Any]], reply_to: Any) -> bool:
        """Privacy mode: a bot that is no admin gets commands (bare ones too: it is the only
        bot here), replies to its own messages and messages mentioning it."""
        if not self._state.privacy_mode or self.group.bot_member.is_admin:
            return True
        # text_entities gives bot_command only to bare commands and those addressed to us.
        return isinstance(reply_to, SentMessage) or any(
            e["type"] in ("bot_command", "mention") for e in entities
        )

    async def send(
        self, who: User, text: str, *, reply_to: SentMessage | UserMessage | None = None
    ) -> dict[str, Any]:
        """``who`` writes ``text`` in the group (optionally replying); the bot gets it unless
        privacy mode hides it (``transcript[-1].delivered`` says which)."""
        user = self._author(who)
        entities = text_entities(text)
        record = self._record(user, text, self._bot_sees(text, entities, reply_to))
        message = self._api(record, user)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._as_api(reply_to)
        if record.delivered:
            self._state.enqueue_update("message", message)
        self._state.touch(self.group)
        return message

    async def tap(
        self,
        who: User,
        message: SentMessage | int,
        button: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        crafted: str | None = None,
    ) -> CallbackAnswer:
        """A member presses an inline button under a bot message in the group (by text, else
        callback_data): the bot's answer, which only that member sees. ``crafted``: a
        modified client sends this callback data instead of the button's."""
        return await self._tap(self._author(who), message, button, timeout, crafted=crafted)

    def _as_api(self, message: SentMessage | UserMessage) -> dict[str, Any]:
        if isinstance(message, SentMessage):
            return message.to_api(self.group.api_chat())
        return {
            **self._api(message, message.from_user or {}),
            "text": message.text or "",
        }

    @property
    def transcript(self) -> list[SentMessage | UserMessage]:
        """Everyone's messages in the current chat, in order."""
        return list(self.group.transcript)

    @property
    def pinned(self) -> SentMessage | UserMessage | None:
        """The message pinned last and still pinned (the one shown on top), or None."""
        if not self.group.pinned:
            return None
        return self.group.by_id.get(self.group.pinned[-1])

    @property
    def pinned_all(self) -> list[SentMessage | UserMessage]:
        """Every pinned message, the oldest first."""
        return [self.group.by_id[i] for i in self.group.pinned]

    def dump(self, limit: int = 30) -> str:
        return self.group.dump(limit)

    # -- upgrade ---------------------------------------------------------------------------

    def migrate(self, by: User | None = None) -> int:
        """The creator upgrades the group to a supergroup: a new chat (-100…) with the same
        members; the old chat gets ``migrate_to_chat_id``, the new one
        ``migrate_from_chat_id``, and the old id then answers 400 with
        ``parameters.migrate_to_chat_id``. Returns the new id."""
        old = self.group
        if old.type != "group":
            raise AssertionError(f"{self!r} is already a supergroup")
        user = self._author(by or self.creator)
        new_id = self._state.new_group_id(supergroup=True)
        new = GroupChat(
            user={"id": new_id, "first_name": old.title},
            chat_id=new_id,
            title=old.title,
            type="supergroup",
            members=dict(old.members),
        )
        self._service(user, {"migrate_to_chat_id": new_id})
        old.migrated_to = new_id
        self._state.chats[new_id] = new
        self.old_chats.append(old)
        self.group = new
        self.chat = new
        self._cursor = 0
        self._service(user, {"migrate_from_chat_id": old.chat_id})
        return new_id

"""What the emulated Telegram remembers: chats, messages, files, commands, the update queue."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOT_USER",
    "Button",
    "CallbackAnswer",
    "Chat",
    "GroupChat",
    "InlineAnswer",
    "Member",
    "Notifier",
    "SentDocument",
    "SentMessage",
    "State",
    "Stats",
    "StoredFile",
    "UserMessage",
]

BOT_USER: dict[str, Any] = {
    "id": 4242,
    "is_bot": True,
    "first_name": "UA Bot",
    "username": "uabot_test_bot",
}
BOT_ME: dict[str, Any] = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,  # getMe reports State.inline_mode
    "can_connect_to_business": False,
    "has_main_web_app": False,
}


# Ids of the friends users chat with (outside the range simulated users are given).
FRIEND_ID_BASE = 7_000_000_000


@dataclass
class PendingInline:
    """An inline query sent to the bot and not answered yet."""

    query: str
    future: asyncio.Future[InlineAnswer]


class Notifier:
    """Wakes every waiter on the next change; O(1) when nobody waits."""

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    def notify(self) -> None:
        """Wake everyone currently waiting."""
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_result(None)

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait for the next notify(); False if ``timeout`` passed first."""
        if timeout <= 0:
            return False
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            return False
        return True


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        target = f"data={self.callback_data!r}" if self.callback_data is not None else self.url
        return f"[{self.text}]({target})"


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent, with its bytes."""

    file_name: str | None
    mime_type: str | None
    data: bytes
    file_id: str = ""


@dataclass(frozen=True)
class CallbackAnswer:
    """What answerCallbackQuery showed the user."""

    text: str | None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class InlineAnswer:
    """What answerInlineQuery gave the user typing ``@bot query``: results as the bot sent
    them (dicts in the Bot API's shape), in the order the client lists them."""

    query_id: str
    query: str
    results: list[dict[str, Any]]
    cache_time: int = 300  # Telegram's default
    is_personal: bool = False
    next_offset: str = ""
    button: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The control API's view, for the web chat."""
        return {
            "query_id": self.query_id,
            "query": self.query,
            "results": self.results,
            "cache_time": self.cache_time,
            "is_personal": self.is_personal,
            "next_offset": self.next_offset,
            "button": self.button,
        }


@dataclass
class StoredFile:
    """A file known to the server, downloadable through getFile."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    file_path: str

    def document(self) -> dict[str, Any]:
        """The Bot API Document object."""
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (edits applied, deletion flagged)."""

    message_id: int
    chat_id: int
    text: str
    html: str
    parse_mode: str | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    file: StoredFile | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)
    deleted: bool = False
    sent_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    # A message a user posted through inline mode: its author, and the bot it came via.
    from_user: dict[str, Any] | None = None
    via_bot: dict[str, Any] | None = None

    @property
    def buttons(self) -> list[list[Button]]:
        """Inline keyboard rows."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row]
            for row in rows
        ]

    @property
    def document(self) -> SentDocument | None:
        """The sent document with its bytes, or None for text messages."""
        if self.file is None:
            return None
        f = self.file
        return SentDocument(f.file_name, f.mime_type, f.data, f.file_id)

    @property
    def caption(self) -> str | None:
        """The caption of a document message (same as ``text``)."""
        return self.text if self.document else None

    def find_button(self, label: str) -> Button | None:
        """A button by exact visible text, else by callback_data."""
        flat = [b for row in self.buttons for b in row]
        return next((b for b in flat if b.text == label), None) or next(
            (b for b in flat if b.callback_data == label), None
        )

    def to_api(self, chat: dict[str, Any]) -> dict[str, Any]:
        """The Bot API Message object, valid for PTB's Message.de_json."""
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.from_user or BOT_USER,
            "chat": chat,
            "date": int(self.sent_at),
        }
        if self.via_bot is not None:
            msg["via_bot"] = self.via_bot
        if self.edited_at is not None:
            msg["edit_date"] = int(self.edited_at)
        if self.file is not None:
            msg["document"] = self.file.document()
            if self.text:
                msg["caption"] = self.text
                if self.entities:
                    msg["caption_entities"] = self.entities
        else:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        return msg

    def to_json(self) -> dict[str, Any]:
        """The control API's view, for benchmarks and the web chat."""
        data: dict[str, Any] = {
            "sender": "bot" if self.from_user is None else "user",
            "via_bot": self.via_bot["username"] if self.via_bot else None,
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "text": self.text,
            "html": self.html,
            "parse_mode": self.parse_mode,
            "buttons": [
                [{"text": b.text, "callback_data": b.callback_data, "url": b.url} for b in row]
                for row in self.buttons
            ],
            "document": None,
            "edits": self.edits,
            "history": self.history,
            "deleted": self.deleted,
            "sent_at": self.sent_at,
        }
        if self.file is not None:
            data["document"] = {
                "file_id": self.file.file_id,
                "file_name": self.file.file_name,
                "mime_type": self.file.mime_type,
                "file_size": len(self.file.data),
                "url": f"/_emu/files/{self.file.file_id}",
            }
        return data

    def __str__(self) -> str:
        flags = "".join(
            [
                f" (edited {self.edits}x)" if self.edits else "",
                " (deleted)" if self.deleted else "",
            ]
        )
        who = "bot" if self.via_bot is None else f"via @{self.via_bot['username']}"
        lines = [f"{who} #{self.message_id}{flags}: {self.text!r}"]
        if self.document:
            size = len(self.document.data)
            lines.append(
                f"    document: {self.document.file_name} ({self.document.mime_type}, {size} B)"
            )
        for row in self.buttons:
            lines.append("    " + " ".join(str(b) for b in row))
        return "\n".join(lines)


@dataclass
class UserMessage:
    """A message a simulated user sent (kept for transcripts and deleteMessage)."""

    message_id: int
    text: str | None
    file_name: str | None = None
    deleted: bool = False
    # In a group: who wrote it, and whether the bot got it (privacy mode filters).
    from_user: dict[str, Any] | None = None
    delivered: bool = True

    def to_json(self) -> dict[str, Any]:
        """The control API's view."""
        return {
            "sender": "user",
            "message_id": self.message_id,
            "text": self.text,
            "file_name": self.file_name,
            "deleted": self.deleted,
            "from_id": self.from_user["id"] if self.from_user else None,
            "delivered": self.delivered,
        }

    def __str__(self) -> str:
        what = f"<file {self.file_name}> " if self.file_name else ""
        who = f"{self.from_user.get('first_name')} " if self.from_user else "user "
        hidden = "" if self.delivered else " (not delivered: privacy mode)"
        return f"{who}#{self.message_id}{hidden}: {what}{self.text!r}"


@dataclass
class Chat:
    """A private chat between the bot and one simulated user."""

    user: dict[str, Any]
    next_message_id: int = 1
    bot_messages: list[SentMessage] = field(default_factory=list)
    by_id: dict[int, SentMessage | UserMessage] = field(default_factory=dict)
    transcript: list[SentMessage | UserMessage] = field(default_factory=list)
    chat_actions: list[str] = field(default_factory=list)
    changed: Notifier = field(default_factory=Notifier)
    # Whether the user ever wrote to the bot (or tapped in its chat): until then Telegram
    # refuses the bot's messages ("bot can't initiate conversation with a user").
    started: bool = False

    @property
    def id(self) -> int:
        """Private chats share the user's id."""
        return int(self.user["id"])

    def api_chat(self) -> dict[str, Any]:
        """The Bot API Chat object."""
        chat = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
        for key in ("last_name", "username"):
            if self.user.get(key):
                chat[key] = self.user[key]
        return chat

    def new_message_id(self) -> int:
        """Message ids are per chat and shared by both sides."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def dump(self, limit: int = 30) -> str:
        """A readable transcript for assertion messages."""
        name = self.user.get("first_name")
        shown = self.transcript[-limit:]
        head = f"chat {self.id} ({name}), {len(self.transcript)} messages"
        if len(self.transcript) > limit:
            head += f", last {limit} shown"
        body = "\n".join(f"  {m}".replace("\n", "\n  ") for m in shown) or "  (empty)"
        return f"{head}:\n{body}"


# ChatMemberAdministrator's rights, in the Bot API's order (all are sent, true or false).
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)  # fmt: skip
# What a person made admin in a client gets by default (all but promoting others and topics).
DEFAULT_ADMIN_RIGHTS = frozenset(ADMIN_RIGHTS) - {"can_promote_members", "can_manage_topics"}
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})
# Group ids as Telegram gives them: basic groups negative, supergroups -100 followed by digits.
GROUP_ID_BASE = -4_000_000_000
SUPERGROUP_ID_BASE = -1_002_000_000_000


@dataclass
class Member:
    """One user's membership of a group: a ChatMember of the Bot API."""

    user: dict[str, Any]
    status: str  # one of MEMBER_STATUSES
    rights: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {self.status!r}")
        unknown = self.rights - set(ADMIN_RIGHTS)
        if unknown:
            raise ValueError(f"unknown admin rights {sorted(unknown)}")

    @property
    def is_member(self) -> bool:
        """Present in the chat (sees it, may write)."""
        return self.status in ("creator", "administrator", "member")

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    def can(self, right: str) -> bool:
        """The creator holds every right; an administrator those granted."""
        return self.status == "creator" or (
            self.status == "administrator" and right in self.rights
        )

    def to_api(self) -> dict[str, Any]:
        """The Bot API ChatMember object (ChatMemberOwner, ...Administrator, ...Banned...)."""
        member: dict[str, Any] = {"status": self.status, "user": self.user}
        if self.status == "creator":
            member["is_anonymous"] = False
        elif self.status == "administrator":
            member["can_be_edited"] = False
            member["is_anonymous"] = False
            member.update({right: right in self.rights for right in ADMIN_RIGHTS})
        elif self.status == "kicked":
            member["until_date"] = 0  # forever
        return member


@dataclass(kw_only=True)
class GroupChat(Chat):
    """A group or supergroup: members with a status, the bot among them or not.

    ``user`` (of Chat) is unused for groups: transcripts and ids come from ``chat_id``.
    """

    chat_id: int
    title: str
    type: str = "group"  # or "supergroup"
    members: dict[int, Member] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)  # message ids, the newest last
    migrated_to: int | None = None  # set once a group became this supergroup
    bot_removed: bool = False  # someone removed the bot (not: it left, or was never added)

    @property
    def id(self) -> int:
        return self.chat_id

    def api_chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": self.type, "title": self.title}

    def member(self, user_id: int) -> Member | None:
        return self.members.get(user_id)

    def set_member(
        self, user: dict[str, Any], status: str, rights: frozenset[str] = frozenset()
    ) -> tuple[Member, Member]:
        """Give ``user`` a new status; (old, new) membership, for ``my_chat_member``."""
        old = self.members.get(int(user["id"])) or Member(user, "left")
        new = Member(user, status, rights if status == "administrator" else frozenset())
        self.members[int(user["id"])] = new
        return old, new

    @property
    def bot_member(self) -> Member:
        """The bot's membership ("left" before it was ever added)."""
        return self.members.get(BOT_USER["id"]) or Member(BOT_USER, "left")

    def dump(self, limit: int = 30) -> str:
        shown = self.transcript[-limit:]
        head = (
            f"{self.type} {self.chat_id} ({self.title!r}, bot {self.bot_member.status}), "
            f"{len(self.transcript)} messages"
        )
        if len(self.transcript) > limit:
            head += f", last {limit} shown"
        body = "\n".join(f"  {m}".replace("\n", "\n  ") for m in shown) or "  (empty)"
        return f"{head}:\n{body}"


@dataclass
class Stats:
    """Cheap counters; ``as_dict()`` is what the control API serves."""

    requests: Counter[str] = field(default_factory=Counter)
    sent_messages: int = 0
    edited_messages: int = 0
    deleted_messages: int = 0
    too_many_requests: int = 0
    errors: int = 0
    non_api_answers: int = 0  # error pages played for a proxy or an outage (http_error)
    errors_by_code: Counter[int] = field(default_factory=Counter)
    updates_enqueued: int = 0
    updates_delivered: int = 0
    callback_answers: int = 0
    inline_answers: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly snapshot."""
        return {
            "requests": dict(self.requests),
            "total_requests": sum(self.requests.values()),
            "sent_messages": self.sent_messages,
            "edited_messages": self.edited_messages,
            "deleted_messages": self.deleted_messages,
            "too_many_requests": self.too_many_requests,
            "non_api_answers": self.non_api_answers,
            "errors": self.errors,
            "errors_by_code": {str(k): v for k, v in self.errors_by_code.items()},
            "updates_enqueued": self.updates_enqueued,
            "updates_delivered": self.updates_delivered,
            "callback_answers": self.callback_answers,
            "inline_answers": self.inline_answers,
        }


class State:
    """All server-side data, shared by the Bot API, the control API and SimUsers."""

    def __init__(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.allowed_updates: frozenset[str] | None = None
        self.pending_callbacks: dict[str, asyncio.Future[CallbackAnswer]] = {}
        self.pending_inline: dict[str, PendingInline] = {}
        # @BotFather's /setinline and /setinlinefeedback: off for a new bot, as at Telegram.
        self.inline_mode = False
        self.inline_feedback = False
        # @BotFather's /setprivacy: on for a new bot; in groups where the bot is no admin it
        # then gets only commands, replies to its messages, mentions and service messages.
        self.privacy_mode = True
        # The chat each user types ``@bot ...`` in (a chat with a friend), by user id: the
        # bot is no member, so they are kept apart from ``chats``.
        self.other_chats: dict[int, Chat] = {}
        self.stats = Stats()
        self.changed = Notifier()
        self.updates_changed = Notifier()
        # Counts getUpdates calls: a newer one ends a waiting one with 409 Conflict.
        self.polls = 0
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._inline_ids = itertools.count(1)
        self._inline_message_ids = itertools.count(1)
        self._group_ids = itertools.count(1)

    def touch(self, chat: Chat | None = None) -> None:
        """Record that something observable changed (wakes wait_until/receive)."""
        self.changed.notify()
        if chat is not None:
            chat.changed.notify()

    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Append an update for getUpdates and wake long polls."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self.stats.updates_enqueued += 1
        self.updates_changed.notify()
        return update_id

    def my_chat_member(self, chat: GroupChat, by: dict[str, Any], old: Member, new: Member) -> int:
        """The ``my_chat_member`` update Telegram sends when the bot's status changes."""
        return self.enqueue_update(
            "my_chat_member",
            {
                "chat": chat.api_chat(),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": old.to_api(),
                "new_chat_member": new.to_api(),
            },
        )

    def store_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Keep an uploaded file and give it Telegram-like ids and a path."""
        n = next(self._file_ids)
        suffix = ""
        if file_name and "." in file_name:
            suffix = file_name[file_name.rfind(".") :]
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:08d}",
            file_unique_id=f"AgAD{n:06d}",
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            file_path=f"documents/file_{n}{suffix}",
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def new_callback_id(self) -> str:
        """Callback query ids are opaque strings at Telegram."""
        return f"{next(self._callback_ids)}{id(self) % 100000:05d}"

    def new_inline_query_id(self) -> str:
        """Inline query ids are opaque strings too (and unique among pending ones)."""
        return f"{next(self._inline_ids)}{id(self) % 100000:05d}7"

    def new_inline_message_id(self) -> str:
        """The id a bot edits a posted inline result by (opaque, base64-like at Telegram)."""
        return f"AgAAA{next(self._inline_message_ids):08d}"

    def new_group_id(self, supergroup: bool) -> int:
        """A fresh id: ``-4…`` for a basic group, ``-100…`` for a supergroup."""
        return (SUPERGROUP_ID_BASE if supergroup else GROUP_ID_BASE) - next(self._group_ids)

    def other_chat(self, user_id: int) -> Chat:
        """The chat ``user_id`` shares inline results into: one with a friend, created once."""
        chat = self.other_chats.get(user_id)
        if chat is None:
            friend = {"id": FRIEND_ID_BASE + user_id, "is_bot": False, "first_name": "Friend"}
            chat = self.other_chats[user_id] = Chat(friend)
        return chat

    @staticmethod
    def scope_key(scope: Any) -> str:
        """Canonical JSON for a BotCommandScope (default scope when absent)."""
        if not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True, separators=(",", ":"))

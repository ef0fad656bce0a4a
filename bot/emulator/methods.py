"""The Bot API methods the bot uses, with Telegram's validation and error texts."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .faults import ApiError, Faults, RateLimiter
from .html import HtmlError, parse_html, utf16_len
from .params import Params, Upload
from .state import (
    BOT_ME,
    BOT_USER,
    CallbackAnswer,
    Chat,
    GroupChat,
    InlineAnswer,
    SentMessage,
    State,
    StoredFile,
)
from .webhook import Webhook

__all__ = ["RATE_LIMITED", "BotApi"]

Handler = Callable[[Params], Awaitable[Any]]

# Telegram's answer to a long poll that a newer getUpdates (another copy of the bot) ended.
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
MAX_INLINE_RESULTS = 50
MAX_RESULT_ID = 64  # bytes
MAX_NEXT_OFFSET = 64  # bytes
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# InlineQueryResult types of the Bot API; "article" is the one the emulator posts in full.
RESULT_TYPES = frozenset(
    {
        "article", "audio", "contact", "document", "game", "gif", "location", "mpeg4_gif",
        "photo", "venue", "video", "voice", "sticker",
    }
)  # fmt: skip
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BUTTON_URL = re.compile(r"(?i)(https?|tg)://[^\s]+")
RATE_LIMITED = frozenset(
    {"sendmessage", "senddocument", "editmessagetext", "editmessagereplymarkup"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
NO_RIGHTS_TO_UNPIN = "Bad Request: not enough rights to manage pinned messages in the chat"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def bad_request(what: str) -> ApiError:
    """A 400 with Telegram's 'Bad Request: ' prefix."""
    return ApiError(400, f"Bad Request: {what}")


def _format(raw: str, parse_mode: str | None, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities for text sent with a parse mode (or explicit entities)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if mode in ("", "none"):
        return raw, list(entities) if isinstance(entities, list) else []
    if mode in ("markdown", "markdownv2"):
        return raw, []  # recorded raw on purpose: the bot uses HTML
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def _raw_text(params: Params) -> str:
    """The ``text`` parameter as sent; Telegram refuses a missing or empty one first."""
    raw = params.get("text")
    if raw is None or raw == "":
        raise bad_request("message text is empty")
    return str(raw)


def _message_text(raw: str, params: Params) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(parse_mode, visible text, entities) of a message text, with Telegram's checks."""
    parse_mode = params.get("parse_mode") or None
    text, entities = _format(raw, parse_mode, params.get("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return parse_mode, text, entities


def _check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline keyboard the way Telegram does (callback_data 1-64 bytes)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards etc. are accepted but not echoed
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "BUTTON_TEXT_INVALID"
                    if isinstance(button, dict)
                    else "can't parse inline keyboard button"
                )
            data = button.get("callback_data")
            url = button.get("url")
            if url is not None and not _BUTTON_URL.fullmatch(str(url)):
                raise bad_request("BUTTON_URL_INVALID")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif not any(
                k in button
                for k in (
                    "url",
                    "web_app",
                    "login_url",
                    "switch_inline_query",
                    "switch_inline_query_current_chat",
                    "pay",
                    "copy_text",
                    "callback_game",
                )
            ):
                raise bad_request('can\'t find field "callback_data" or "url" in the button')
    return markup


class BotApi:
    """Dispatches Bot API calls; one instance per emulator."""

    def __init__(self, state: State, faults: Faults, limiter: RateLimiter) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.closing = False
        self.webhook = Webhook(state, faults)
        self.handlers: dict[str, tuple[str, Handler]] = {}
        for name in (
            "getMe", "logOut", "close", "setWebhook", "deleteWebhook", "getWebhookInfo",
            "getUpdates",
            "setMyCommands", "getMyCommands", "deleteMyCommands", "setChatMenuButton",
            "sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
            "sendDocument", "getFile", "sendChatAction", "deleteMessage", "answerInlineQuery",
            "getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount",
            "pinChatMessage", "unpinChatMessage", "leaveChat",
        ):  # fmt: skip
            attr = name[0].lower() + "".join(
                f"_{c.lower()}" if c.isupper() else c for c in name[1:]
            )
            self.handlers[name.lower()] = (name, getattr(self, attr))

    async def call(self, method: str, params: Params) -> Any:
        """Run one method; raise ApiError for Telegram-style failures."""
        key = method.lower()
        entry = self.handlers.get(key)
        if entry is None:
            raise ApiError(404, "Not Found")
        name, handler = entry
        self.state.stats.requests[name] += 1
        frozen = self.faults.frozen_until - time.monotonic()
        if frozen > 0:
            await asyncio.sleep(frozen)
        delay = self.faults.delay_for(key)
        if delay:
            await asyncio.sleep(delay)
        injected = self.faults.take_injected(key) if self.faults.injected else None
        if injected is not None:
            raise injected
        result = await handler(params)
        late = self.faults.late_answer_for(key)
        if late:
            await asyncio.sleep(late)
        return result

    # -- helpers ---------------------------------------------------------------------------

    def _known_scope_chat(self, params: Params) -> None:
        """A chat scope names a chat Telegram knows: a user who never opened the bot is "chat
        not found" (as for any send to them)."""
        scope = params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope:
            chat_id = scope["chat_id"]
            if not isinstance(chat_id, int) or chat_id not in self.state.chats:
                raise bad_request("chat not found")

    def _chat(self, params: Params) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self.state.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if isinstance(chat, GroupChat):
            self._check_group(chat)
        return chat

    @staticmethod
    def _check_group(chat: GroupChat) -> None:
        """What Telegram answers for a group that became a supergroup, or one the bot is not
        in (any method naming the chat)."""
        if chat.migrated_to is not None:
            raise ApiError(400, UPGRADED, migrate_to_chat_id=chat.migrated_to)
        status = chat.bot_member.status
        if status == "kicked" or (status == "left" and chat.bot_removed):
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        if status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")

    def _writable_chat(self, params: Params) -> Chat:
        chat = self._chat(params)
        self.faults.check_chat(chat.id)
        if not isinstance(chat, GroupChat) and not chat.started:
            # A user Telegram knows (met in a group) who never opened the bot's chat.
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _bot_message(self, chat: Chat, params: Params, action: str) -> SentMessage:
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request(
                "message_id is empty"
                if action == "edit"
                else "message identifier is not specified"
            )
        msg = chat.by_id.get(message_id)
        if not isinstance(msg, SentMessage) or msg.deleted:
            if action == "edit" and msg is not None and not msg.deleted:
                raise bad_request("message can't be edited")
            raise bad_request(f"message to {action} not found")
        return msg

    def _record(self, chat: Chat, msg: SentMessage) -> dict[str, Any]:
        chat.bot_messages.append(msg)
        chat.by_id[msg.message_id] = msg
        chat.transcript.append(msg)
        self.state.stats.sent_messages += 1
        self.state.touch(chat)
        return msg.to_api(chat.api_chat())

    # -- service methods -------------------------------------------------------------------

    async def get_me(self, params: Params) -> Any:
        return {
            **BOT_ME,
            "supports_inline_queries": self.state.inline_mode,
            "can_read_all_group_messages": not self.state.privacy_mode,
        }

    async def log_out(self, params: Params) -> Any:
        return True

    async def close(self, params: Params) -> Any:
        return True

    async def set_webhook(self, params: Params) -> Any:
        return self.webhook.set(params)

    async def delete_webhook(self, params: Params) -> Any:
        return self.webhook.delete(bool(params.get("drop_pending_updates")))

    async def get_webhook_info(self, params: Params) -> Any:
        return self.webhook.info()

    async def set_chat_menu_button(self, params: Params) -> Any:
        return True

    async def get_updates(self, params: Params) -> Any:
        """Long polling: acknowledge by offset, then hold until updates or timeout."""
        state = self.state
        self.webhook.refuse_polling()
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            state.allowed_updates = frozenset(allowed) if allowed else None
        queue = state.updates
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
        else:
            while queue and queue[0]["update_id"] < offset:
                queue.popleft()
        state.polls += 1
        poll = state.polls
        state.updates_changed.notify()  # a waiting poll sees that it was overtaken
        deadline = time.monotonic() + timeout
        while True:
            if state.polls != poll:  # as Telegram: the newer request wins, this one ends
                raise ApiError(409, CONFLICT)
            self.webhook.refuse_polling()  # a webhook was set meanwhile
            result = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0 or self.closing:
                state.stats.updates_delivered += len(result)
                return result
            await state.updates_changed.wait(remaining)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = self.state.allowed_updates
        result: list[dict[str, Any]] = []
        for update in self.state.updates:
            if allowed is None or any(k in allowed for k in update if k != "update_id"):
                result.append(update)
                if len(result) >= limit:
                    break
        return result

    async def set_my_commands(self, params: Params) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request(
                "commands is empty" if commands is None else "can't parse commands JSON object"
            )
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        clean: list[dict[str, str]] = []
        for cmd in commands:
            name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
            desc = str(cmd.get("description", "")) if isinstance(cmd, dict) else ""
            if (
                not (1 <= len(name) <= 32)
                or not all(c.islower() or c.isdigit() or c == "_" for c in name)
                or not name.isascii()
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        self._known_scope_chat(params)
        key = (self.state.scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if clean:
            self.state.commands[key] = clean
        else:
            self.state.commands.pop(key, None)
        self.state.touch()
        return True

    async def get_my_commands(self, params: Params) -> Any:
        key = (self.state.scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return self.state.commands.get(key, [])

    async def delete_my_commands(self, params: Params) -> Any:
        self._known_scope_chat(params)
        key = (self.state.scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.state.commands.pop(key, None)
        self.state.touch()
        return True

    # -- messages --------------------------------------------------------------------------

    async def send_message(self, params: Params) -> Any:
        chat = self._writable_chat(params)
        raw = _raw_text(params)
        parse_mode, text, entities = _message_text(raw, params)
        markup = _check_markup(params.get("reply_markup"))
        self.limiter.acquire(chat.id)
        msg = SentMessage(chat.new_message_id(), chat.id, text, raw, parse_mode, entities, markup)
        return self._record(chat, msg)

    async def send_document(self, params: Params) -> Any:
        chat = self._writable_chat(params)
        doc = params.get("document")
        if doc is None or doc == "":
            raise bad_request("there is no document in the request")
        stored: StoredFile | None
        if isinstance(doc, Upload):
            if not doc.data:
                raise bad_request("file must be non-empty")
            stored = None
        else:
            stored = self.state.files.get(str(doc))
            if stored is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        raw = str(params.get("caption") or "")
        parse_mode = params.get("parse_mode") or None
        text, entities = _format(raw, parse_mode, params.get("caption_entities"))
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        markup = _check_markup(params.get("reply_markup"))
        self.limiter.acquire(chat.id)
        if stored is None:
            assert isinstance(doc, Upload)
            mime = doc.mime_type or "application/octet-stream"
            stored = self.state.store_file(doc.data, doc.file_name, mime)
        msg = SentMessage(
            chat.new_message_id(), chat.id, text, raw, parse_mode, entities, markup, file=stored
        )
        return self._record(chat, msg)

    async def edit_message_text(self, params: Params) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not emulated")
        chat = self._writable_chat(params)
        msg = self._bot_message(chat, params, "edit")
        raw = _raw_text(params)
        if msg.file is not None:
            raise bad_request("there is no text in the message to edit")
        parse_mode, text, entities = _message_text(raw, params)
        markup = _check_markup(params.get("reply_markup"))
        if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        self.limiter.acquire(chat.id)
        msg.history.append(msg.text)
        msg.text, msg.html, msg.parse_mode, msg.entities = text, raw, parse_mode, entities
        msg.reply_markup = markup
        return self._edited(chat, msg)

    async def edit_message_reply_markup(self, params: Params) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not emulated")
        chat = self._writable_chat(params)
        msg = self._bot_message(chat, params, "edit")
        markup = _check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        self.limiter.acquire(chat.id)
        msg.reply_markup = markup
        return self._edited(chat, msg)

    def _edited(self, chat: Chat, msg: SentMessage) -> dict[str, Any]:
        msg.edits += 1
        msg.edited_at = time.time()
        self.state.stats.edited_messages += 1
        self.state.touch(chat)
        return msg.to_api(chat.api_chat())

    async def delete_message(self, params: Params) -> Any:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.by_id.get(message_id)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        msg.deleted = True
        self.state.stats.deleted_messages += 1
        self.state.touch(chat)
        return True

    async def send_chat_action(self, params: Params) -> Any:
        chat = self._writable_chat(params)
        action = params.get("action")
        if not action:
            raise bad_request("action is empty")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.chat_actions.append(str(action))
        self.state.touch(chat)
        return True

    async def answer_callback_query(self, params: Params) -> Any:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise bad_request("callback_query_id is empty")
        future = self.state.pending_callbacks.pop(str(query_id), None)
        if future is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER:
            self.state.pending_callbacks[str(query_id)] = future
            raise bad_request("MESSAGE_TOO_LONG")
        if not future.done():
            future.set_result(
                CallbackAnswer(
                    str(text) if text else None, bool(params.get("show_alert")), params.get("url")
                )
            )
        self.state.stats.callback_answers += 1
        self.state.touch()
        return True

    async def get_file(self, params: Params) -> Any:
        file_id = params.get("file_id")
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.state.files.get(str(file_id))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # -- groups ----------------------------------------------------------------------------

    def _user_id(self, params: Params) -> int:
        user_id = params.get("user_id")
        if user_id is None or user_id == "":
            raise bad_request("user_id is empty")  # PTB always sends one
        if not isinstance(user_id, int):
            raise bad_request("wrong parameter user_id")
        return user_id

    async def get_chat(self, params: Params) -> Any:
        chat = self._chat(params)
        full = {**chat.api_chat(), "accent_color_id": 0, "max_reaction_count": 11}
        if isinstance(chat, GroupChat) and chat.pinned:
            pinned = chat.by_id.get(chat.pinned[-1])
            if isinstance(pinned, SentMessage):
                full["pinned_message"] = pinned.to_api(chat.api_chat())
        return full

    async def get_chat_member(self, params: Params) -> Any:
        chat = self._chat(params)
        user_id = self._user_id(params)
        if isinstance(chat, GroupChat):
            member = chat.member(user_id)
            if member is not None:
                return member.to_api()
            known = self.state.chats.get(user_id)
            if known is None or isinstance(known, GroupChat):
                raise bad_request("user not found")
            return {"status": "left", "user": known.user}
        if user_id == chat.id:
            return {"status": "member", "user": chat.user}
        if user_id == BOT_USER["id"]:
            return {"status": "member", "user": BOT_USER}
        raise bad_request("user not found")

    async def get_chat_administrators(self, params: Params) -> Any:
        chat = self._chat(params)
        if not isinstance(chat, GroupChat):
            return []  # Telegram: "there are no administrators in the private chat"
        return [m.to_api() for m in chat.members.values() if m.is_admin]

    async def get_chat_member_count(self, params: Params) -> Any:
        chat = self._chat(params)
        if not isinstance(chat, GroupChat):
            return 2
        return sum(1 for m in chat.members.values() if m.is_member)

    async def pin_chat_message(self, params: Params) -> Any:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if isinstance(chat, GroupChat) and not chat.bot_member.can("can_pin_messages"):
            raise bad_request("not enough rights to pin a message")
        msg = chat.by_id.get(message_id)
        if msg is None or msg.deleted:
            raise bad_request("message to pin not found")
        if isinstance(chat, GroupChat):
            if message_id in chat.pinned:
                chat.pinned.remove(message_id)
            chat.pinned.append(message_id)
        self.state.touch(chat)
        return True

    async def unpin_chat_message(self, params: Params) -> Any:
        chat = self._chat(params)
        if not isinstance(chat, GroupChat):
            return True
        if not chat.bot_member.can("can_pin_messages"):
            raise ApiError(400, NO_RIGHTS_TO_UNPIN)
        message_id = params.get("message_id")
        if message_id is None:  # the most recently pinned one
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        else:
            raise bad_request("message to unpin not found")
        self.state.touch(chat)
        return True

    async def leave_chat(self, params: Params) -> Any:
        chat = self._chat(params)
        if not isinstance(chat, GroupChat):
            raise bad_request("chat member status can't be changed in private chats")
        old, new = chat.set_member(BOT_USER, "left")
        self.state.my_chat_member(chat, BOT_USER, old, new)
        self.state.touch(chat)
        return True

    async def answer_inline_query(self, params: Params) -> Any:
        query_id = params.get("inline_query_id")
        if not query_id:
            raise bad_request("inline_query_id is empty")
        pending = self.state.pending_inline.get(str(query_id))
        if pending is None:
            raise bad_request(QUERY_TOO_OLD)
        results = _check_inline_results(params.get("results"))
        next_offset = str(params.get("next_offset") or "")
        if len(next_offset.encode("utf-8")) > MAX_NEXT_OFFSET:
            raise bad_request("NEXT_OFFSET_INVALID")
        button = params.get("button") or None
        if button is not None:
            _check_results_button(button)
        cache_time = params.get("cache_time")
        if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
            raise bad_request("wrong parameter cache_time")
        del self.state.pending_inline[str(query_id)]
        answer = InlineAnswer(
            str(query_id),
            pending.query,
            results,
            300 if cache_time is None else cache_time,
            bool(params.get("is_personal")),
            next_offset,
            button,
        )
        if not pending.future.done():
            pending.future.set_result(answer)
        self.state.stats.inline_answers += 1
        self.state.touch()
        return True


def _check_inline_results(results: Any) -> list[dict[str, Any]]:
    """The results of answerInlineQuery, checked as Telegram checks them."""
    if results is None or results == "":
        raise bad_request("results is empty")  # an empty list "[]" is a valid answer
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result JSON object")
        if result.get("type") not in RESULT_TYPES:
            raise bad_request("RESULT_TYPE_INVALID")
        result_id = str(result.get("id") or "")
        if not 1 <= len(result_id.encode("utf-8")) <= MAX_RESULT_ID:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if result["type"] == "article":
            if not str(result.get("title") or "").strip():
                raise bad_request("ARTICLE_TITLE_EMPTY")
            content = result.get("input_message_content")
            if not isinstance(content, dict):
                raise bad_request("can't parse InputMessageContent: field is required")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            raw = str(content.get("message_text") or "")
            if not raw:
                raise bad_request("MESSAGE_EMPTY")
            text, _ = _format(raw, content.get("parse_mode"), content.get("entities"))
            if not text.strip():
                raise bad_request("MESSAGE_EMPTY")
            if utf16_len(text) > MAX_TEXT:
                raise bad_request("MESSAGE_TOO_LONG")
            preview = content.get("link_preview_options")
            if preview is not None and not isinstance(preview, dict):
                raise bad_request("can't parse link preview options JSON object")
        markup = result.get("reply_markup")
        if markup is not None and (
            not isinstance(markup, dict) or "inline_keyboard" not in markup
        ):
            raise bad_request("REPLY_MARKUP_INVALID")  # only inline keyboards come with results
        _check_markup(markup)
    return results


def _check_results_button(button: Any) -> None:
    """The button above the results: a text and either a web app or a start parameter."""
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    start = button.get("start_parameter")
    if start is None and "web_app" not in button:
        raise bad_request("can't parse InlineQueryResultsButton: start_parameter is required")
    if start is not None and not _START_PARAMETER.fullmatch(str(start)):
        raise bad_request("START_PARAM_INVALID")

"""Simulated Telegram users: what a test does with its thumbs, and what it sees."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from .html import parse_html, utf16_len
from .state import (
    BOT_USER,
    CallbackAnswer,
    Chat,
    InlineAnswer,
    PendingInline,
    SentMessage,
    State,
    UserMessage,
)

__all__ = ["ChatView", "SimUser", "text_entities"]

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile("@" + BOT_USER["username"] + r"\b")
MAX_INLINE_QUERY = 256  # characters a client sends of what follows "@bot "


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities a client gives a typed text: a leading /command (bare or addressed to this
    bot) and mentions of this bot."""
    entities: list[dict[str, Any]] = []
    match = _COMMAND_RE.match(text)
    if match and ("@" not in match.group() or match.group().endswith("@" + BOT_USER["username"])):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(match.group())})
    for mention in _MENTION_RE.finditer(text):
        if mention.start() == 0 or not text[mention.start() - 1].isalnum():
            offset = utf16_len(text[: mention.start()])
            entities.append(
                {"type": "mention", "offset": offset, "length": utf16_len(mention.group())}
            )
    return entities


class ChatView:
    """What one side sees of a chat: the bot's messages, received one by one."""

    def __init__(self, state: State, chat: Chat) -> None:
        self._state = state
        self.chat = chat
        self._cursor = 0  # index into chat.bot_messages of the next message to receive

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this chat, in its current state."""
        return list(self.chat.bot_messages)

    # -- observing -------------------------------------------------------------------------

    async def receive(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next bot message this user has not received yet (waits for it)."""
        deadline = time.monotonic() + timeout
        while self._cursor >= len(self.chat.bot_messages):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.chat.changed.wait(remaining):
                if self._cursor < len(self.chat.bot_messages):
                    break
                raise AssertionError(
                    f"{self!r} received no new message within {timeout}s\n{self.chat.dump()}"
                )
        message = self.chat.bot_messages[self._cursor]
        self._cursor += 1
        return message

    async def receive_many(self, count: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """The next ``count`` new bot messages, all within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        received: list[SentMessage] = []
        for _ in range(count):
            try:
                received.append(await self.receive(max(deadline - time.monotonic(), 0.0)))
            except AssertionError as exc:
                raise AssertionError(
                    f"expected {count} messages within {timeout}s, got {len(received)}\n{exc}"
                ) from None
        return received

    async def expect_silence(self, seconds: float = 0.3) -> None:
        """Assert that the bot sends nothing new for ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            if self._cursor < len(self.chat.bot_messages):
                unexpected = "\n".join(str(m) for m in self.chat.bot_messages[self._cursor :])
                raise AssertionError(f"{self!r} expected silence but got:\n{unexpected}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await self.chat.changed.wait(remaining)

    async def _tap(
        self,
        user: dict[str, Any],
        message: SentMessage | int,
        button: str,
        timeout: float,  # noqa: ASYNC109
        *,
        crafted: str | None = None,
    ) -> CallbackAnswer:
        """``user`` presses a button under a bot message of this chat: the callback query
        Telegram sends, and the bot's answer to it."""
        message_id = message if isinstance(message, int) else message.message_id
        current = self.chat.by_id.get(message_id)
        if not isinstance(current, SentMessage):
            raise AssertionError(f"no bot message #{message_id} to tap\n{self.chat.dump()}")
        if current.deleted:
            raise AssertionError(f"message #{message_id} was deleted\n{current}")
        found = current.find_button(button)
        if found is None:
            labels = [b.text for row in current.buttons for b in row]
            raise AssertionError(
                f"no button {button!r} in message #{message_id}; buttons: {labels}\n{current}"
            )
        if found.callback_data is None:
            raise AssertionError(f"button {button!r} has no callback_data ({found})")
        query_id = self._state.new_callback_id()
        future: asyncio.Future[CallbackAnswer] = asyncio.get_running_loop().create_future()
        self._state.pending_callbacks[query_id] = future
        self._state.enqueue_update(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": current.to_api(self.chat.api_chat()),
                "chat_instance": f"-{abs(self.chat.id)}",
                "data": found.callback_data if crafted is None else crafted,
            },
        )
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no answerCallbackQuery within {timeout}s after tapping {button!r} "
                f"on #{message_id}\n{self.chat.dump()}"
            ) from None


class SimUser(ChatView):
    """One user in a private chat with the bot; create it with ``Emulator.user()``."""

    def __init__(self, state: State, chat: Chat) -> None:
        super().__init__(state, chat)
        self.last_inline: InlineAnswer | None = None  # what the control API's choose picks from

    @property
    def id(self) -> int:
        """The user id (also the private chat id)."""
        return self.chat.id

    @property
    def user(self) -> dict[str, Any]:
        """The Bot API User object."""
        return self.chat.user

    @property
    def other_chat(self) -> Chat:
        """The chat (with a friend) this user types ``@bot ...`` in; the bot is no member."""
        return self._state.other_chat(self.id)

    @property
    def chat_actions(self) -> list[str]:
        """Chat actions (``typing``...) the bot sent to this chat."""
        return list(self.chat.chat_actions)

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.user.get('first_name')!r})"

    # -- acting ----------------------------------------------------------------------------

    def _new_message(self, text: str | None, file_name: str | None = None) -> dict[str, Any]:
        chat = self.chat
        record = UserMessage(chat.new_message_id(), text, file_name)
        chat.by_id[record.message_id] = record
        chat.transcript.append(record)
        return {
            "message_id": record.message_id,
            "from": self.user,
            "chat": chat.api_chat(),
            "date": int(time.time()),
        }

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; a leading /command gets its bot_command entity."""
        message = self._new_message(text)
        message["text"] = text
        entities = [e for e in text_entities(text) if e["type"] == "bot_command"]
        if entities:
            message["entities"] = entities
        self.chat.started = True
        self._state.enqueue_update("message", message)
        self._state.touch(self.chat)
        return message

    async def upload(
        self,
        file_name: str,
        data: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a document; it is stored so the bot can getFile and download it."""
        stored = self._state.store_file(data, file_name, mime_type)
        message = self._new_message(caption, file_name)
        message["document"] = stored.document()
        if caption:
            message["caption"] = caption
        self.chat.started = True
        self._state.enqueue_update("message", message)
        self._state.touch(self.chat)
        return message

    async def tap(
        self,
        message: SentMessage | int,
        button: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        crafted: str | None = None,
    ) -> CallbackAnswer:
        """Press an inline button (by text, else callback_data); return the bot's answer.

        ``crafted``: a modified client sends this callback data instead of the button's.
        """
        return await self._tap(self.user, message, button, timeout, crafted=crafted)

    async def inline(
        self,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "private",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InlineAnswer:
        """Type ``@bot query`` in the other chat: send an ``inline_query`` update and return
        the bot's answerInlineQuery. Past ``timeout`` the query expires, as at Telegram (a late
        answer gets 400)."""
        if not self._state.inline_mode:
            raise AssertionError(
                f"@{BOT_USER['username']} has inline mode off (@BotFather /setinline): "
                "Telegram sends it no inline_query"
            )
        query = query[:MAX_INLINE_QUERY]
        query_id = self._state.new_inline_query_id()
        future: asyncio.Future[InlineAnswer] = asyncio.get_running_loop().create_future()
        self._state.pending_inline[query_id] = PendingInline(query, future)
        self._state.enqueue_update(
            "inline_query",
            {
                "id": query_id,
                "from": self.user,
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            },
        )
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._state.pending_inline.pop(query_id, None)
            raise AssertionError(
                f"no answerInlineQuery within {timeout}s for {self!r}'s inline query "
                f"{query!r}\n{self.chat.dump()}"
            ) from None
        self.last_inline = answer
        return answer

    async def choose(self, answer: InlineAnswer, index: int = 0) -> SentMessage:
        """Tap result ``index``: post its input_message_content (with its keyboard) into the
        other chat as this user's message ``via_bot``; with inline feedback on (@BotFather
        /setinlinefeedback) the bot gets a ``chosen_inline_result``."""
        if not 0 <= index < len(answer.results):
            raise AssertionError(
                f"no inline result #{index}; the answer has {len(answer.results)}: "
                f"{[r.get('title') for r in answer.results]}"
            )
        result = answer.results[index]
        content = result.get("input_message_content")
        if not isinstance(content, dict) or "message_text" not in content:
            raise AssertionError(f"only text results are emulated, not {result}")
        raw = str(content["message_text"])
        parse_mode = content.get("parse_mode") or None
        if (parse_mode or "").lower() == "html":
            text, entities = parse_html(raw)
        else:
            text, entities = raw, list(content.get("entities") or [])
        markup = result.get("reply_markup")
        chat = self.other_chat
        posted = SentMessage(
            chat.new_message_id(),
            chat.id,
            text,
            raw,
            parse_mode,
            entities,
            markup,
            from_user=self.user,
            via_bot=BOT_USER,
        )
        chat.bot_messages.append(posted)
        chat.by_id[posted.message_id] = posted
        chat.transcript.append(posted)
        if self._state.inline_feedback:
            chosen: dict[str, Any] = {
                "result_id": result["id"],
                "from": self.user,
                "query": answer.query,
            }
            if markup:  # Telegram gives an id to edit the posted message only then
                chosen["inline_message_id"] = self._state.new_inline_message_id()
            self._state.enqueue_update("chosen_inline_result", chosen)
        self._state.touch(chat)
        return posted

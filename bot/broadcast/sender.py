"""The broadcast's own lean sendMessage: pre-encoded JSON, PTB's limiter and errors.

``Bot.send_message`` encodes every body anew and builds a ``Message`` (``Message.de_json``)
from an answer the broadcast never reads; at 200 messages per second that adds up. This
sender posts through the bot's own HTTP stack (``bot.telegram_http.AiohttpRequest``, an
instance of its own with one connection per worker) and keeps what matters from PTB:

* the same rate limiter, called exactly as ``ExtBot`` calls it (as background traffic), so
  replies still go first and a 429 still pauses every sender;
* the same error classes and status mapping (``BaseRequest.post``), so the engine's handling
  of ``Forbidden``, ``BadRequest``, ``RetryAfter``, ``TimedOut`` and ``NetworkError`` holds;
* the JSON body is encoded once per text and language; only ``chat_id`` changes per recipient.

Defaults of the application do not apply here: the engine passes every option explicitly.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import BaseRateLimiter
from telegram.request import RequestData

from bot.telegram_http import CERTIFI, AiohttpRequest

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Prepared:
    """One text as a JSON body without its chat_id: ``b'{"chat_id":ID' + tail``."""

    __slots__ = ("tail",)

    def __init__(
        self, text: str, *, keyboard: InlineKeyboardMarkup | None, options: dict[str, Any]
    ) -> None:
        fields: dict[str, Any] = {"text": text, **options}
        if keyboard is not None:
            fields["reply_markup"] = keyboard.to_dict()
        self.tail = ("," + _DUMPS(fields)[1:]).encode()

    def body(self, chat_id: int) -> bytes:
        return b'{"chat_id":%d%s' % (chat_id, self.tail)


class _Body(RequestData):  # type: ignore[misc]  # final in PTB: only json_payload changes
    """A RequestData whose JSON payload is already encoded."""

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self._payload = payload

    @property
    def json_payload(self) -> bytes:
        return self._payload


class BroadcastSender:
    """``send(chat_id, prepared)``: one sendMessage, paced as background traffic."""

    def __init__(
        self,
        bot: Bot,
        *,
        connections: int,
        timeout: float = 10.0,
        proxy: str | None = None,
        ca_bundle: str = CERTIFI,
    ) -> None:
        self._url = f"{bot.base_url}/sendMessage"
        limiter = getattr(bot, "rate_limiter", None)
        self._limiter: BaseRateLimiter[Any] | None = (
            limiter if isinstance(limiter, BaseRateLimiter) else None
        )
        # One connection per worker, so a worker never waits for one (no pool timeout).
        self._request = AiohttpRequest(
            connection_pool_size=connections,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=None,
            proxy=proxy,
            ca_bundle=ca_bundle,
        )
        self._open = False

    async def close(self) -> None:
        self._open = False
        await self._request.shutdown()

    async def send(self, chat_id: int, prepared: Prepared) -> None:
        """Send, or raise the TelegramError PTB would raise for Telegram's answer."""
        if not self._open:
            await self._request.initialize()
            self._open = True
        data = _Body(prepared.body(chat_id))
        if self._limiter is None:
            await self._request.post(self._url, data)
            return
        await self._limiter.process_request(
            self._request.post,
            (self._url, data),
            {},
            "sendMessage",
            {"chat_id": chat_id},
            {"background": True},
        )

"""The broadcast's own lean sendMessage: aiohttp, pre-encoded JSON, PTB's limiter and errors.

``Bot.send_message`` costs about 2-5 ms of CPU per message here (httpx/httpcore, whose
connection pool scans every connection per request, and ``Message.de_json`` of an answer the
broadcast never reads); at 200 messages per second that is a whole core. This sender keeps
what matters from PTB and drops the rest:

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

import aiohttp
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.request import BaseRequest, RequestData

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_HEADERS = {"Content-Type": "application/json"}


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


class _Body(RequestData):
    """A RequestData whose JSON payload is already encoded."""

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self._payload = payload

    @property
    def json_payload(self) -> bytes:
        return self._payload


class _AiohttpRequest(BaseRequest):
    """A PTB request backend on aiohttp; ``post`` maps statuses to PTB's errors."""

    def __init__(self, connections: int, timeout: float) -> None:
        self._connections = connections
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return float(self._timeout.sock_read or 0)

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=self._timeout,
                json_serialize=_DUMPS,
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        body = request_data.json_payload if request_data is not None else None
        try:
            async with self._session.request(method, url, data=body, headers=_HEADERS) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut(f"broadcast request timed out: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {exc!r}") from exc


class BroadcastSender:
    """``send(chat_id, prepared)``: one sendMessage, paced as background traffic."""

    def __init__(self, bot: Bot, *, connections: int, timeout: float = 10.0) -> None:
        self._url = f"{bot.base_url}/sendMessage"
        limiter = getattr(bot, "rate_limiter", None)
        self._limiter: BaseRateLimiter[Any] | None = (
            limiter if isinstance(limiter, BaseRateLimiter) else None
        )
        self._request = _AiohttpRequest(connections, timeout)

    async def close(self) -> None:
        await self._request.shutdown()

    async def send(self, chat_id: int, prepared: Prepared) -> None:
        """Send, or raise the TelegramError PTB would raise for Telegram's answer."""
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

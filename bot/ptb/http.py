"""The bot's one HTTP stack: a python-telegram-bot request backend on aiohttp.

PTB's default backend (``HTTPXRequest``) costs 2-5 ms of CPU per call here (httpcore's
connection pool scans every connection per request); aiohttp costs about 0.3 ms. Every call
the bot makes, replies, long polling, file downloads and the broadcast, goes through
:class:`AiohttpRequest`, which behaves like ``HTTPXRequest`` where PTB can tell:

* ordinary calls are POSTed as a JSON body (``RequestData.json_payload``); calls with files
  as ``multipart/form-data`` (``json_parameters`` for the fields, ``multipart_data`` for the
  files); downloads (``BaseRequest.retrieve``) are a GET without a body;
* timeouts per call, ``BaseRequest.DEFAULT_NONE`` meaning this instance's default:
  ``connect_timeout`` for opening a connection, ``pool_timeout`` for waiting for a free one
  when ``connection_pool_size`` requests are running, ``write_timeout`` for each chunk of the
  body (``media_write_timeout`` by default for uploads), ``read_timeout`` for each read of the
  answer (aiohttp starts it once the body is written, so a long poll's
  ``timeout + read_timeout`` holds);
* every phase is bounded, also where aiohttp bounds nothing by itself: getting a connection
  (DNS, TCP, TLS and a proxy's answer to ``CONNECT``) within ``connect_timeout``, plus
  ``read_timeout`` behind a proxy, as ``HTTPXRequest`` reads the ``CONNECT`` answer;
* redirects are not followed (Telegram never redirects; captive portals and misconfigured
  proxies do): a 3xx answer reaches ``BaseRequest`` and becomes an error, as with ``HTTPXRequest``;
* TLS trust is chosen deliberately (:func:`tls_context`): certifi's bundle by default, as
  ``HTTPXRequest``, so a slim container without the system's CA certificates still works;
* timeouts raise ``TimedOut``, other transport failures ``NetworkError``; a read timeout
  (``AnswerTimedOut``) or a connection closed before the answer (``Unanswered``) say that
  the request went out and may have been acted on (``bot.ptb.errors``); statuses map to
  PTB's errors in ``BaseRequest.post`` as for any backend. aiohttp writes the request URL
  (with the token) and the proxy URL (with its password) into its exceptions: the errors
  raised here carry their text through :func:`bot.ptb.redact.redact` and no chained cause, so no
  message, log line or traceback shows a secret.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
import ssl
import time
from http import HTTPStatus
from typing import Any

import aiohttp
import certifi
from telegram.error import (
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData

from bot.ptb.errors import NOT_TELEGRAM, AnswerTimedOut, Unanswered, is_bot_api_answer
from bot.ptb.redact import proxy_secrets, redact, token_secrets

__all__ = ["CERTIFI", "SYSTEM", "AiohttpRequest", "PollingRequest", "tls_context"]

log = logging.getLogger(__name__)

# ``BaseRequest.DEFAULT_NONE`` is public; its class (``DefaultValue``) is not.
_DefaultValue = type(BaseRequest.DEFAULT_NONE)

_JSON = "application/json"
_CHUNK = 64 * 1024  # one timed write, as httpx writes a body in 64 KiB chunks
# aiohttp waits for the socket (drain) only once a request's headers and body exceed 64 KiB;
# smaller bodies are handed to the transport at once, and a timer around them is only cost.
_UNBLOCKING = 32 * 1024
# The token in a Bot API URL (``/bot<token>/method``, ``/file/bot<token>/path``).
_TOKEN_IN_URL = re.compile(r"/bot([^/]+)")
CERTIFI = "certifi"
SYSTEM = "system"
_POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* "
    "sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class _TimedBody(aiohttp.Payload):
    """Bytes written in chunks, each within ``write_timeout`` (httpx's write timeout)."""

    def __init__(self, value: bytes, content_type: str, write_timeout: float | None) -> None:
        super().__init__(value, content_type=content_type)
        self._body = value
        self._write_timeout = write_timeout

    @property
    def size(self) -> int:
        return len(self._body)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._body.decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._body

    async def write(self, writer: Any) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        body = self._body if content_length is None else self._body[:content_length]
        timeout = self._write_timeout
        if timeout is None or len(body) <= _UNBLOCKING:
            await writer.write(body)  # aiohttp buffers it whole: the write cannot wait
            return
        view = memoryview(body)
        for start in range(0, len(view), _CHUNK):
            async with asyncio.timeout(timeout):
                await writer.write(view[start : start + _CHUNK])


@functools.cache
def tls_context(ca_bundle: str) -> ssl.SSLContext:
    """The certificates the bot trusts: ``"certifi"``, ``"system"`` or a PEM bundle's path.

    certifi by default, as ``HTTPXRequest``: the same trust on every machine, also a slim
    container without ca-certificates; ``"system"`` for the operating system's store (a
    company's TLS-inspecting proxy installed there); a path for a self-hosted Bot API server's
    own CA. One context per choice, shared by every connection.
    """
    if ca_bundle == SYSTEM:
        return ssl.create_default_context()
    cafile = certifi.where() if ca_bundle == CERTIFI else ca_bundle
    return ssl.create_default_context(cafile=cafile)


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on aiohttp with ``HTTPXRequest``'s parameters and defaults.

    Use one instance per purpose, as PTB does: the bot's (``connection_pool_size=256``) and
    long polling's (``connection_pool_size=1``); the broadcast shares the bot's.
    """

    __slots__ = (
        "_ca_bundle",
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_secrets",
        "_session",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
        ca_bundle: str = CERTIFI,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._secrets = proxy_secrets(proxy)
        self._ca_bundle = ca_bundle
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which ``Bot.get_updates`` adds to the poll's timeout."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    async def initialize(self) -> None:
        """Open the session; does nothing if it is open."""
        if self._session is not None and not self._session.closed:
            return
        # The semaphore bounds the requests in flight (and so the connections) and gives the
        # pool timeout its meaning; the connector itself never makes a request wait.
        self._pool = asyncio.Semaphore(self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ssl=tls_context(self._ca_bundle)),
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": self.USER_AGENT},
        )

    async def shutdown(self) -> None:
        """Close the session; does nothing if it is closed."""
        session, self._session = self._session, None
        if session is None or session.closed:
            log.debug("This AiohttpRequest is already shut down.")
            return
        await session.close()

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """PTB's parser (its documented override point), refusing JSON that is not an object:
        a load balancer's ``[]`` or ``"bad gateway"`` would otherwise raise AttributeError
        inside PTB instead of a TelegramError."""
        data = BaseRequest.parse_json_payload(payload)
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data

    def _client_timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            # sock_connect bounds only the TCP connect; ``connect`` bounds getting the
            # connection: DNS, TCP, TLS and, behind a proxy, its answer to CONNECT, which
            # HTTPXRequest reads within the read timeout.
            whole = connect
            if whole is not None and self._proxy is not None and read is not None:
                whole += read
            timeout = aiohttp.ClientTimeout(
                total=None, connect=whole, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:  # a handful in practice: per-call values are rare
                self._timeouts[key] = timeout
        return timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``."""
        session, pool = self._session, self._pool
        if session is None or session.closed or pool is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data is not None and request_data.contains_files
        if isinstance(read_timeout, _DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, _DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, _DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, _DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout

        body: _TimedBody | None = None
        if request_data is not None:
            if files:
                body = await _multipart(request_data, write_timeout)
            else:
                body = _TimedBody(request_data.json_payload, _JSON, write_timeout)

        if pool.locked():
            try:
                async with asyncio.timeout(pool_timeout):
                    await pool.acquire()
            except TimeoutError as exc:
                raise TimedOut(_POOL_TIMEOUT_MESSAGE) from exc
        else:
            await pool.acquire()
        error: TelegramError
        try:
            async with session.request(
                method,
                url,
                data=body,
                proxy=self._proxy,
                timeout=self._client_timeout(connect_timeout, read_timeout),
                allow_redirects=False,
            ) as response:
                status, payload = response.status, await response.read()
                if not 200 <= status <= 299 and payload:
                    payload = _redact_payload(payload, self._secrets_of(url))
                return status, payload
        except TimeoutError as exc:
            # After the request was written (the read timed out) Telegram may have acted on it;
            # a connect or write timeout means it never got the whole request.
            kind = AnswerTimedOut if isinstance(exc, aiohttp.SocketTimeoutError) else TimedOut
            error = kind(f"aiohttp: {redact(repr(exc), self._secrets_of(url))}")
        except aiohttp.ServerDisconnectedError as exc:
            # The connection closed before an answer: the request may have been acted on.
            error = Unanswered(f"aiohttp.{type(exc).__name__}: {exc}")
        except Exception as exc:  # aiohttp.ClientError, or an OSError it let through
            # The class name helps when the message is empty, as PTB does for httpx.
            text = redact(str(exc), self._secrets_of(url))
            error = NetworkError(f"aiohttp.{type(exc).__name__}: {text}")
        finally:
            pool.release()
        # Raised outside the handler and without a cause: aiohttp's exception (its text, its
        # request info with the proxy's credentials) stays out of every chain and traceback.
        raise error from None

    def _secrets_of(self, url: str) -> tuple[str, ...]:
        """What an error about ``url`` must not show: its token, the proxy's password."""
        match = _TOKEN_IN_URL.search(url)
        return (*(token_secrets(match.group(1)) if match else ()), *self._secrets)


def _redact_payload(payload: bytes, secrets: tuple[str, ...]) -> bytes:
    """An error answer (PTB quotes it) without a secret, say a portal echoing the URL."""
    if not any(secret.encode() in payload for secret in secrets if secret):
        return payload
    return redact(payload.decode("utf-8", "replace"), secrets).encode()


async def _multipart(request_data: RequestData, write_timeout: float | None) -> _TimedBody:
    """``multipart/form-data`` as ``HTTPXRequest`` sends it: fields as JSON values, files."""
    form = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    for name, field in request_data.json_parameters.items():
        form.add_field(name, field)
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        # Bytes over 1 MiB would make aiohttp warn (ResourceWarning); a BytesIO does not.
        upload = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
        form.add_field(name, upload, filename=file_name, content_type=mime_type)
    writer = form()
    body = await writer.as_bytes()
    return _TimedBody(body, writer.content_type, write_timeout)


class PollingRequest(AiohttpRequest):
    """The long poll's backend: a 401 or 404 that is not Telegram's answer is a NetworkError.

    PTB maps a status to an error whatever the body, and its polling loop takes
    ``InvalidToken`` (401/404) as fatal: a proxy's or captive portal's 401/404 page for a few
    seconds would stop the bot from receiving updates for good, the process still up. Such a
    page says nothing about the token; the poll is retried like after a 5xx. (Only for
    ``getUpdates``: the backend of every other call answers as PTB's contract says.)
    """

    # When (time.monotonic()) the long poll last got Telegram's answer: /healthz reads it.
    answered_at: float | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``."""
        try:
            status, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except Exception:
            self._lost()
            raise
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND) and not is_bot_api_answer(
            payload
        ):
            self._lost()
            raise NetworkError(f"{HTTPStatus(status).phrase} ({status}), {NOT_TELEGRAM}")
        if status != HTTPStatus.OK:  # PTB raises the error for it (the error handler logs it)
            self._lost()
        else:
            if self._lost_at is not None:
                # The error handler warned at each failure; the end of the outage, once.
                log.info(
                    "Telegram reachable again: polling resumed after %.0f s of failures",
                    time.monotonic() - self._lost_at,
                )
                self._lost_at = None
            self.answered_at = time.monotonic()
        return status, payload

    # Since when (time.monotonic()) the long poll has been failing; None while it answers.
    _lost_at: float | None = None

    @property
    def failing_since(self) -> float | None:
        """Since when (monotonic) the long poll has failed without an answer in between: the
        leader of several instances hands polling over when it lasts (``bot.app._lead``)."""
        return self._lost_at

    def _lost(self) -> None:
        if self._lost_at is None:
            self._lost_at = time.monotonic()

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
* timeouts raise ``TimedOut``, other transport failures ``NetworkError``; statuses map to
  PTB's errors in ``BaseRequest.post`` as for any backend.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

log = logging.getLogger(__name__)

# ``BaseRequest.DEFAULT_NONE`` is public; its class (``DefaultValue``) is not.
_DefaultValue = type(BaseRequest.DEFAULT_NONE)

_JSON = "application/json"
_CHUNK = 64 * 1024  # one timed write, as httpx writes a body in 64 KiB chunks
# aiohttp waits for the socket (drain) only once a request's headers and body exceed 64 KiB;
# smaller bodies are handed to the transport at once, and a timer around them is only cost.
_UNBLOCKING = 32 * 1024
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


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on aiohttp with ``HTTPXRequest``'s parameters and defaults.

    Use one instance per purpose, as PTB does: the bot's (``connection_pool_size=256``) and
    long polling's (``connection_pool_size=1``); the broadcast has its own.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
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
            connector=aiohttp.TCPConnector(limit=0),
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

    def _client_timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
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
        try:
            async with session.request(
                method,
                url,
                data=body,
                proxy=self._proxy,
                timeout=self._client_timeout(connect_timeout, read_timeout),
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"aiohttp: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            # The class name helps when the message is empty, as PTB does for httpx.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        finally:
            pool.release()


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

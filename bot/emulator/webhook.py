"""Webhook delivery as Telegram does it: setWebhook, then each update POSTed to the bot.

While a webhook is set, the update queue that getUpdates reads is drained by POSTs instead
(getUpdates is refused with 409). Each update goes as a JSON body with the secret token in
``X-Telegram-Bot-Api-Secret-Token``, one at a time and in order; an answer other than 2xx, a
refused connection or a timeout keeps it at the head of the queue, noted in getWebhookInfo's
``last_error_date``/``last_error_message``, and it is tried again after a back-off doubling
from ``first_retry`` to ``max_retry`` seconds. Plain http URLs are accepted, as a self-hosted
Bot API server started with ``--local`` accepts them (Telegram's own servers want https).
Telegram may hold up to ``max_connections`` requests open; this emulator sends one at a time,
which keeps the order a test expects.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .faults import ApiError, Faults
from .params import Params
from .state import State

__all__ = ["SECRET_HEADER", "WEBHOOK_CONFLICT", "Webhook"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's answer to getUpdates while a webhook is set.
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Webhook:
    """The webhook of the emulated bot, and the task that delivers to it."""

    def __init__(
        self,
        state: State,
        faults: Faults,
        *,
        first_retry: float = 0.05,
        max_retry: float = 2.0,
        timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.faults = faults
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.timeout = timeout
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.allowed_updates: frozenset[str] | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.posts = 0  # every POST tried
        self.failures = 0  # POSTs without a 2xx answer
        self.refused: list[str] = []  # the error of each failed POST, for tests
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    # -- the Bot API methods ---------------------------------------------------------------

    def set(self, params: Params) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.delete(bool(params.get("drop_pending_updates")))
            return True
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if not parts.hostname:
            raise ApiError(400, "Bad Request: bad webhook: Failed to resolve host")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(params.get("max_connections") or 40)
        self.max_connections = min(max(connections, 1), 100)  # Telegram clamps it
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.allowed_updates = frozenset(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        self.url = url
        self.secret_token = str(secret) if secret is not None else None
        self.last_error_date = self.last_error_message = None
        self.state.updates_changed.notify()  # a waiting getUpdates ends with 409
        self._closed = False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver(), name="emulator-webhook")
        self.state.touch()
        return True

    def delete(self, drop_pending_updates: bool = False) -> bool:
        """Back to getUpdates; the updates not delivered yet wait for it (unless dropped)."""
        self.url = ""
        self.secret_token = None
        if drop_pending_updates:
            self.state.updates.clear()
        self.state.updates_changed.notify()  # the delivery task ends
        self.state.touch()
        return True

    def info(self) -> dict[str, Any]:
        """getWebhookInfo's WebhookInfo."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if self.url:
            info["max_connections"] = self.max_connections
            if self.allowed_updates is not None:
                info["allowed_updates"] = sorted(self.allowed_updates)
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    def refuse_polling(self) -> None:
        """getUpdates while a webhook is set: Telegram's 409."""
        if self.active:
            raise ApiError(409, WEBHOOK_CONFLICT)

    async def close(self) -> None:
        """Stop delivering (the emulator stops)."""
        # Also a flag: on Python 3.11 a wait_for woken as it is cancelled swallows the cancel.
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- delivery --------------------------------------------------------------------------

    def _next(self) -> dict[str, Any] | None:
        """The update at the head of the queue that the bot asked for (others are dropped,
        as Telegram does not keep updates of kinds a webhook does not take)."""
        queue = self.state.updates
        allowed = self.allowed_updates
        while queue:
            update = queue[0]
            if allowed is None or any(k in allowed for k in update if k != "update_id"):
                return update
            queue.popleft()
        return None

    async def _deliver(self) -> None:
        delay = self.first_retry
        while self.active and not self._closed:
            frozen = self.faults.frozen_until - time.monotonic()
            if frozen > 0:  # a stopped Telegram delivers nothing either
                await asyncio.sleep(frozen)
                continue
            update = self._next()
            if update is None:
                await self.state.updates_changed.wait(60.0)
                continue
            error = await self._post(update)
            if not self.active or self._closed:
                return
            if error is None:
                if self.state.updates and self.state.updates[0] is update:
                    self.state.updates.popleft()
                self.state.stats.updates_delivered += 1
                delay = self.first_retry
                self.state.touch()
                continue
            self.failures += 1
            self.refused.append(error)
            self.last_error_date, self.last_error_message = int(time.time()), error
            self.state.touch()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry)

    async def _post(self, update: dict[str, Any]) -> str | None:
        """POST one update; None once the bot took it, else Telegram's words for the error."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        headers = {"Content-Type": "application/json"}
        if self.secret_token is not None:
            headers[SECRET_HEADER] = self.secret_token
        self.posts += 1
        try:
            async with self._session.post(
                self.url, data=_DUMPS(update).encode(), headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as exc:
            return f"Connection error: {type(exc).__name__}"

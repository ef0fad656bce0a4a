"""Faults Telegram produces in production: flood limits, blocked users, errors, slowness.

Everything here is O(1) per request so the emulator stays fast with many users.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["ApiError", "Faults", "HttpFault", "InjectedError", "RateLimiter", "TokenBucket"]


class ApiError(Exception):
    """A Bot API error response: raised by method handlers, rendered by the server."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        *,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, int] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def too_many_requests(wait: float) -> ApiError:
    """Telegram's 429, with the whole seconds to wait (at least 1)."""
    retry_after = max(1, math.ceil(wait))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Consume one token; call only after wait_time() returned 0."""
        self.tokens -= 1


# Telegram's limit in one group: about 20 messages or edits per minute.
GROUP_LIMIT = (20, 60.0)
# Telegram's limits for a bot's messages overall: about 30 a second, and up to 1,000 a second
# for messages sent with ``allow_paid_broadcast`` (paid in Stars, counted apart).
FREE_RATE = 30.0
PAID_RATE = 1000.0


class RateLimiter:
    """An overall bucket plus optional per-chat buckets, like Telegram's flood control, and
    a bucket per group (negative chat id) for Telegram's per-group limit. Paid broadcast
    messages (``allow_paid_broadcast``) draw from their own overall bucket instead."""

    def __init__(
        self,
        rate: float | None = None,
        per_chat_rate: float | None = None,
        per_chat_burst: int = 3,
        group_limit: tuple[int, float] | None = GROUP_LIMIT,
        paid_rate: float | None = PAID_RATE,
    ) -> None:
        self.overall: TokenBucket | None = None
        self.paid: TokenBucket | None = None
        self.per_chat_rate: float | None = None
        self.per_chat_burst = per_chat_burst
        self.group_limit: tuple[int, float] | None = None
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}
        self.set_rate(rate)
        self.set_paid_rate(paid_rate)
        self.set_per_chat(per_chat_rate, per_chat_burst)
        self.set_group_limit(group_limit)

    def set_group_limit(self, limit: tuple[int, float] | None) -> None:
        """``(count, seconds)``: each group takes ``count`` sends or edits at once, then one
        every ``seconds / count``; None disables. Existing group buckets restart full."""
        if limit is not None and (limit[0] < 1 or limit[1] <= 0):
            raise ValueError("a group limit needs count >= 1 and seconds > 0")
        self.group_limit = limit
        self._groups.clear()

    @property
    def rate(self) -> float | None:
        """Overall messages per second, or None for unlimited."""
        return self.overall.rate if self.overall else None

    def set_rate(self, rate: float | None) -> None:
        """Replace the overall bucket (starts full); None or 0 disables it."""
        self.overall = TokenBucket(rate) if rate else None

    @property
    def paid_rate(self) -> float | None:
        """Paid broadcast messages per second, or None for unlimited."""
        return self.paid.rate if self.paid else None

    def set_paid_rate(self, rate: float | None) -> None:
        """Replace the paid messages' bucket (starts full); None or 0 disables it."""
        self.paid = TokenBucket(rate) if rate else None

    def set_per_chat(self, rate: float | None, burst: int | None = None) -> None:
        """Change the per-chat limit; existing chat buckets restart full."""
        self.per_chat_rate = rate or None
        if burst is not None:
            self.per_chat_burst = burst
        self._chats.clear()

    def acquire(self, chat_id: int, paid: bool = False) -> None:
        """Take a token from every applicable bucket or raise the 429 Telegram would; a paid
        message takes the paid bucket's instead of the overall one's."""
        overall = self.paid if paid else self.overall
        if overall is None and self.per_chat_rate is None and self.group_limit is None:
            return
        now = time.monotonic()
        wait = overall.wait_time(now) if overall else 0.0
        group_bucket: TokenBucket | None = None
        if self.group_limit is not None and chat_id < 0:
            group_bucket = self._groups.get(chat_id)
            if group_bucket is None:
                count, seconds = self.group_limit
                group_bucket = TokenBucket(count / seconds, count)
                self._groups[chat_id] = group_bucket
            wait = max(wait, group_bucket.wait_time(now))
        chat_bucket: TokenBucket | None = None
        if self.per_chat_rate is not None:
            chat_bucket = self._chats.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(self.per_chat_rate, max(1, self.per_chat_burst))
                self._chats[chat_id] = chat_bucket
            wait = max(wait, chat_bucket.wait_time(now))
        if wait > 0:
            raise too_many_requests(wait)
        if overall:
            overall.take()
        if chat_bucket:
            chat_bucket.take()
        if group_bucket:
            group_bucket.take()


@dataclass
class InjectedError:
    """One queued fault for a method, returned ``times`` more times."""

    error_code: int
    description: str
    retry_after: int | None
    times: int


def html_page(status: int, reason: str) -> str:
    """An error page as a proxy, a firewall or a load balancer in front of Telegram sends it."""
    title = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


@dataclass
class HttpFault:
    """Answers that are not the Bot API's: every call of ``methods`` (None: all), for the chats
    in ``chats`` (None: any), gets ``status`` with ``body`` until ``until`` (monotonic; None:
    until cleared)."""

    status: int
    body: str
    content_type: str
    methods: frozenset[str] | None
    until: float | None
    chats: frozenset[int] | None = None

    def applies(self, method_key: str, chat_id: Any, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.chats is not None and chat_id not in self.chats:
            return False
        return self.methods is None or method_key in self.methods


class Faults:
    """Blocked/deactivated users, injected errors, non-API answers and artificial delays."""

    def __init__(self) -> None:
        self.blocked: set[int] = set()
        self.deactivated: set[int] = set()
        self.injected: dict[str, deque[InjectedError]] = {}
        self.delays: dict[str | None, float] = {}
        self.late_answers: dict[str | None, float] = {}
        self.frozen_until = 0.0  # monotonic: calls wait until then, as behind a stopped process
        self.http_fault: HttpFault | None = None

    def http_fault_for(self, method_key: str, chat_id: Any = None) -> HttpFault | None:
        """The non-API answer this call gets, if an outage or a proxy is being played."""
        fault = self.http_fault
        if fault is None or not fault.applies(method_key, chat_id, time.monotonic()):
            return None
        return fault

    def check_chat(self, chat_id: int) -> None:
        """Raise the 403 Telegram sends for chats the bot can no longer write to."""
        if chat_id in self.deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def inject(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Queue ``times`` failures for ``method`` (case-insensitive)."""
        queue = self.injected.setdefault(method.lower(), deque())
        queue.append(InjectedError(error_code, description, retry_after, times))

    def take_injected(self, method_key: str) -> ApiError | None:
        """Pop the next injected error for this method, if any."""
        queue = self.injected.get(method_key)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        return ApiError(fault.error_code, fault.description, fault.retry_after)

    def set_delay(self, method: str | None, seconds: float) -> None:
        """Delay answers of ``method`` (None: every method); 0 removes the delay."""
        key = method.lower() if method else None
        if seconds > 0:
            self.delays[key] = seconds
        else:
            self.delays.pop(key, None)

    def delay_for(self, method_key: str) -> float:
        """The delay to apply before answering this method."""
        if not self.delays:
            return 0.0
        return self.delays.get(method_key, self.delays.get(None, 0.0))

    def set_late_answer(self, method: str | None, seconds: float) -> None:
        """Carry out ``method`` (None: every method) at once but answer ``seconds`` later, as
        a slow link does; 0 removes it."""
        key = method.lower() if method else None
        if seconds > 0:
            self.late_answers[key] = seconds
        else:
            self.late_answers.pop(key, None)

    def late_answer_for(self, method_key: str) -> float:
        """How long the answer to this method waits after the call took effect."""
        if not self.late_answers:
            return 0.0
        return self.late_answers.get(method_key, self.late_answers.get(None, 0.0))

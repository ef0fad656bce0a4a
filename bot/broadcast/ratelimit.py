"""One budget for everything the bot sends, with the user's answer ahead of any broadcast.

Telegram limits a bot's messages overall (about 30/s). Broadcasts and replies draw from the same
token bucket. A pacer hands each freed token to a waiting reply first, so someone who taps a
button during a 10,000-message broadcast waits for one token (1/rate seconds), not for the queue.
A 429 pauses every request for ``retry_after`` and the request is tried again: this limiter is
the one place that waits out Telegram's flood control, for replies and broadcasts alike. A sender
sees ``RetryAfter`` only after ``max_retries`` waits in a row for the same request. A 429 for a
request to a group is that group's limit (20 a minute): raised at once, it pauses nothing else.

With paid broadcasts (``broadcast.paid``) the bucket holds up to 1,000 a second, but only the
messages sent with ``allow_paid_broadcast`` may use more than Telegram's free rate: everything
else (replies, reminders, reports) also passes a ``free_rate`` bucket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypedDict

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.ptb.errors import retry_after_seconds

log = logging.getLogger(__name__)

# The pacer sleeps at least this long between hand-outs: at 200/s it releases the tokens of
# 10 ms (two) per wake-up instead of waking for each one. A reply waits at most this much more.
PACER_TICK = 0.01

# The methods Telegram counts against the per-bot message limit.
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)


class RateLimitArgs(TypedDict, total=False):
    """Passed as ``rate_limit_args`` by senders that may wait (broadcasts)."""

    background: bool
    # The sender paces this chat itself and handles its 429 (a group's session message:
    # Telegram's 20 per minute in one group). Its 429 is that chat's, so it pauses nothing
    # else and is raised at once, for the sender to try later.
    chat_paced: bool
    # A broadcast send whose claim (shared database) is only safe until then (on
    # ``time.monotonic()``): a wait here past it (a 429, the queue) must not end in a send,
    # since another instance may have claimed and sent the same message meanwhile.
    deadline: float
    # A broadcast message: its slot came from the whole bot's ``SharedBudget`` already.
    budgeted: bool


class DeadlinePassed(Exception):
    """A request's ``deadline`` passed while it waited here: it was not sent."""


# What background senders (broadcasts, reminders) pass: replies go first.
BACKGROUND: RateLimitArgs = {"background": True}
CHAT_PACED: RateLimitArgs = {"chat_paced": True}
# What the broadcast engine passes: background, and counted in the shared budget already.
BROADCAST: RateLimitArgs = {"background": True, "budgeted": True}


def _to_group(data: dict[str, Any]) -> bool:
    """Whether a request goes to a group (or channel): Telegram's ids for them are negative."""
    chat_id = data.get("chat_id")
    return isinstance(chat_id, int) and chat_id < 0


class PriorityRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """A token bucket of ``rate`` per second whose tokens go to interactive requests first;
    with ``free_rate``, a request that is not a paid broadcast message also takes a token of a
    second bucket at that rate, in the same order (replies still first)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        max_retries: int = 3,
        free_rate: float | None = None,
    ) -> None:
        self.rate = rate
        # A small burst keeps replies instant without ever exceeding Telegram's window.
        self.capacity = burst if burst is not None else max(1.0, rate / 20)
        self.free_rate = free_rate if free_rate is not None and free_rate < rate else None
        # A few replies at once go out at once; Telegram's own burst (a second's worth) is larger.
        self._free_capacity = max(1.0, (self.free_rate or 0) / 6)
        self._free_tokens = self._free_capacity
        self.max_retries = max_retries
        self._tokens = self.capacity
        self._stamp = 0.0
        self._paused_until = 0.0
        # Waiters, and whether each also needs a token of the free rate.
        self._interactive: deque[tuple[asyncio.Future[None], bool]] = deque()
        self._background: deque[tuple[asyncio.Future[None], bool]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._pacer: asyncio.Task[None] | None = None
        self.retries_after_429 = 0
        # Counted requests sent that no ``SharedBudget`` reserved (replies, reminders, reports):
        # a shared budget charges them to the whole bot's rate (``SharedBudget``).
        self.unbudgeted = 0
        # Told of each 429's wait (shared database: every instance's broadcasts wait too).
        self.on_flood: Callable[[float], Coroutine[Any, Any, object]] | None = None

    async def initialize(self) -> None:
        if self._pacer is not None:  # PTB initialises the bot once per owner
            return
        self._wakeup = asyncio.Event()
        self._stamp = asyncio.get_running_loop().time()
        self._pacer = asyncio.create_task(self._run(), name="uabot-rate-pacer")

    async def shutdown(self) -> None:
        if self._pacer is not None:
            self._pacer.cancel()
            await asyncio.gather(self._pacer, return_exceptions=True)
            self._pacer = None
        for waiter, _ in (*self._interactive, *self._background):
            waiter.cancel()

    def _refill(self, now: float) -> None:
        elapsed = now - self._stamp
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        if self.free_rate is not None:
            self._free_tokens = min(
                self._free_capacity, self._free_tokens + elapsed * self.free_rate
            )
        self._stamp = now

    def _take(self, free: bool) -> None:
        self._tokens -= 1
        if free:
            self._free_tokens -= 1

    async def acquire(self, background: bool = False, paid: bool = False) -> None:
        """Wait for a token; interactive callers are served before background ones, and with
        a free rate, everything but ``paid`` broadcast messages stays within it too."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._refill(now)
        free = self.free_rate is not None and not paid
        if (
            self._tokens >= 1
            and (not free or self._free_tokens >= 1)
            and now >= self._paused_until
            and not self._interactive
            and (not background or not self._background)
        ):
            self._take(free)
            return
        waiter: asyncio.Future[None] = loop.create_future()
        (self._background if background else self._interactive).append((waiter, free))
        assert self._wakeup is not None, "rate limiter used before initialize()"
        self._wakeup.set()
        await waiter

    async def _run(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._interactive and not self._background:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            now = loop.time()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            self._refill(now)
            if self._tokens < 1:
                await asyncio.sleep(max((1 - self._tokens) / self.rate, PACER_TICK))
                continue
            queue = self._interactive or self._background
            waiter, free = queue[0]
            if waiter.done():
                queue.popleft()
                continue
            if free and self._free_tokens < 1:
                assert self.free_rate is not None
                await asyncio.sleep(max((1 - self._free_tokens) / self.free_rate, PACER_TICK))
                continue
            queue.popleft()
            self._take(free)
            waiter.set_result(None)

    def pause(self, seconds: float) -> None:
        """Stop every counted request for ``seconds`` (Telegram's flood control is per bot)."""
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 0
            self._free_tokens = 0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in COUNTED_METHODS:
            return await callback(*args, **kwargs)
        background = bool(rate_limit_args and rate_limit_args.get("background"))
        if not (rate_limit_args and rate_limit_args.get("budgeted")):
            self.unbudgeted += 1
        paid = data.get("allow_paid_broadcast") is True
        if (rate_limit_args and rate_limit_args.get("chat_paced")) or _to_group(data):
            # A group's 429 is Telegram's limit for that group: it pauses nothing else (a
            # flooded group must not stall every chat); the sender sees it at once.
            await self.acquire(background, paid)
            return await callback(*args, **kwargs)
        deadline = rate_limit_args.get("deadline") if rate_limit_args else None
        for attempt in range(self.max_retries + 1):
            await self.acquire(background, paid)
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlinePassed
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                log.warning("429 from Telegram on %s: pausing %.1f s", endpoint, seconds)
                self.retries_after_429 += 1
                self.pause(seconds)
                if self.on_flood is not None:
                    try:
                        await self.on_flood(seconds)
                    except Exception:  # the local pause stands; the others see the next 429
                        log.debug("could not share the 429's wait", exc_info=True)
                if attempt == self.max_retries:
                    raise
        raise AssertionError("unreachable")


# A shared budget reserves the sends of this long at a time: at 200/s, 20 sends per UPDATE.
SHARED_WINDOW_SECONDS = 0.1

# What an instance sent outside the shared budget is charged to it only if it reserved
# within this long before (Telegram counts about a second): replies while no broadcast
# sent, however many, owe nothing.
OTHERS_WINDOW_SECONDS = 1.0

# Reserves ``count`` sends ``seconds`` long together: in how many seconds they begin.
Reserve = Callable[[int, float], Coroutine[Any, Any, float | None]]


class SharedBudget:
    """The whole bot's broadcast budget when several instances send (issue 16 §4): the
    configured rate is the sum over them. Each instance reserves the next sends of
    ``SHARED_WINDOW_SECONDS`` in the database (one UPDATE of one row, GCRA's "next free time",
    ``Broadcasts.reserve_sends``) and sends one message per reserved time, so the times of all
    instances together are ``1 / rate`` apart, however many run and however fast each is.

    A reserved time the instance missed (its event loop was busy) is still used, at once: each
    instance holds one window at most, so any second holds at most one window per instance
    more than the rate. Dropping missed times instead cost most of the budget at 1,000/s on a
    loaded machine (bench/instances.py: 298/s of 1,000 when dropped after 50 ms). The local
    ``PriorityRateLimiter`` still orders each instance's replies first.

    Replies (and reminders, reports) are not delayed by the database: each reservation also
    takes the slots of what this instance sent outside the budget since its last one
    (``others``, the limiter's ``unbudgeted``), so the broadcasts of every instance yield to
    the replies of every instance, one window late at most. Without it replies came on top
    of the whole rate per instance: two instances at 25/s with users writing 12 a second
    got 7-9 429s from Telegram's 30/s (tests/test_instances_broadcast.py), 0 with it. (A
    database slot per reply was the alternative: a round trip before every answer.) A 429
    moves the budget's next free time past its wait (``on_flood``): every instance waits."""

    def __init__(
        self, rate: float, reserve: Reserve, others: Callable[[], int] | None = None
    ) -> None:
        self.rate = rate
        self._reserve = reserve
        self._count = max(1, round(rate * SHARED_WINDOW_SECONDS))
        self._times: deque[float] = deque()  # reserved send times, on the event loop's clock
        self._lock = asyncio.Lock()
        self._others = others
        self._others_seen = others() if others is not None else 0
        self._reserved_at = -OTHERS_WINDOW_SECONDS  # on the event loop's clock

    async def wait(self) -> None:
        """Until this instance's next reserved send time."""
        loop = asyncio.get_running_loop()
        while not self._times:
            async with self._lock:
                if not self._times:
                    others = 0
                    if self._others is not None:  # sent outside the budget: theirs first
                        seen, self._others_seen = self._others_seen, self._others()
                        if loop.time() - self._reserved_at < OTHERS_WINDOW_SECONDS:
                            others = self._others_seen - seen  # (idle before: none owed)
                    self._reserved_at = loop.time()
                    slots = others + self._count
                    delay = await self._reserve(slots, slots / self.rate)
                    start = loop.time() + max(0.0, delay or 0.0)
                    self._times.extend(start + i / self.rate for i in range(others, slots))
        at = self._times.popleft()
        if at > loop.time():
            await asyncio.sleep(at - loop.time())

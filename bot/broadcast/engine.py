"""The broadcast engine: a durable outbox drained by paced workers.

Publishing writes one outbox row per recipient in one transaction; this engine sends them with
the shared ``PriorityRateLimiter`` (as background traffic, so replies go first), writes each
outcome back as soon as Telegram answers, and resumes unfinished broadcasts at start. A crash
can therefore repeat at most the messages that were in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Bot, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.actions.render import Rendered
from bot.storage import Broadcast, Outcome, Recipient, Storage

log = logging.getLogger(__name__)

# Descriptions of 400s that mean "this person cannot be reached", as Telegram words them.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")
BATCH = 500
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_429_WAITS = 10

MessagesFor = Callable[[str], Rendered]
Renderer = Callable[[Broadcast], Awaitable[MessagesFor]]
Reporter = Callable[[Broadcast], Awaitable[None]]


@dataclass
class Progress:
    """A running broadcast as /broadcasts shows it."""

    broadcast: Broadcast
    done: int
    rate: float  # messages per second in this run

    @property
    def seconds_left(self) -> float | None:
        left = self.broadcast.total - self.done
        return left / self.rate if self.rate > 0 else None


@dataclass
class _Run:
    broadcast: Broadcast
    task: asyncio.Task[None] | None = None
    done_before: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)


class BroadcastEngine:
    """Sends every unfinished broadcast, each with its own small pool of workers."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        renderers: dict[str, Renderer],
        *,
        rate: float,
        max_attempts: int = 4,
        backoff: float = 1.0,
        on_finished: Reporter | None = None,
    ) -> None:
        self._bot = bot
        self._storage = storage
        self._renderers = renderers
        # Enough requests in flight to use the whole budget at Telegram's ~100 ms latency.
        self._workers = max(4, min(64, int(rate * 0.25) + 1))
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._on_finished = on_finished
        self._runs: dict[int, _Run] = {}

    def start(self, broadcast: Broadcast) -> None:
        """Start sending ``broadcast`` unless it is already being sent."""
        if broadcast.id in self._runs or broadcast.finished:
            return
        run = _Run(broadcast)
        self._runs[broadcast.id] = run
        run.task = asyncio.create_task(self._run(run), name=f"uabot-broadcast-{broadcast.id}")

    async def start_id(self, broadcast_id: int) -> None:
        broadcast = await self._storage.broadcasts.get(broadcast_id)
        if broadcast is not None:
            self.start(broadcast)

    async def resume_all(self) -> int:
        """Start every unfinished broadcast (after a restart, or queued by ``uabot import``)."""
        unfinished = await self._storage.broadcasts.unfinished()
        for broadcast in unfinished:
            self.start(broadcast)
        return len(unfinished)

    async def stop(self) -> None:
        """Cancel the senders; what they did not confirm stays pending for the next start."""
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runs.clear()

    async def wait(self, broadcast_id: int) -> None:
        """Wait until a running broadcast is finished (tests, the CLI)."""
        run = self._runs.get(broadcast_id)
        if run is not None and run.task is not None:
            await asyncio.shield(run.task)

    def progress(self) -> list[Progress]:
        now = time.monotonic()
        return [
            Progress(
                run.broadcast,
                run.done_before + run.done,
                run.done / max(now - run.started, 1e-3),
            )
            for run in self._runs.values()
        ]

    async def _run(self, run: _Run) -> None:
        broadcast = run.broadcast
        storage = self._storage
        try:
            counts = await storage.broadcasts.progress(broadcast.id)
            run.done_before = sum(n for outcome, n in counts.items() if outcome != Outcome.PENDING)
            await storage.broadcasts.mark_started(broadcast.id, time.time())
            messages_for = await self._renderers[broadcast.kind](broadcast)
            rendered: dict[str, Rendered] = {}
            queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=self._workers * 4)

            async def produce() -> None:
                after = 0
                while batch := await storage.broadcasts.pending(broadcast.id, after, BATCH):
                    for recipient in batch:
                        await queue.put(recipient)
                    after = batch[-1].user_id
                for _ in range(self._workers):
                    await queue.put(None)

            async def work() -> None:
                while (recipient := await queue.get()) is not None:
                    message = rendered.get(recipient.language)
                    if message is None:
                        message = rendered[recipient.language] = messages_for(recipient.language)
                    outcome, attempts = await self._deliver(recipient, message)
                    await storage.broadcasts.record(
                        broadcast.id, recipient.user_id, outcome, attempts
                    )
                    if outcome is Outcome.UNREACHABLE:
                        await storage.users.mark_unreachable(recipient.user_id)
                    run.done += 1

            await asyncio.gather(produce(), *(work() for _ in range(self._workers)))
            async with storage.db.transaction():
                finished = await storage.broadcasts.finish(broadcast.id, time.time())
            log.info(
                "broadcast %s finished: %s delivered, %s unreachable, %s failed",
                broadcast.id,
                finished.delivered,
                finished.unreachable,
                finished.failed,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "broadcast %s stopped by an error; it resumes at the next start", broadcast.id
            )
            self._runs.pop(broadcast.id, None)
            return
        self._runs.pop(broadcast.id, None)
        if self._on_finished is not None:
            try:
                await self._on_finished(finished)
            except Exception:
                log.exception("could not report broadcast %s", broadcast.id)

    async def _deliver(self, recipient: Recipient, message: Rendered) -> tuple[Outcome, int]:
        """Send one recipient's message(s); the outcome and the attempts it took."""
        attempts = recipient.attempts
        waits_for_429 = 0
        while True:
            attempts += 1
            try:
                for index, text in enumerate(message.texts):
                    last = index == len(message.texts) - 1
                    await self._bot.send_message(
                        recipient.user_id,
                        text,
                        parse_mode="HTML",
                        link_preview_options=NO_PREVIEW,
                        reply_markup=message.keyboard if last else None,
                        rate_limit_args={"background": True},  # type: ignore[call-arg]
                    )
                return Outcome.DELIVERED, attempts
            except Forbidden:
                return Outcome.UNREACHABLE, attempts
            except BadRequest as exc:
                if any(gone in exc.message.lower() for gone in _GONE):
                    return Outcome.UNREACHABLE, attempts
                log.error("broadcast message refused by Telegram: %s", exc.message)
                return Outcome.FAILED, attempts
            except RetryAfter as exc:
                # The limiter already paused and retried; wait it out without spending attempts.
                waits_for_429 += 1
                if waits_for_429 > MAX_429_WAITS:
                    return Outcome.FAILED, attempts
                attempts -= 1
                await asyncio.sleep(_seconds(exc.retry_after))
            except (TimedOut, NetworkError) as exc:
                if attempts >= self._max_attempts:
                    log.warning("giving up on a recipient after %s attempts: %s", attempts, exc)
                    return Outcome.FAILED, attempts
                await asyncio.sleep(self._backoff * 2 ** (attempts - 1))


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]

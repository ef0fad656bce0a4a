"""The broadcast engine: a durable outbox drained by paced workers.

Publishing writes one outbox row per recipient in one transaction; this engine sends them with
the shared ``PriorityRateLimiter`` (as background traffic, so replies go first), writes the
outcomes back and resumes unfinished broadcasts at start.

Outcomes are group-committed: those that arrive within ``FLUSH_WINDOW`` are written in one
transaction, and a worker takes its next recipient only once its last outcome is committed.
Each worker therefore holds at most one message that may have been sent but is not yet recorded,
and a crash can repeat at most the messages in flight: one per worker, as with a write per
message, at a fraction of the cost (one transaction per window instead of one per message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.actions.render import Rendered
from bot.broadcast.sender import BroadcastSender, Prepared
from bot.storage import Broadcast, Outcome, Recipient, Storage
from bot.telegram_errors import unreachable
from bot.telegram_http import CERTIFI

log = logging.getLogger(__name__)

BATCH = 500
# What every broadcast message is sent with (the application's Defaults do not apply).
SEND_OPTIONS = {"parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
MAX_429_WAITS = 10
MAX_FAILED_RUNS = 3
# How long a finished send may wait for others to share its outcome's transaction.
FLUSH_WINDOW = 0.05

# (language, wrote a letter for the case) -> what that recipient gets
MessagesFor = Callable[[str, bool], Rendered]
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
        proxy: str | None = None,
        ca_bundle: str = CERTIFI,
    ) -> None:
        self._bot = bot
        self._proxy = proxy
        self._ca_bundle = ca_bundle
        self._storage = storage
        self._renderers = renderers
        # Enough requests in flight to use the whole budget at Telegram's ~100 ms latency.
        self._workers = max(4, min(64, int(rate * 0.25) + 1))
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._on_finished = on_finished
        self._runs: dict[int, _Run] = {}
        # Runs that failed, per broadcast: a permanent error must not restart it every 10 s.
        self._failures: dict[int, int] = {}
        self._sender: BroadcastSender | None = None

    def start(self, broadcast: Broadcast) -> None:
        """Start sending ``broadcast`` unless it is already being sent."""
        if (
            broadcast.id in self._runs
            or broadcast.finished
            or self._failures.get(broadcast.id, 0) >= MAX_FAILED_RUNS
        ):
            return
        run = _Run(broadcast)
        self._runs[broadcast.id] = run
        run.task = asyncio.create_task(self._run(run), name=f"uabot-broadcast-{broadcast.id}")

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
        await self._close_sender()

    def _sender_for_run(self) -> BroadcastSender:
        if self._sender is None:
            self._sender = BroadcastSender(
                self._bot, connections=self._workers, proxy=self._proxy, ca_bundle=self._ca_bundle
            )
        return self._sender

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.close()

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
            sender = self._sender_for_run()
            outcomes = _Outcomes(storage, broadcast.id, batch=max(1, self._workers // 2))
            prepared: dict[tuple[str, bool], list[Prepared]] = {}
            queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=self._workers * 4)

            async def produce() -> None:
                after = 0
                while batch := await storage.broadcasts.pending(
                    broadcast.id, after, BATCH, broadcast.case_number
                ):
                    for recipient in batch:
                        await queue.put(recipient)
                    after = batch[-1].user_id
                for _ in range(self._workers):
                    await queue.put(None)

            async def work() -> None:
                while (recipient := await queue.get()) is not None:
                    variant = (recipient.language, recipient.wrote)
                    parts = prepared.get(variant)
                    if parts is None:
                        parts = prepared[variant] = _prepare(messages_for(*variant))
                    outcome, attempts = await self._deliver(sender, recipient, parts)
                    await outcomes.record(recipient.user_id, outcome, attempts)
                    run.done += 1

            # A TaskGroup cancels the other workers when one fails: no sender keeps going
            # for a run that is being abandoned (and resumed later from the outbox).
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self._workers):
                    group.create_task(work())
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
            failures = self._failures.get(broadcast.id, 0) + 1
            self._failures[broadcast.id] = failures
            log.exception(
                "broadcast %s stopped by an error (%s of %s tries); %s",
                broadcast.id,
                failures,
                MAX_FAILED_RUNS,
                "it is tried again shortly"
                if failures < MAX_FAILED_RUNS
                else "it waits for the next start of the bot",
            )
            await self._forget(broadcast.id)
            return
        await self._forget(broadcast.id)
        if self._on_finished is not None:
            try:
                await self._on_finished(finished)
            except Exception:
                log.exception("could not report broadcast %s", broadcast.id)

    async def _forget(self, broadcast_id: int) -> None:
        self._runs.pop(broadcast_id, None)
        if not self._runs:
            await self._close_sender()

    async def _deliver(
        self, sender: BroadcastSender, recipient: Recipient, parts: list[Prepared]
    ) -> tuple[Outcome, int]:
        """Send one recipient's message(s); the outcome and the attempts it took."""
        attempts = recipient.attempts
        waits_for_429 = 0
        while True:
            attempts += 1
            try:
                for part in parts:
                    await sender.send(recipient.user_id, part)
                return Outcome.DELIVERED, attempts
            except (Forbidden, BadRequest) as exc:
                if unreachable(exc):
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


class _Outcomes:
    """Group commit of outcomes; ``record`` returns once the outcome is committed.

    The first outcome of a batch makes its worker the batch's writer: it waits up to
    ``FLUSH_WINDOW`` (less once ``batch`` outcomes are waiting), then writes them all in one
    transaction and wakes the others. A failed write fails every worker of the batch.
    """

    def __init__(self, storage: Storage, broadcast_id: int, *, batch: int) -> None:
        self._storage = storage
        self._broadcast_id = broadcast_id
        self._batch = batch
        self._rows: list[tuple[int, Outcome, int]] = []
        self._written: asyncio.Future[None] | None = None
        self._full = asyncio.Event()

    async def record(self, user_id: int, outcome: Outcome, attempts: int) -> None:
        self._rows.append((user_id, outcome, attempts))
        written = self._written
        if written is not None:  # a writer is collecting: wait for its commit
            if len(self._rows) >= self._batch:
                self._full.set()
            await asyncio.shield(written)
            return
        written = self._written = asyncio.get_running_loop().create_future()
        full = self._full = asyncio.Event()
        try:
            if len(self._rows) < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), FLUSH_WINDOW)
            rows, self._rows, self._written = self._rows, [], None
            storage = self._storage
            async with storage.db.transaction():
                await storage.broadcasts.record_many(self._broadcast_id, rows)
                for uid, result, _attempts in rows:
                    if result is Outcome.UNREACHABLE:
                        await storage.users.mark_unreachable(uid)
        except asyncio.CancelledError:
            written.cancel()
            raise
        except BaseException as exc:
            written.set_exception(exc)
            written.exception()  # retrieved here; the waiting workers still raise it
            raise
        written.set_result(None)


def _prepare(message: Rendered) -> list[Prepared]:
    """The message's texts as pre-encoded bodies; the buttons go on the last one."""
    last = len(message.texts) - 1
    return [
        Prepared(
            text,
            keyboard=message.keyboard if index == last else None,
            options=SEND_OPTIONS,
        )
        for index, text in enumerate(message.texts)
    ]


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]

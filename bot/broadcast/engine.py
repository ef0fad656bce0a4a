"""The broadcast engine: a durable outbox drained by paced workers, that waits out outages.

Publishing writes one outbox row per recipient in one transaction (beyond
``broadcasts.CHUNK`` the first chunk; the producer queues each next one as it nears the end,
``Broadcasts.enqueue_more``); this engine sends them
through ``BroadcastSender`` and the shared ``PriorityRateLimiter`` (as background traffic, so
replies go first), writes the outcomes back and resumes unfinished broadcasts at start.

What an answer means comes from the one classifier, ``bot.ptb.errors.classify``:

* a 429 is waited out by the rate limiter, which pauses every sender (replies too) and sends
  again; the engine sees one only when Telegram keeps refusing, and pauses as for an outage;
* a transient failure (a 5xx, a connect timeout, a refused connection, a proxy's HTML page:
  the request never reached Telegram) is about the way to Telegram, not the recipient: the
  whole broadcast pauses, probes Telegram with a back-off doubling up to
  ``max_probe_interval`` and resumes where it stopped. The probe is ``getMe``, which has no
  effect on anyone; once it answers, one pending message goes alone (half-open) and only a
  prompt answer from Telegram to it lets every worker go on and resets the back-off. Only
  ``give_up_after`` seconds after the broadcast first started are the recipients still waiting
  counted as failed;
* an unanswered send (the request went out, the read timed out: a slow link may well have
  delivered it) is at-least-once with bounded duplicates: the recipient is tried once more
  (``Outcome.UNANSWERED``, still pending), and a second unanswered send counts them as
  ``Outcome.UNCONFIRMED`` (maybe delivered), never a third copy. More than
  ``UNANSWERED_IN_A_ROW`` in a row pause the broadcast like an outage and tell the admins once;
* Telegram's own refusal is permanent, but held back by a circuit breaker (``_Breaker``) until
  it is known not to be part of a burst: more than ``BURST_IN_A_ROW`` identical refusals in a
  row, or more than ``BURST_IN_WINDOW`` of the last ``BURST_WINDOW`` outcomes, pause the
  broadcast and tell the admins, and nobody is marked.

Outcomes are committed at once by one writer task; those that finish while a commit runs form
the next batch. A worker takes its next recipient only once its delivery is committed, so a
crash repeats at most the messages in flight (one per worker; of a message in several parts,
the parts already sent). Refusals held by the breaker are simply tried again.

On a shared database (PostgreSQL, several ``uabot run``; issue 16 §4) every instance sends
every running broadcast: recipients are claimed a few at a time under a lease
(``Broadcasts.claim``) and what was not sent is given back, a round ends only once no other
instance holds any (and ``finish`` refuses, under the broadcast's row lock, while anyone
reachable is still to be sent: ``StillSending``), a claim older than half its lease is not
sent (checked again by the rate limiter before each try: a 429 waits there), an outcome
lands only on a row nobody else holds, the rate is the whole bot's, replies included
(``SharedBudget``), a pause written by one instance halts the others' rounds, and only the
instance whose ``finish`` ended the broadcast reports it (after claiming the report). On
SQLite every one of these is the one process's.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.broadcast.ratelimit import DeadlinePassed, PriorityRateLimiter, SharedBudget
from bot.broadcast.sender import BroadcastSender, Prepared
from bot.logs import about
from bot.metrics import Metrics
from bot.ptb.errors import Verdict, classify, described
from bot.ptb.text import Rendered
from bot.storage import Broadcast, Outcome, Recipient, Storage
from bot.storage.broadcasts import CLAIM_BATCH, StillSending

log = logging.getLogger(__name__)

BATCH = 500
MAX_FAILED_RUNS = 3
# The circuit breaker: identical refusals that look like a burst rather than people.
BURST_IN_A_ROW = 20
BURST_WINDOW = 100
BURST_IN_WINDOW = BURST_WINDOW // 2
# Sends in a row without Telegram's answer that make a slow link an outage (pause, tell once).
UNANSWERED_IN_A_ROW = 10
FIRST_PROBE_INTERVAL = 1.0
# A stop lets the sends in flight finish (and their outcomes commit) for at most this long.
STOP_GRACE_SECONDS = 10.0

# (language, the day they last wrote for an earlier revision of the case) -> what they get
MessagesFor = Callable[[str, date | None], Rendered]
Renderer = Callable[[Broadcast], Awaitable[MessagesFor]]
# Sends the final report to the admins it is for (None: all of them, else only those given);
# the admins it did not reach for a passing reason, with why (``Verdict.UNANSWERED``: it went
# out but Telegram's answer did not come).
Reporter = Callable[[Broadcast, frozenset[int] | None], Awaitable[dict[int, Verdict]]]
# Tells the admins that a burst of identical refusals paused a broadcast.
BurstNotifier = Callable[[Broadcast, "Burst"], Awaitable[object]]
Row = tuple[int, Outcome, int]  # user_id, outcome, attempts
_Key = tuple[Verdict, str]  # a refusal: its verdict and Telegram's words
_UNANSWERED: _Key = (Verdict.UNANSWERED, "")  # the streak of sends without an answer
_STILL_SENDABLE = (Outcome.PENDING, Outcome.UNANSWERED)  # not done: counted as to send


# At most this many broadcast messages in flight: 1,000/s (paid) while a send and the commit of
# its outcome take up to ~125 ms together; half of the bot's 256 connections (bot.ptb.http)
# stay free for replies. (64 lost a tenth of 1,000/s to the database's pauses at 1,000,000.)
MAX_WORKERS = 128


def workers_for(rate: float) -> int:
    """Enough requests in flight to use the whole budget at Telegram's ~100 ms latency (with
    room for slower answers)."""
    return max(4, min(MAX_WORKERS, int(rate * 0.25) + 1))


class _ClaimTooOld(Exception):
    """A claimed recipient's turn came late in the claim's lease: given back unsent."""


@dataclass(frozen=True)
class Burst:
    """What tripped the circuit breaker: Telegram's words and how often they came."""

    description: str
    count: int
    in_a_row: bool
    unanswered: bool = False  # sends without Telegram's answer (a slow link), not refusals


@dataclass
class Progress:
    """A running broadcast as /broadcasts shows it."""

    broadcast: Broadcast
    done: int
    rate: float  # messages per second in this run
    paused_since: float | None = None  # wall-clock time; None while it sends
    pause_reason: str | None = None
    unanswered: int = 0  # sends in this run without Telegram's answer (maybe delivered)

    @property
    def seconds_left(self) -> float | None:
        left = self.broadcast.total - self.done
        return left / self.rate if self.rate > 0 and self.paused_since is None else None


@dataclass
class _Run:
    broadcast: Broadcast
    task: asyncio.Task[None] | None = None
    done_before: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    paused_since: float | None = None
    pause_reason: str | None = None
    burst: _Key | None = None  # the refusal that paused it, if the breaker did
    probe_after: int = 0  # a probe after a burst goes to a recipient past the burst
    parts_sent: dict[int, int] = field(default_factory=dict)  # of a multi-part message
    unanswered: int = 0  # sends without Telegram's answer in this run
    told_unanswered: bool = False  # the admins know that the link is slow
    second_tries: bool = False  # this round left someone owed a second try


@dataclass(frozen=True)
class _Stop:
    """Why a round of sending stopped before the outbox was empty."""

    reason: str
    burst: Burst | None = None
    key: _Key | None = None


class BroadcastEngine:
    """Sends every unfinished broadcast, each with its own small pool of workers."""

    def __init__(
        self,
        bot: ExtBot[Any],
        storage: Storage,
        renderers: dict[str, Renderer],
        *,
        rate: float,
        paid: bool = False,
        on_finished: Reporter | None = None,
        on_burst: BurstNotifier | None = None,
        give_up_after: float = 24 * 3600.0,
        max_probe_interval: float = 300.0,
        metrics: Metrics | None = None,
        claim_lease: float = 30.0,
        claim_retry: float = 1.0,
    ) -> None:
        self._storage = storage
        # Several instances on one database (PostgreSQL): each claims its recipients for
        # ``claim_lease`` seconds, under this name, and draws on the whole bot's budget; the
        # recipients others hold are looked at again every ``claim_retry`` seconds.
        self._owner = secrets.token_hex(8)
        self._lease = claim_lease
        self._claim_retry = claim_retry
        self._budget: SharedBudget | None = None
        if storage.broadcasts.shared:
            limiter = bot.rate_limiter
            if isinstance(limiter, PriorityRateLimiter):
                # Replies come out of the whole bot's budget; a 429 stops every instance.
                limiter.on_flood = storage.broadcasts.hold_sends
                self._budget = SharedBudget(
                    rate, storage.broadcasts.reserve_sends, lambda: limiter.unbudgeted
                )
            else:
                self._budget = SharedBudget(rate, storage.broadcasts.reserve_sends)
        self._renderers = renderers
        self._workers = workers_for(rate)
        self._on_finished = on_finished
        self._on_burst = on_burst
        self._give_up_after = give_up_after
        self._max_probe_interval = max_probe_interval
        self._runs: dict[int, _Run] = {}
        self._reports: dict[int, asyncio.Task[None]] = {}
        # Runs that failed, per broadcast: a permanent error must not restart it every 10 s.
        self._failures: dict[int, int] = {}
        self._bot = bot
        self._sender = BroadcastSender(bot, paid=paid)
        # Sends in flight, and the gate a stop closes (``_in_flight``).
        self._sending = 0
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._metrics = metrics

    @property
    def workers(self) -> int:
        """Messages a broadcast has in flight at most (one per worker)."""
        return self._workers

    def start(self, broadcast: Broadcast) -> None:
        """Start sending ``broadcast`` unless it is already being sent."""
        if (
            broadcast.id in self._runs
            or broadcast.finished
            or self._failures.get(broadcast.id, 0) >= MAX_FAILED_RUNS
        ):
            return
        run = _Run(
            broadcast, paused_since=broadcast.paused_at, pause_reason=broadcast.pause_reason
        )
        self._runs[broadcast.id] = run
        run.task = asyncio.create_task(self._run(run), name=f"uabot-broadcast-{broadcast.id}")

    async def resume_all(self) -> int:
        """Start every unfinished broadcast (after a restart, or queued by ``uabot import``)
        and send the final reports that have not reached the admins yet."""
        unfinished = await self._storage.broadcasts.unfinished()
        for broadcast in unfinished:
            self.start(broadcast)
        if self._on_finished is not None:
            for broadcast in await self._storage.broadcasts.unreported():
                self._report(broadcast)
        return len(unfinished)

    @asynccontextmanager
    async def _in_flight(self) -> AsyncIterator[None]:
        """One send and the commit of its outcome: what a stop lets finish (``stop``)."""
        await self._open.wait()  # once a stop began, no new send
        self._sending += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._sending -= 1
            if not self._sending:
                self._idle.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """No new send begins; those in flight get ``grace`` seconds to finish and commit their
        outcome (a send cut short may have been delivered, and would go again at the next
        start); then the senders are cancelled, and what they did not send stays pending."""
        self._open.clear()
        if self._sending:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
            if self._sending:
                log.warning(
                    "stopping: cancelled %d broadcast send(s) still unanswered after %g s; "
                    "they go again at the next start",
                    self._sending,
                    grace,
                )
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        tasks += self._reports.values()
        reporting = list(self._reports)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runs.clear()
        self._reports.clear()
        # The reports this instance still owed: another instance (or the next start) sends
        # them now, not after the claim's lease.
        for broadcast_id in reporting:
            with suppress(Exception):
                await self._storage.broadcasts.release_report(broadcast_id, self._owner)

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
                run.paused_since,
                run.pause_reason,
                run.unanswered,
            )
            for run in self._runs.values()
        ]

    async def current_progress(self) -> list[Progress]:
        """``progress`` of the whole bot: on a shared database other instances send too, so
        what was sent is read from the outbox and the rate is that of all together."""
        progress = self.progress()
        broadcasts = self._storage.broadcasts
        if not broadcasts.shared:
            return progress
        now = time.monotonic()
        for item, run in zip(progress, list(self._runs.values()), strict=True):
            counts = await broadcasts.progress(run.broadcast.id)
            done = sum(n for outcome, n in counts.items() if outcome not in _STILL_SENDABLE)
            item.done = max(done, item.done)
            item.rate = (item.done - run.done_before) / max(now - run.started, 1e-3)
        # Those only other instances send so far (published there, not picked up here yet).
        listed = {item.broadcast.id for item in progress}
        for broadcast in await broadcasts.unfinished():
            if broadcast.id in listed:
                continue
            counts = await broadcasts.progress(broadcast.id)
            done = sum(n for outcome, n in counts.items() if outcome not in _STILL_SENDABLE)
            progress.append(
                Progress(broadcast, done, 0.0, broadcast.paused_at, broadcast.pause_reason)
            )
        return progress

    async def _run(self, run: _Run) -> None:
        broadcast = run.broadcast
        storage = self._storage
        outcomes = _Outcomes(storage, broadcast.id, self._metrics, self._owner)
        try:
            if broadcast.started_at is not None:  # resumed: what earlier runs did
                counts = await storage.broadcasts.progress(broadcast.id)
                run.done_before = sum(
                    n for outcome, n in counts.items() if outcome not in _STILL_SENDABLE
                )
            started_at = await storage.broadcasts.now()
            await storage.broadcasts.mark_started(broadcast.id, started_at)
            started_at = broadcast.started_at or started_at
            messages_for = await self._renderers[broadcast.kind](broadcast)
            prepared: dict[tuple[str, date | None], list[Prepared]] = {}

            def parts_for(recipient: Recipient) -> list[Prepared]:
                variant = (recipient.language, recipient.wrote_on)
                parts = prepared.get(variant)
                if parts is None:
                    parts = prepared[variant] = _prepare(messages_for(*variant), sender.options)
                return parts

            sender = self._sender
            breaker = _Breaker()
            interval = min(FIRST_PROBE_INTERVAL, self._max_probe_interval)
            while True:
                if run.paused_since is None or await self._probe(run, sender, parts_for, outcomes):
                    if run.paused_since is not None:
                        await self._resume(run, breaker)
                        interval = min(FIRST_PROBE_INTERVAL, self._max_probe_interval)
                    run.second_tries = False
                    stop = await self._round(run, sender, parts_for, outcomes, breaker)
                    if stop is None:
                        if run.second_tries:
                            continue  # those sent once without an answer get their last try
                        try:
                            found = await self._finish(run, breaker, outcomes)
                        except StillSending:  # another instance gave some back, or queued
                            await asyncio.sleep(self._claim_retry)
                            continue
                        break
                    await self._pause(run, stop)
                if await storage.broadcasts.now() - started_at >= self._give_up_after:
                    log.warning(
                        "broadcast %s: giving up on the recipients still waiting after %.1f h",
                        broadcast.id,
                        self._give_up_after / 3600,
                        extra=_about(broadcast),
                    )
                    while True:
                        async with storage.db.transaction():
                            await storage.broadcasts.fail_pending(broadcast.id)
                        try:
                            found = await self._finish(run, breaker, outcomes)
                        except StillSending:  # a chunk still to queue: fail it too
                            await storage.broadcasts.enqueue_more(broadcast.id)
                            continue
                        break
                    break
                await asyncio.sleep(interval)
                interval = min(interval * 2, self._max_probe_interval)
            if found is None:  # another instance finished it: it reports it
                await self._forget(broadcast.id)
                return
            finished = found
            log.info(
                "broadcast %s finished: %s delivered, %s unreachable, %s failed",
                broadcast.id,
                finished.delivered,
                finished.unreachable,
                finished.failed,
                extra=_about(broadcast),
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
                extra=_about(broadcast),
            )
            await self._forget(broadcast.id)
            return
        finally:
            await outcomes.close()
        await self._forget(broadcast.id)
        self._report(finished)

    async def _finish(self, run: _Run, breaker: _Breaker, outcomes: _Outcomes) -> Broadcast | None:
        """Commit what the breaker holds and fold the outbox; None when another instance
        finished it. ``StillSending`` (shared): recipients wait still, sending goes on."""
        for row in breaker.release_all():
            outcomes.add(row)
        await outcomes.drain()
        async with self._storage.db.transaction():
            broadcasts = self._storage.broadcasts
            return await broadcasts.finish(run.broadcast.id, await broadcasts.now())

    async def _pause(self, run: _Run, stop: _Stop) -> None:
        """Record that the broadcast waits (and since when); tell the admins about a burst."""
        broadcast = run.broadcast
        first = run.paused_since is None
        since = run.paused_since = run.paused_since or await self._storage.broadcasts.now()
        run.pause_reason = stop.reason
        run.burst = stop.key
        await self._storage.broadcasts.pause(broadcast.id, since, stop.reason)
        if first:
            log.warning(
                "broadcast %s paused: %s", broadcast.id, stop.reason, extra=_about(broadcast)
            )
        if stop.burst is not None and stop.burst.unanswered:
            if run.told_unanswered:
                return  # a slow link pauses again and again: the admins hear it once
            run.told_unanswered = True
        if stop.burst is not None and self._on_burst is not None:
            try:
                await self._on_burst(broadcast, stop.burst)
            except Exception:
                log.exception(
                    "could not tell the admins that broadcast %s paused",
                    broadcast.id,
                    extra=_about(broadcast),
                )

    async def _resume(self, run: _Run, breaker: _Breaker) -> None:
        log.warning(
            "broadcast %s resumed: Telegram answers again",
            run.broadcast.id,
            extra=_about(run.broadcast),
        )
        if run.burst is not None:
            # A message went through past the burst: its refusals are individual after all.
            breaker.trust(run.burst)
        run.paused_since = run.pause_reason = run.burst = None
        await self._storage.broadcasts.unpause(run.broadcast.id)

    async def _probe(
        self,
        run: _Run,
        sender: BroadcastSender,
        parts_for: Callable[[Recipient], list[Prepared]],
        outcomes: _Outcomes,
    ) -> bool:
        """Whether Telegram answers again: ``getMe`` (no effect on anyone), then one pending
        message alone, which must get a prompt answer (and one past a burst) before every
        worker goes on. A slow link that answers ``getMe`` but not the message stays paused."""
        broadcast = run.broadcast
        broadcasts = self._storage.broadcasts
        try:
            await self._bot.get_me()
        except TelegramError:
            return False  # this instance's own link is down, whatever the others found
        if broadcasts.shared and await broadcasts.paused_elsewhere(broadcast.id) is None:
            return True  # another instance found Telegram answering again and resumed it
        if broadcasts.shared:  # one nobody else sends to; given back unless its outcome came
            for after in (run.probe_after, 0):  # past a burst if anyone is left there
                found = await broadcasts.claim(
                    broadcast.id,
                    after,
                    1,
                    broadcast.case_number,
                    broadcast.revision,
                    owner=self._owner,
                    lease=self._lease,
                )
                if found:
                    break
            try:
                return await self._probe_with(run, sender, parts_for, outcomes, found)
            finally:
                await broadcasts.release(broadcast.id, self._owner)  # unless recorded
        pending = broadcasts.pending
        case, revision = broadcast.case_number, broadcast.revision
        found = await pending(broadcast.id, run.probe_after, 1, case, revision)
        found = found or await pending(broadcast.id, 0, 1, case, revision)
        return await self._probe_with(run, sender, parts_for, outcomes, found)

    async def _probe_with(
        self,
        run: _Run,
        sender: BroadcastSender,
        parts_for: Callable[[Recipient], list[Prepared]],
        outcomes: _Outcomes,
        found: list[Recipient],
    ) -> bool:
        """The probe's second half: one pending message alone (none left: Telegram answers)."""
        if not found:
            return True
        recipient = found[0]
        async with self._in_flight():
            error = await self._attempt(run, sender, recipient, parts_for(recipient))
            if error is None:
                await outcomes.record(
                    (recipient.user_id, Outcome.DELIVERED, recipient.attempts + 1)
                )
                run.done += 1
                return True
            verdict = classify(error)
            if verdict is Verdict.UNANSWERED:
                await outcomes.record(self._unanswered(run, recipient))
                return False
        if verdict in (Verdict.TRANSIENT, Verdict.RETRY_AFTER):
            return False
        if run.burst == (verdict, error.message):
            run.probe_after = recipient.user_id  # the next probe tries someone else
            return False
        return True  # Telegram answers with its own words: the round records them as usual

    async def _round(
        self,
        run: _Run,
        sender: BroadcastSender,
        parts_for: Callable[[Recipient], list[Prepared]],
        outcomes: _Outcomes,
        breaker: _Breaker,
    ) -> _Stop | None:
        """Send to every pending recipient; why it stopped early, or None once all are done."""
        broadcast = run.broadcast
        storage = self._storage
        broadcasts = storage.broadcasts
        # Shared: a few recipients at a time, so that every instance finds work and what one
        # claimed is sent within a second or two, well within its lease.
        limit = min(self._workers, CLAIM_BATCH) if broadcasts.shared else BATCH
        # Each recipient with when it was claimed (shared: a claim older than half its lease
        # is given back unsent rather than risk a second copy from another instance; the
        # queue holds one claim's worth, so that claims wait little in it).
        queue: asyncio.Queue[tuple[Recipient, float] | None] = asyncio.Queue(
            maxsize=limit if broadcasts.shared else self._workers * 4
        )
        stopped: list[_Stop] = []
        producer: asyncio.Task[None] | None = None

        async def produce() -> None:
            after = 0
            while True:
                batch = await broadcasts.claim(
                    broadcast.id,
                    after,
                    limit,
                    broadcast.case_number,
                    broadcast.revision,
                    owner=self._owner,
                    lease=self._lease,
                )
                claimed_at = time.monotonic()
                # Near the end of what is queued: the next chunk of a large broadcast.
                more = len(batch) < limit and await broadcasts.enqueue_more(broadcast.id)
                if not batch:
                    if more:
                        continue
                    if await broadcasts.held_elsewhere(broadcast.id, self._owner):
                        await asyncio.sleep(self._claim_retry)  # theirs, or back after a lease
                        continue
                    break
                paused = await broadcasts.paused_elsewhere(broadcast.id)
                if paused is not None:  # another instance waits for Telegram: all do
                    halt(_Stop(paused.pause_reason or ""))
                    return
                for recipient in batch:
                    if not breaker.holds(recipient.user_id):
                        await queue.put((recipient, claimed_at))
                if not broadcasts.shared:  # shared: claims come back below, claim from 0
                    after = batch[-1].user_id
            for _ in range(self._workers):
                await queue.put(None)

        def halt(stop: _Stop) -> None:
            """End the round: no new recipients; the queued ones stay pending."""
            stopped.append(stop)
            if producer is not None and producer is not asyncio.current_task():
                producer.cancel()
            while not queue.empty():
                queue.get_nowait()
            for _ in range(self._workers):
                queue.put_nowait(None)

        async def work() -> None:
            while not stopped and (item := await queue.get()) is not None:
                recipient, claimed_at = item
                try:
                    async with self._in_flight():
                        await deliver(recipient, claimed_at if broadcasts.shared else None)
                except _ClaimTooOld:
                    run.second_tries = True  # given back at the end of the round, sent in
                    # the next one

        async def deliver(recipient: Recipient, claimed_at: float | None) -> None:
            error = await self._attempt(
                run, sender, recipient, parts_for(recipient), claimed_at=claimed_at
            )
            attempts = recipient.attempts + 1
            if error is None:
                await outcomes.record((recipient.user_id, Outcome.DELIVERED, attempts))
                run.done += 1
                for row in breaker.success():
                    outcomes.add(row)
                return
            verdict = classify(error)
            if verdict is Verdict.UNANSWERED:
                # Recorded even when the round is over: it may have arrived.
                await outcomes.record(self._unanswered(run, recipient))
                if breaker.unanswered() and not stopped:
                    halt(
                        _Stop(
                            described(error)[:200],
                            Burst(described(error)[:200], UNANSWERED_IN_A_ROW, True, True),
                        )
                    )
                return
            if stopped:
                return  # the round is over: this one stays pending
            if verdict in (Verdict.TRANSIENT, Verdict.RETRY_AFTER):
                halt(_Stop(described(error)[:200]))
                return
            outcome = Outcome.UNREACHABLE if verdict is Verdict.UNREACHABLE else Outcome.FAILED
            key = (verdict, error.message)
            burst, released = breaker.failure(key, (recipient.user_id, outcome, attempts))
            for row in released:
                outcomes.add(row)
            run.done += 1
            if burst is not None:
                dropped = breaker.drop()
                run.done -= len(dropped)
                run.probe_after = max(dropped, default=run.probe_after)
                halt(_Stop(described(error)[:200], burst, key))

        # A TaskGroup cancels the other workers when one fails: no sender keeps going for a
        # round that is being abandoned (and resumed later from the outbox). A cancelled
        # producer (the round halted) is no failure.
        try:
            async with asyncio.TaskGroup() as group:
                producer = group.create_task(produce())
                for _ in range(self._workers):
                    group.create_task(work())
        finally:
            # What this instance claimed and did not send (the round halted, a send failed
            # on the way to Telegram, a claim grew old in the queue) goes back to every
            # instance at once.
            await broadcasts.release(broadcast.id, self._owner)
        await outcomes.drain()
        return stopped[0] if stopped else None

    def _unanswered(self, run: _Run, recipient: Recipient) -> Row:
        """The outcome of a send without Telegram's answer: one more try, never a third."""
        run.unanswered += 1
        if recipient.unanswered:
            run.done += 1
            return (recipient.user_id, Outcome.UNCONFIRMED, recipient.attempts + 1)
        run.second_tries = True
        return (recipient.user_id, Outcome.UNANSWERED, recipient.attempts + 1)

    async def _attempt(
        self,
        run: _Run,
        sender: BroadcastSender,
        recipient: Recipient,
        parts: list[Prepared],
        *,
        claimed_at: float | None = None,
    ) -> TelegramError | None:
        """Send one recipient's message(s) once; the error, if any.

        429s are the rate limiter's: it pauses every sender and tries again. One that still
        comes through means Telegram keeps refusing, and the round pauses as for an outage.
        """
        uid = recipient.user_id
        try:
            first = run.parts_sent.get(uid, 0)
            for index in range(first, len(parts)):
                if self._budget is not None:
                    await self._budget.wait()
                # Claimed (shared database) too long ago: sent now, it might go after the
                # lease, when another instance may have claimed and sent it too. Checked
                # here and again by the rate limiter before each try (a 429 waits there).
                deadline = (
                    claimed_at + self._lease / 2
                    if index == first and claimed_at is not None
                    else None
                )
                if deadline is not None and time.monotonic() > deadline:
                    raise _ClaimTooOld
                try:
                    await sender.send(uid, parts[index], deadline=deadline)
                except DeadlinePassed:
                    raise _ClaimTooOld from None
                if index + 1 < len(parts):
                    run.parts_sent[uid] = index + 1
        except TelegramError as exc:
            return exc
        run.parts_sent.pop(uid, None)
        return None

    def _report(self, broadcast: Broadcast) -> None:
        """Send the final report until it is delivered (a task; also after restarts)."""
        if self._on_finished is None or broadcast.id in self._reports:
            return
        task = asyncio.create_task(
            self._report_until_delivered(broadcast), name=f"uabot-report-{broadcast.id}"
        )
        self._reports[broadcast.id] = task
        task.add_done_callback(lambda _: self._reports.pop(broadcast.id, None))

    async def _report_until_delivered(self, broadcast: Broadcast) -> None:
        """Resend to the admins an outage kept it from; one whose copy went out without
        Telegram's answer (maybe delivered) gets one more copy at most, never one per retry."""
        assert self._on_finished is not None
        interval = min(FIRST_PROBE_INTERVAL, self._max_probe_interval)
        owed: frozenset[int] | None = None  # None: everyone it is for
        unanswered_once: set[int] = set()
        # Claimed before each try, for longer than the wait after it: one instance reports.
        lease = max(self._lease, 2 * self._max_probe_interval)
        while True:
            if not await self._storage.broadcasts.claim_report(broadcast.id, self._owner, lease):
                return  # another instance sends it (or sent it)
            try:
                missed = await self._on_finished(broadcast, owed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "could not report broadcast %s", broadcast.id, extra=_about(broadcast)
                )
            else:
                still: set[int] = set()
                for admin_id, verdict in missed.items():
                    if verdict is Verdict.UNANSWERED:
                        if admin_id in unanswered_once:
                            continue  # twice without an answer: counted as delivered
                        unanswered_once.add(admin_id)
                    still.add(admin_id)
                if not still:
                    broadcasts = self._storage.broadcasts
                    await broadcasts.mark_reported(broadcast.id, await broadcasts.now())
                    return
                owed = frozenset(still)
            log.warning(
                "the report of broadcast %s is tried again in %.1f s",
                broadcast.id,
                interval,
                extra=_about(broadcast),
            )
            await asyncio.sleep(interval)
            interval = min(interval * 2, self._max_probe_interval)

    async def _forget(self, broadcast_id: int) -> None:
        self._runs.pop(broadcast_id, None)


class _Breaker:
    """Holds Telegram's refusals back until they are known not to be part of a burst.

    A refusal is committed once ``BURST_WINDOW`` further outcomes passed without a burst, or
    when the broadcast finishes. A burst (more than ``BURST_IN_A_ROW`` identical refusals in
    a row, or more than ``BURST_IN_WINDOW`` in the window) drops every refusal held, so their
    recipients stay pending and nobody is marked.
    """

    def __init__(self) -> None:
        self._window: deque[tuple[_Key | None, Row | None]] = deque()
        self._counts: Counter[_Key] = Counter()
        self._held: set[int] = set()
        self._streak: tuple[_Key | None, int] = (None, 0)
        self._trusted: set[_Key] = set()

    def holds(self, user_id: int) -> bool:
        return user_id in self._held

    def trust(self, key: _Key) -> None:
        """Stop counting ``key`` as a burst: a message went through past it."""
        self._trusted.add(key)

    def success(self) -> list[Row]:
        self._streak = (None, 0)
        return self._push(None, None)

    def unanswered(self) -> bool:
        """Count a send without Telegram's answer (nothing held: it may have arrived);
        whether they came more than ``UNANSWERED_IN_A_ROW`` in a row."""
        last, count = self._streak
        self._streak = (_UNANSWERED, count + 1 if last == _UNANSWERED else 1)
        return self._streak[1] > UNANSWERED_IN_A_ROW

    def failure(self, key: _Key, row: Row) -> tuple[Burst | None, list[Row]]:
        """Hold ``row``; the burst it completes, if any, and the rows now safe to commit."""
        last, count = self._streak
        self._streak = (key, count + 1 if last == key else 1)
        if key in self._trusted:
            return None, [*self._push(None, None), row]
        self._held.add(row[0])
        released = self._push(key, row)
        in_a_row = self._streak[1]
        if in_a_row > BURST_IN_A_ROW:
            return Burst(key[1], in_a_row, True), released
        if self._counts[key] > BURST_IN_WINDOW:
            return Burst(key[1], self._counts[key], False), released
        return None, released

    def drop(self) -> set[int]:
        """Forget every held refusal (their recipients stay pending); whom they were for."""
        held = self._held
        self._window.clear()
        self._counts.clear()
        self._held = set()
        self._streak = (None, 0)
        return held

    def release_all(self) -> list[Row]:
        rows = [row for _, row in self._window if row is not None]
        self.drop()
        return rows

    def _push(self, key: _Key | None, row: Row | None) -> list[Row]:
        self._window.append((key, row))
        if key is not None:
            self._counts[key] += 1
        released: list[Row] = []
        while len(self._window) > BURST_WINDOW:
            old, old_row = self._window.popleft()
            if old is not None:
                self._counts[old] -= 1
            if old_row is not None:
                self._held.discard(old_row[0])
                released.append(old_row)
        return released


class _Outcomes:
    """Outcomes written by one writer task, at once; those that arrive meanwhile form the next
    batch. ``record`` returns once the outcome is committed; ``add`` does not wait."""

    def __init__(
        self,
        storage: Storage,
        broadcast_id: int,
        metrics: Metrics | None = None,
        owner: str = "",
    ) -> None:
        self._storage = storage
        self._owner = owner  # whose claims the outcomes end (shared database)
        self._broadcast_id = broadcast_id
        self._metrics = metrics
        self._rows: list[Row] = []
        self._committed: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    def add(self, row: Row) -> asyncio.Future[None]:
        """Queue ``row`` for the next commit; the future of that commit."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="uabot-outcomes")
        self._rows.append(row)
        if self._committed is None:
            self._committed = asyncio.get_running_loop().create_future()
        self._wake.set()
        return self._committed

    async def record(self, row: Row) -> None:
        await asyncio.shield(self.add(row))

    async def drain(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._committed is not None:
            await asyncio.shield(self._committed)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        if self._committed is not None and not self._committed.done():
            self._committed.cancel()

    async def _commit(self, rows: list[Row]) -> None:
        storage = self._storage
        record = storage.broadcasts.record_many
        if len(rows) == 1 and rows[0][1] is not Outcome.UNREACHABLE:
            # The common case at full speed: one statement, its own transaction in autocommit
            # mode, a third of the round trips to the database thread.
            recorded = await record(self._broadcast_id, rows, owner=self._owner)
        else:
            async with storage.db.transaction():
                recorded = await record(self._broadcast_id, rows, owner=self._owner)
                for uid, result, _attempts in rows:
                    if result is Outcome.UNREACHABLE:
                        await storage.users.mark_unreachable(uid)
        if recorded < len(rows):
            # Shared: another instance claimed (or recorded) them after this one's claim ran
            # out, or the broadcast finished meanwhile: their result stands, not this one's.
            log.debug(
                "broadcast %s: %d of %d outcomes came after another instance's and were dropped",
                self._broadcast_id,
                len(rows) - recorded,
                len(rows),
            )

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            rows, committed = self._rows, self._committed
            if not rows or committed is None:
                continue
            self._rows, self._committed = [], None
            try:
                await self._commit(rows)
            except asyncio.CancelledError:
                committed.cancel()
                raise
            except Exception as exc:
                committed.set_exception(exc)
                committed.exception()  # retrieved here; the waiting workers still raise it
                continue
            committed.set_result(None)
            if self._metrics is not None:  # counted once committed: the outcome is real
                self._metrics.broadcast_outcomes(outcome for _uid, outcome, _n in rows)


def _about(broadcast: Broadcast) -> dict[str, Any]:
    """The fields of the JSON log lines about ``broadcast``."""
    return about(broadcast.id, broadcast.case_number)


def _prepare(message: Rendered, options: dict[str, Any]) -> list[Prepared]:
    """The message's texts, encoded once; the buttons go on the last one."""
    last = len(message.texts) - 1
    return [
        Prepared(
            text,
            keyboard=message.keyboard if index == last else None,
            options=options,
        )
        for index, text in enumerate(message.texts)
    ]

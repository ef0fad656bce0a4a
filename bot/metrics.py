"""Health and metrics for the operator: ``/healthz`` and ``/metrics`` (``[metrics] listen``).

Each application has its own ``CollectorRegistry`` (tests run many bots in one process), so
nothing here is a module-level global. Counters are incremented where their event happens (the
update processor, the broadcast's outcome writer, the tally, the feed poll); what the database
holds (outbox, subscribers) and what the rate limiter already counts (429s) are read when
Prometheus scrapes, so they are never a copy that drifts. No label ever holds a user id, a
name or a text: only update kinds, outcomes, language codes and poll results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from telegram import Update

from bot import __version__
from bot.config import MetricsConfig
from bot.storage import Outcome, Storage
from bot.storage.db import DatabasePathError

log = logging.getLogger(__name__)

# How long the database may take to answer a health check before it counts as not answering.
DATABASE_TIMEOUT_SECONDS = 5.0
# Reply latency buckets (seconds): a reply is expected well under a second.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# uabot_feed_polls_total's results (bot/services/scheduling.py's poll_feed counts them).
FEED_POLL_RESULTS = ("ok", "unavailable")


def update_kind(update: object) -> str:
    """The update's type as Telegram names it (``message``, ``callback_query``…): bounded."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return str(kind)
    return "other"


@dataclass(frozen=True)
class _Snapshot:
    """What the database said at the latest scrape."""

    outbox_pending: int
    subscribers: dict[str, int]


class _ScrapeTime(Collector):
    """Gauges of the database (read by the scrape just before) and the limiter's 429 count."""

    def __init__(self, retries_after_429: Callable[[], int]) -> None:
        self.snapshot: _Snapshot | None = None
        self._retries_after_429 = retries_after_429

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "uabot_telegram_429",
            "Requests Telegram answered with 429 (flood control), each waited out.",
            value=self._retries_after_429(),
        )
        if self.snapshot is None:
            return
        yield GaugeMetricFamily(
            "uabot_outbox_pending",
            "Broadcast messages not sent yet (every unfinished broadcast).",
            value=self.snapshot.outbox_pending,
        )
        subscribers = GaugeMetricFamily(
            "uabot_subscribers",
            "Active subscribers (reachable, alerts on) by language.",
            labels=["language"],
        )
        for language, count in sorted(self.snapshot.subscribers.items()):
            subscribers.add_metric([language], count)
        yield subscribers


class Metrics:
    """One application's registry, its counters, and what ``/healthz`` looks at."""

    def __init__(
        self,
        retries_after_429: Callable[[], int] = lambda: 0,
        update_kinds: Iterable[str] = (),
    ) -> None:
        """``update_kinds``: those the bot asks Telegram for, shown at 0 from the start."""
        self.registry = CollectorRegistry()
        registry = self.registry
        self.updates = Counter(
            "uabot_updates", "Updates handled, by kind.", ["kind"], registry=registry
        )
        self.reply_latency = Histogram(
            "uabot_reply_latency_seconds",
            "Time from an update's dispatch to the end of its handling (replies included).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.broadcast_messages = Counter(
            "uabot_broadcast_messages",
            "Broadcast messages by outcome, as committed to the outbox.",
            ["outcome"],
            registry=registry,
        )
        self.letters_confirmed = Counter(
            "uabot_letters_confirmed",
            "Letters confirmed (new 'I sent it' taps).",
            registry=registry,
        )
        self.feed_polls = Counter(
            "uabot_feed_polls",
            "Feed polls, by result (ok, unavailable).",
            ["result"],
            registry=registry,
        )
        self.feed_problems = Counter(
            "uabot_feed_problems",
            "Feed files with a problem (reported to the admins).",
            registry=registry,
        )
        self.last_backup = Gauge(
            "uabot_last_backup_timestamp_seconds",
            "When the running bot last took its own backup ([backup]; 0: none yet), Unix time.",
            registry=registry,
        )
        self.backup_failures = Counter(
            "uabot_backup_failures",
            "The running bot's backups that failed (each logged; the admins told at the 3rd "
            "in a row).",
            registry=registry,
        )
        self.poller_leader = Gauge(
            "uabot_poller_leader",
            "1 while this instance polls Telegram (of several on one database, the leader); 0 "
            "while it stands by, and in webhook mode.",
            registry=registry,
        )
        Info("uabot_build", "The uabot version running.", registry=registry).info(
            {"version": __version__}
        )
        self._scrape_time = _ScrapeTime(retries_after_429)
        registry.register(self._scrape_time)
        self._known_labels(update_kinds)

    def _known_labels(self, update_kinds: Iterable[str]) -> None:
        """Every known label value at 0 from the start: an alert on ``rate()`` or
        ``increase()`` sees a series before its first event (Prometheus' advice)."""
        for kind in (*update_kinds, "other"):
            self.updates.labels(kind)
        for outcome in Outcome:
            if outcome is not Outcome.PENDING:  # never counted: only what the sender decided
                self.broadcast_messages.labels(outcome.name.lower())
        for result in FEED_POLL_RESULTS:
            self.feed_polls.labels(result)

    def update_handled(self, update: object, seconds: float) -> None:
        self.updates.labels(update_kind(update)).inc()
        self.reply_latency.observe(seconds)

    def broadcast_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.broadcast_messages.labels(outcome.name.lower()).inc()

    async def exposition(self, storage: Storage, staff: Iterable[int]) -> bytes:
        """The text format, with the database's gauges read now."""
        subscribers = await storage.stats.subscribers(frozenset(staff))
        self._scrape_time.snapshot = _Snapshot(
            await storage.broadcasts.pending_count(), dict(subscribers.by_language)
        )
        return generate_latest(self.registry)


# What says whether updates are being received: a problem in words, or None.
Liveness = Callable[[], str | None]


def polling_liveness(last_poll: Callable[[], float | None], stale_after: float) -> Liveness:
    """Long polling: "received" means the long poll answers, not that users write: a
    getUpdates answered within ``stale_after`` seconds (it returns after ``poll_timeout`` even
    when nobody writes)."""
    since = time.monotonic()

    def problem() -> str | None:
        last = last_poll()
        age = time.monotonic() - (last if last is not None else since)
        if age > stale_after:
            return f"no updates received: Telegram's getUpdates has not answered for {age:.0f} s"
        return None

    return problem


def webhook_liveness(serving: Callable[[], bool]) -> Liveness:
    """Webhook mode: Telegram posts only when someone writes, so silence is no fault; alive
    means the webhook server runs (whether Telegram reaches it through the reverse proxy,
    getWebhookInfo's last error tells: docs/operating.md)."""
    return lambda: None if serving() else "the webhook server is not running"


class Health:
    """``/healthz``: updates are being received (``liveness``) and the database answers."""

    def __init__(self, storage: Callable[[], Storage], liveness: Liveness) -> None:
        self._storage = storage
        self._liveness = liveness

    async def problems(self) -> list[str]:
        problems: list[str] = []
        if problem := self._liveness():
            problems.append(problem)
        try:
            await asyncio.wait_for(self._storage().db.ping(), DATABASE_TIMEOUT_SECONDS)
        except DatabasePathError as exc:  # its file deleted or replaced: the reason as it is
            problems.append(f"the database is unusable: {exc}")
        except Exception as exc:
            problems.append(f"the database does not answer ({type(exc).__name__}: {exc})")
        return problems


class MetricsServer:
    """The aiohttp server of ``/healthz`` and ``/metrics``, in the bot's event loop."""

    def __init__(
        self,
        config: MetricsConfig,
        health: Health,
        scrape: Callable[[], Awaitable[bytes]],
    ) -> None:
        self._config = config
        self._health = health
        self._scrape = scrape
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        assert self._config.listen is not None
        host, _, port = self._config.listen.rpartition(":")
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host.strip("[]"), int(port))
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("metrics: /healthz and /metrics on http://%s:%d", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = await self._health.problems()
        if problems:
            return web.Response(status=503, text="; ".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            body = await self._scrape()
        except Exception as exc:
            log.warning("metrics: the scrape failed: %s", exc)
            return web.Response(status=503, text=f"the database does not answer: {exc}\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_server(
    config: MetricsConfig,
    metrics: Metrics,
    storage: Callable[[], Storage],
    liveness: Liveness,
    staff: Iterable[int],
) -> MetricsServer | None:
    """The server ``[metrics] listen`` asks for, not started; None when it is not set."""
    if config.listen is None:
        return None
    admins = frozenset(staff)

    async def scrape() -> bytes:
        return await metrics.exposition(storage(), admins)

    return MetricsServer(config, Health(storage, liveness), scrape)

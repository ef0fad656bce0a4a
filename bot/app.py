"""The one composition root: ``build_application(config)``.

``uabot run``, the tests, the benchmarks and the sandbox all build the bot here, so what is
tested is what runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot import stops
from bot.actions.outgoing import action_renderer
from bot.broadcast.engine import BroadcastEngine, Burst
from bot.broadcast.ratelimit import PriorityRateLimiter
from bot.config import FREE_RATE_LIMIT, USER_LOCK_RETRY_SECONDS, Config, TelegramConfig
from bot.doctor import SETINLINE, host_port
from bot.doctor import where as _where
from bot.i18n import configure as configure_languages
from bot.letters import draft as drafts
from bot.metrics import Metrics, metrics_server, polling_liveness, webhook_liveness
from bot.ptb import commands
from bot.ptb.context import BotData, Context
from bot.ptb.errors import (
    Verdict,
    config_fix,
    described,
    from_telegram,
    retry_after_seconds,
    token_refusal,
)
from bot.ptb.http import AiohttpRequest, PollingRequest
from bot.ptb.persistence import SQLitePersistence, StaleWork
from bot.ptb.redact import redact
from bot.ptb.tasks import Running, TrackedUpdates
from bot.ptb.user_state import UserState
from bot.services import announcements, scheduling
from bot.services.broadcast_report import burst_notice, final_report
from bot.services.notify import notify_admins
from bot.services.sessions import live as session_live
from bot.storage import Broadcast, SharedStorage
from bot.storage.db import PollerLock
from bot.storage.instances import POLLING, Instances, webhook_mark

log = logging.getLogger(__name__)

# Opt in to PTB 23's behaviour now: durations such as RetryAfter.retry_after are timedeltas.
# Without it PTB 22 warns on every 429, and the warning would hide in production logs.
os.environ.setdefault("PTB_TIMEDELTA", "true")

UabotApp = Application

# How often the bot looks for broadcasts queued by another process (``uabot import --publish``).
BROADCAST_POLL_SECONDS = 10
# While Telegram is unreachable at start: the first wait, doubled after each try up to the last.
START_RETRY_FIRST_SECONDS = 1.0
START_RETRY_MAX_SECONDS = 60.0
# How often a start that PTB's bootstrap still retries is said (its retries log at DEBUG).
START_STALL_LOG_SECONDS = 10.0
# What the bot asks Telegram for (the tests' ``running`` and ``uabot run`` alike);
# ``my_chat_member``: the bot added to or removed from a group (handlers/groups.py).
ALLOWED_UPDATES = ("message", "callback_query", "inline_query", "my_chat_member")
# Stopping waits this long for the poller, twice: during an outage PTB's poller sleeps up to
# 30 s between tries, and its last getUpdates (confirming the handled updates) waits for the
# timeouts. Cut short, updates not yet confirmed come again at the next start, as PTB does
# when that call fails.
STOP_GRACE_SECONDS = 0.9
# From the stop on, the replies being handled and the updates already fetched or accepted
# (Telegram was told they arrived: they never come again) get this long to be answered; what
# still runs then (Telegram does not answer) is cancelled, so a stop in an outage ends.
REPLY_GRACE_SECONDS = 10.0


class ConfigMistake(Exception):
    """Telegram cannot be reached until the operator changes the config (one line, exit 2)."""


class TokenRejected(Exception):
    """Telegram's own answer to getMe says the token is wrong (401, or 404 for a bad token)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _post_init(app: UabotApp) -> None:
    """Open services before the first update, resume broadcasts, publish the command menus."""
    data: BotData = app.bot_data
    config = data.config
    # Usually open already: PTB loaded the persistence on this connection in initialize().
    data.storage = storage = await data.shared_storage.get()
    storage.claims.lease = storage.db.lease = config.instances.lease_seconds

    async def report(broadcast: Broadcast, owed: frozenset[int] | None) -> dict[int, Verdict]:
        return await report_to_admins(app, broadcast, owed)

    async def burst(broadcast: Broadcast, seen: Burst) -> None:
        await notify_admins(
            app.bot, storage, config, lambda: (burst_notice(broadcast, seen), None)
        )

    data.broadcasts = BroadcastEngine(
        app.bot,
        storage,
        {
            "action": action_renderer(storage, config, app.bot.username, lambda: data.today()),
            announcements.KIND: announcements.announcement_renderer(config),
        },
        rate=config.broadcast.messages_per_second,
        paid=config.broadcast.paid,
        on_finished=report,
        on_burst=burst,
        give_up_after=config.broadcast.give_up_after_hours * 3600,
        max_probe_interval=config.broadcast.max_probe_interval_seconds,
        metrics=data.metrics,
        claim_lease=config.broadcast.claim_lease_seconds,
        claim_retry=config.broadcast.claim_retry_seconds,
    )
    data.admin_menus_waiting = set(await commands.publish(app.bot, config, storage.admin_menus))
    # Interrupted broadcasts go on at once; the job picks up those that `uabot import
    # --publish` queues while the bot runs. (A job with first=0 would not do for the start:
    # APScheduler moves a start time that passed before the scheduler ran to the next interval.)
    await data.broadcasts.resume_all()
    outage = _DatabaseOutage()
    scheduling.jobs(app).run_repeating(
        data.running.job(outage.guard("resuming broadcasts", _resume_broadcasts)),
        interval=BROADCAST_POLL_SECONDS,
        name="resume-broadcasts",
    )
    await scheduling.schedule(app, _stale_letter(config), handlers.end_conversation)
    await session_live.resume(app)  # groups' running writing sessions: their jobs again
    if storage.claims.shared:  # several instances: this one is alive; take over dead ones' work
        every = config.instances.lease_seconds / 3
        scheduling.jobs(app).run_repeating(
            data.running.job(outage.guard("renewing this instance's claims", _instances)),
            interval=every,
            first=every,
            name="instances",
        )
    await _start_metrics(app)


def _log_started(app: UabotApp, leading: bool = True) -> None:
    """The operator's "it runs" line: said once the updates are taken (the webhook server
    listens, or the long poll runs), not before; a standby (``leading`` False) says so."""
    config: Config = app.bot_data.config
    admins = len(config.telegram.admins)
    telegram = config.telegram
    log.info(
        "started as @%s (%s): %d admin%s, database %s, languages %s (default %s)",
        app.bot.username,
        ("long polling" if leading else "standby: polling mode, another instance polls")
        if telegram.mode != "webhook"
        else f"webhook on {host_port(*telegram.listen)}{telegram.webhook_path}",
        admins,
        "" if admins == 1 else "s",
        config.storage.shown,
        ", ".join(config.i18n.languages),
        config.i18n.default_language,
    )
    if not app.bot.bot.supports_inline_queries:  # getMe's: the operator's choice, said once
        log.info("inline mode is off: %s", SETINLINE.format(bot=app.bot.username))


async def _started(app: UabotApp, starting: Awaitable[object], leading: bool = True) -> None:
    """Wait for PTB's ``start_webhook``/``start_polling``. Its bootstrap repeats the call
    ``connect`` just made (setWebhook or deleteWebhook) with retries it logs at DEBUG only:
    while a repeat keeps failing, say so every ``START_STALL_LOG_SECONDS``."""
    task = asyncio.ensure_future(starting)
    waited = 0.0
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=START_STALL_LOG_SECONDS)
            if done:
                task.result()
                break
            waited += START_STALL_LOG_SECONDS
            log.warning(
                "Telegram (%s) has not confirmed the %s for %g s (its repeat at start fails); "
                "still trying",
                _where(app.bot_data.config),
                "webhook" if app.bot_data.config.telegram.mode == "webhook" else "long polling",
                waited,
            )
    except asyncio.CancelledError:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        raise
    app.bot_data.serving = True
    _log_started(app, leading)


async def _start_metrics(app: UabotApp) -> None:
    """``[metrics] listen``: serve /healthz and /metrics; a port taken is the operator's fix."""
    server = app.bot_data.metrics_server
    if server is None:
        return
    try:
        await server.start()
    except OSError as exc:
        raise ConfigMistake(
            f"metrics.listen {app.bot_data.config.metrics.listen} cannot be served "
            f"({exc.strerror}): pick another port, or stop what uses it"
        ) from None


async def _instances(context: Context) -> None:
    """Several instances on one database: renew this one's claims, then take over the
    sessions whose instance died (its claims ran out)."""
    await context.storage.claims.renew()
    await session_live.resume(context.application)


class _DatabaseOutage:
    """The repeating jobs' runs while the database does not answer: one warning a failed run,
    not a traceback (the database is the operator's to bring back), and one line when it
    answers again. A failure while the database answers is a bug: raised as before."""

    def __init__(self) -> None:
        self.since: float | None = None

    def guard(
        self, what: str, callback: Callable[[Context], Awaitable[None]]
    ) -> Callable[[Context], Awaitable[None]]:
        @functools.wraps(callback)
        async def run(context: Context) -> None:
            try:
                await callback(context)
            except Exception as exc:
                try:
                    await context.storage.db.ping()
                except Exception:
                    self.since = self.since or time.monotonic()
                    log.warning(
                        "%s: not done, the database does not answer (%s); again at the next run",
                        what,
                        type(exc).__name__,
                    )
                    return
                raise
            if self.since is not None:
                log.info("database answers again (after %.0f s)", time.monotonic() - self.since)
                self.since = None

        return run


async def _resume_broadcasts(context: Context) -> None:
    await context.bot_data.broadcasts.resume_all()


async def _stop_broadcasts(app: UabotApp, deadline: float) -> None:
    """The broadcast engine stops with the replies, not after them: its sends in flight share
    the same deadline, so a stop takes at most ``REPLY_GRACE_SECONDS`` in all."""
    engine = getattr(app.bot_data, "broadcasts", None)
    if engine is not None:
        await engine.stop(grace=max(0.0, deadline - asyncio.get_running_loop().time()))


async def _post_shutdown(app: UabotApp) -> None:
    if app.bot_data.metrics_server is not None:  # also when the start failed after post_init
        await app.bot_data.metrics_server.stop()
    storage = getattr(app.bot_data, "storage", None)
    if storage is not None:  # after every job: what this instance claimed is free now
        try:
            await storage.claims.let_go()
        except Exception as exc:  # the database gone: the claims run out after the lease
            log.warning("claims not freed (%s): other instances take over after the lease", exc)
    await app.bot_data.shared_storage.close()


async def report_to_admins(
    app: UabotApp, broadcast: Broadcast, owed: frozenset[int] | None = None
) -> dict[int, Verdict]:
    """Send the final report to the admin who started the broadcast (or to every admin), or
    to those still ``owed`` it; whom it missed for a passing reason (the engine tries again)."""
    data: BotData = app.bot_data
    if owed is None and broadcast.requested_by is not None:
        owed = frozenset({broadcast.requested_by})
    return await notify_admins(
        app.bot, data.storage, data.config, lambda: (final_report(broadcast), None), to=owed
    )


def _stale_letter(config: Config) -> StaleWork:
    """The one rule for a letter left alone, for the load of the persisted data and the sweep."""
    timeout = config.letters.timeout_minutes * 60
    return StaleWork(
        stale=lambda data, now: drafts.abandoned(data, now, timeout),
        key=drafts.DRAFT_KEY,
        conversation=handlers.letters.CONVERSATION,
    )


def build_application(config: Config) -> UabotApp:
    """Build the bot for ``config``: services, defaults and every handler, nothing started."""
    configure_languages(config.i18n)  # the organisation's variants (de-CH, formal) from now on
    shared_storage = SharedStorage(config.storage.target)
    running = Running()  # what a stop may cut short (bot.ptb.tasks)
    # One HTTP stack for every call; the long poll's own connection also reads a proxy's
    # 401/404 page as an outage (PollingRequest), not as a rejected token.
    telegram = config.telegram
    http: dict[str, Any] = {
        "proxy": telegram.proxy,
        "ca_bundle": telegram.ca_bundle,
        "connect_timeout": telegram.connect_timeout,
        "read_timeout": telegram.read_timeout,
    }
    limiter = PriorityRateLimiter(
        config.broadcast.messages_per_second,
        free_rate=FREE_RATE_LIMIT if config.broadcast.paid else None,
    )
    polling = PollingRequest(connection_pool_size=1, **http)
    metrics = Metrics(lambda: limiter.retries_after_429, ALLOWED_UPDATES)
    persistence = SQLitePersistence(shared_storage, stale_work=_stale_letter(config))
    user_state = UserState(shared_storage, persistence, USER_LOCK_RETRY_SECONDS)
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(limiter)
        .request(AiohttpRequest(**http))
        .get_updates_request(polling)
        .persistence(persistence)
        .concurrent_updates(
            TrackedUpdates(running, handled=metrics.update_handled, scope=user_state.update)
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    app = builder.build()
    app.bot_data.config = config
    app.bot_data.shared_storage = shared_storage
    app.bot_data.running = running
    app.bot_data.metrics = metrics
    app.bot_data.poller = polling
    app.bot_data.session_pacer = session_live.new_pacer(config.sessions)
    app.bot_data.session_locks = {}
    app.bot_data.metrics_server = metrics_server(
        config.metrics,
        metrics,
        lambda: app.bot_data.storage,
        (
            webhook_liveness(
                lambda: app.bot_data.serving and app.updater is not None and app.updater.running
            )
            if config.telegram.mode == "webhook"
            else polling_liveness(
                lambda: max(
                    (t for t in (polling.answered_at, app.bot_data.standby_at) if t is not None),
                    default=None,
                ),
                config.metrics.stale_after_seconds,
            )
        ),
        config.telegram.admins,
    )
    handlers.register_all(app)
    app.bot_data.user_state = user_state
    user_state.attach(app)
    return app


@asynccontextmanager
async def running(app: UabotApp, *, poll_timeout: int = 10) -> AsyncIterator[UabotApp]:
    """Run ``app`` with long polling, or its webhook (``telegram.mode``), inside an existing
    event loop: ``uabot run``, the tests, the sandbox and the benches; PTB's ``run_polling``
    and ``run_webhook`` run the same hooks in the same order.
    """
    await app.initialize()
    lock: PollerLock | None = None  # polling mode's: held by the one instance that polls
    watch: asyncio.Task[None] | None = None
    try:
        if app.post_init:
            await app.post_init(app)
        if app.updater is None:  # build_application always has one
            raise RuntimeError("the application was built without an updater")
        telegram: TelegramConfig = app.bot_data.config.telegram
        leading = True
        if telegram.mode == "webhook":
            host, port = telegram.listen
            _count_refusals()
            # PTB's own server (tornado): it refuses (403) a request without the secret token
            # in X-Telegram-Bot-Api-Secret-Token, and sets the webhook (again, after
            # ``connect``: a 429 for the repeat is waited out by its retries).
            starting: Awaitable[object] = app.updater.start_webhook(
                listen=host,
                port=port,
                url_path=telegram.webhook_path,
                webhook_url=telegram.webhook_url,
                secret_token=telegram.secret_token,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
                # ``connect`` just set it, with its one-line errors: a failed repeat is tried
                # again, not the end of the start (``_serve`` lets a stop end the tries).
                bootstrap_retries=-1,
            )
        else:
            instances = app.bot_data.config.instances
            lock = app.bot_data.storage.db.poller_lock(instances.lease_seconds)
            leading = await lock.acquire()  # always on SQLite (one instance)
            starting = _start_polling(app, poll_timeout) if leading else asyncio.sleep(0)
        _set_leader(app, leading and telegram.mode != "webhook")
        await _started(app, starting, leading)
        await app.start()
        if lock is not None and app.bot_data.storage.db.shared:
            watch = asyncio.create_task(_lead(app, lock, leading, poll_timeout))
        yield app
    finally:
        if watch is not None:
            watch.cancel()
            with suppress(asyncio.CancelledError):
                await watch
        deadline = asyncio.get_running_loop().time() + REPLY_GRACE_SECONDS
        if app.updater and app.updater.running:
            await _stop_updater(app)
        if lock is not None:  # polling stopped: a standby polls now, not after the replies
            await lock.release()
        if app.running:
            await asyncio.gather(_stop_app(app, deadline), _stop_broadcasts(app, deadline))
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def _start_polling(app: UabotApp, poll_timeout: int) -> Awaitable[object]:
    assert app.updater is not None
    # Its bootstrap calls deleteWebhook again (``connect`` did, with its one-line errors): a
    # failed repeat is tried again, not the end of the start.
    return app.updater.start_polling(
        timeout=poll_timeout,
        poll_interval=0,
        bootstrap_retries=-1,
        allowed_updates=list(ALLOWED_UPDATES),
        # As run_polling: polling errors go to the error handler (handlers/errors.py).
        error_callback=lambda error: _polling_error(app, error),
    )


STANDBY = "standby: another instance polls"
# A leader whose long poll has failed this many ``instances.lease_seconds`` (Telegram
# unreachable from its host, the database fine) gives the poller lock up for another instance.
HANDOVER_LEASES = 3


async def _lead(app: UabotApp, lock: PollerLock, leading: bool, poll_timeout: int) -> None:
    """Several instances on one database (issue 16 §4): the one holding the poller lock
    polls (two pollers would end each other's getUpdates with 409), the others stand by and
    try every ``instances.standby_retry_seconds``; one that loses its database connection
    (its lock with it) stops polling, since another may poll now; one whose polling fails
    for ``HANDOVER_LEASES`` leases lets the lock go and waits as long before it tries again."""
    data: BotData = app.bot_data
    instances = data.config.instances
    retry = instances.standby_retry_seconds
    # The leader speaks on its lock session well within the lease: the server ends a session
    # quiet for a lease (a frozen holder's), and must not end a live leader's.
    check = min(retry, instances.lease_seconds / 3)
    log.info("polling (leader): other instances stand by" if leading else STANDBY)
    lead = _Lead(time.monotonic() if leading else None)
    while True:
        if lead.since is None:
            data.standby_at = time.monotonic()
        await asyncio.sleep(check if leading else retry)
        try:
            await _lead_once(app, lock, lead, poll_timeout)
        except Exception as exc:  # an unforeseen failure must not end the watch silently
            log.warning("polling leadership not checked (%s); again in %g s", exc, retry)


class _Lead:
    """The poller lock's watch: since when this instance polls (None: standby), and until
    when it leaves the lock to the others after it handed polling over."""

    def __init__(self, since: float | None) -> None:
        self.since = since
        self.resting_until = 0.0


async def _lead_once(app: UabotApp, lock: PollerLock, lead: _Lead, poll_timeout: int) -> None:
    """One look at the poller lock: stop polling if it is lost or Telegram has been
    unreachable for long, or take over if it is free."""
    now = time.monotonic()
    if lead.since is not None:
        if not await lock.holds():
            log.warning("lost the database connection: stopped polling, standby until back")
            await _stop_updater(app)
            lead.since = None
            _set_leader(app, False)
            return
        handover = HANDOVER_LEASES * app.bot_data.config.instances.lease_seconds
        poller = app.bot_data.poller
        failing = poller.failing_since if poller is not None else None
        failed = now - max(failing, lead.since) if failing is not None else 0.0
        if failed > handover:
            await _stop_updater(app)
            await lock.release()
            lead.since = None
            _set_leader(app, False)
            lead.resting_until = now + handover
            app.bot_data.standby_at = now
            log.warning(
                "Telegram unreachable from here for %.0f s: stopped polling and left it to "
                "another instance (standby; may take it again later)",
                failed,
            )
        return
    if now < lead.resting_until:
        return
    if await lock.acquire():
        lead.since = time.monotonic()
        app.bot_data.standby_at = lead.since  # until the first long poll answers
        await _start_polling(app, poll_timeout)
        _set_leader(app, True)
        log.info("took over polling")


def _set_leader(app: UabotApp, polls: bool) -> None:
    app.bot_data.metrics.poller_leader.set(1 if polls else 0)


def _polling_error(app: UabotApp, error: TelegramError) -> None:
    app.create_task(app.process_error(error=error, update=None))


async def _stop_updater(app: UabotApp) -> None:
    """``Updater.stop()``, cut short after ``STOP_GRACE_SECONDS`` twice (see there)."""
    assert app.updater is not None
    stopping = asyncio.ensure_future(app.updater.stop())
    for _ in range(2):
        done, _ = await asyncio.wait({stopping}, timeout=STOP_GRACE_SECONDS)
        if done:
            break
        stopping.cancel()  # first the poller's sleep, then its last getUpdates
    with suppress(asyncio.CancelledError):
        await stopping


async def _stop_app(app: UabotApp, deadline: float) -> None:
    """``Application.stop()``, which handles the updates in its queue and waits for every
    reply and job still running: at ``deadline`` (loop time) those are cancelled, so that a
    call Telegram does not answer or a feed that trickles in does not hold the stop (one line
    says so, no traceback)."""
    stopping = asyncio.ensure_future(app.stop())
    grace = max(0.0, deadline - asyncio.get_running_loop().time())
    done, _ = await asyncio.wait({stopping}, timeout=grace)
    if not done:
        data: BotData = app.bot_data
        unfinished = [task for task in data.running.tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            log.warning(
                "stopping: cancelled %d reply or job task(s) still running after %g s",
                len(unfinished),
                REPLY_GRACE_SECONDS,
            )
    await stopping


async def connect(app: UabotApp) -> None:
    """``app.initialize()`` (getMe), then setWebhook (webhook mode) or deleteWebhook (polling:
    Telegram refuses getUpdates while a webhook is set; updates waiting for it are kept),
    retried with back-off while Telegram is unreachable. Webhook mode's port is checked first.

    Each failure is one line: where, why, when the next try is. Only Telegram's own refusal of
    the token ends the wait (``TokenRejected``); the caller cancels the task to give up.
    """
    config: Config = app.bot_data.config
    await _check_listen(config.telegram)
    await _announce(app)
    secrets = config.secrets()
    delay = START_RETRY_FIRST_SECONDS
    while True:
        try:
            await app.initialize()
            await _set_webhook(app)
            return
        except InvalidToken as error:
            status, reason = token_refusal(error)
            if status is not None:
                raise TokenRejected(status) from None
            wait = delay
        except RetryAfter as error:
            reason = "Telegram asks to wait (429)"
            wait = retry_after_seconds(error)
        except TimedOut as error:
            reason, wait = f"timed out ({error.message})", delay
        except TelegramError as error:
            reason = described(error)
            wait = delay
            fix = config_fix(error)
            if fix is not None:
                if fix.lasting:  # a wrong password or an untrusted certificate stays so
                    raise ConfigMistake(
                        f"Telegram ({_where(config)}) not reachable: "
                        f"{redact(reason, secrets)[:200]}: {fix.text}"
                    ) from None
                reason += f": {fix.text}"
        log.warning(
            "Telegram (%s) not reachable: %s; next try in %g s",
            _where(config),
            redact(reason, secrets)[:300],
            wait,
        )
        await asyncio.sleep(wait)
        delay = min(delay * 2, START_RETRY_MAX_SECONDS)


async def _announce(app: UabotApp) -> None:
    """Several instances on one database: record how this one receives updates, and refuse
    to start when a live instance receives them otherwise (before deleteWebhook or
    setWebhook would undo its way). On SQLite, nothing (one instance)."""
    config: Config = app.bot_data.config
    telegram = config.telegram
    storage = await app.bot_data.shared_storage.get()
    storage.claims.lease = config.instances.lease_seconds
    mine = (
        webhook_mark(telegram.webhook_url or "", telegram.secret_token or "")
        if telegram.mode == "webhook"
        else POLLING
    )
    others = set(await Instances(storage.db, storage.claims).announce(mine))
    if not others - {mine}:
        return
    await storage.claims.let_go()  # this instance does not start: its mark goes with it
    if telegram.mode != "webhook":
        raise ConfigMistake(
            "another instance on this database runs in webhook mode: polling would delete its "
            'webhook; set telegram.mode = "webhook" (and its webhook_url, secret_token) the '
            "same on every instance"
        )
    if POLLING in others:
        raise ConfigMistake(
            "another instance on this database polls: setting a webhook would end its polling; "
            "set telegram.mode the same on every instance"
        )
    raise ConfigMistake(
        "another instance on this database serves a different telegram.webhook_url or "
        "secret_token: set token, webhook_url and secret_token the same on every instance"
    )


# At most one line this often about webhook posts refused for their secret token.
REFUSALS_LOG_SECONDS = 60.0


class _Refusals(logging.Filter):
    """Webhook mode: PTB's server answers 403 to a post without our secret token and says
    so only at DEBUG (with the wrong token in it). Counted here instead, said at most once a
    ``REFUSALS_LOG_SECONDS``: after the first, how many came since (say, an instance's
    webhook set with another secret_token). The logger's other DEBUG lines pass as before
    (only with ``-v``): this filter lowers its level to see the refusals."""

    def __init__(self, floor: int) -> None:
        super().__init__()
        self.floor = floor
        self.count = 0
        self._next_at = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if not (isinstance(record.msg, str) and record.msg.startswith(PTB_REFUSALS)):
            return record.levelno >= self.floor
        self.count += 1
        now = time.monotonic()
        if now >= self._next_at:
            log.warning(
                "webhook: %d post(s) refused (403) for a missing or wrong secret token: "
                "Telegram's webhook was set with another telegram.secret_token (set it the "
                "same on every instance), or someone else posts to webhook_url",
                self.count,
            )
            self.count = 0
            self._next_at = now + REFUSALS_LOG_SECONDS
        return False


# PTB's webhook server's DEBUG lines for a refused post (telegram/ext/_utils/webhookhandler.py).
PTB_REFUSALS = ("Request did not include the secret token", "Request had the wrong secret token")


def _count_refusals() -> None:
    """Once a process: the webhook server's refusals counted by ``_Refusals``."""
    server = logging.getLogger("telegram.ext.Updater")
    if not any(isinstance(f, _Refusals) for f in server.filters):
        server.addFilter(_Refusals(server.getEffectiveLevel()))
        server.setLevel(logging.DEBUG)


async def _check_listen(telegram: TelegramConfig) -> None:
    """Webhook mode: ``telegram.listen`` can be served, before Telegram is told to post there
    (PTB's server binds it only after setWebhook, and a port taken would be a traceback)."""
    if telegram.mode != "webhook":
        return
    host, port = telegram.listen
    try:
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, host, port)
    except OSError as exc:
        raise ConfigMistake(
            f"telegram.listen {host_port(host, port)} cannot be served "
            f"({os.strerror(exc.errno) if exc.errno else exc}): pick another port, or stop "
            "what uses it"
        ) from None
    server.close()
    await server.wait_closed()


async def _set_webhook(app: UabotApp) -> None:
    """In webhook mode, tell Telegram where to post; in polling mode, end any webhook
    (``running`` does either again as PTB's bootstrap always does): here their failures are
    the start's one-line errors, and a refusal of the URL or the secret token stops the start
    with the fix."""
    telegram: TelegramConfig = app.bot_data.config.telegram
    if telegram.mode != "webhook":
        await app.bot.delete_webhook(drop_pending_updates=False)
        return
    try:
        await app.bot.set_webhook(
            url=telegram.webhook_url or "",
            secret_token=telegram.secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=False,
        )
    except BadRequest as error:
        if not from_telegram(error):
            raise  # a proxy's page: the way to Telegram, retried as any other
        said = redact(error.message, app.bot_data.config.secrets())[:200]
        raise ConfigMistake(
            f"Telegram refused the webhook ({said}): check telegram.webhook_url (public, "
            "https, port 443, 80, 88 or 8443) and telegram.secret_token"
        ) from None


async def _close_unstarted(app: UabotApp) -> None:
    """Close what a failed ``initialize()`` opened: ``Application.shutdown`` skips it then."""
    await app.bot.shutdown()  # the HTTP sessions and the rate limiter's task
    await app.bot_data.shared_storage.close()  # the database connection (and its thread)


async def _unless_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Run ``work`` until it ends (True, or its exception) or ``stop`` is set first (False:
    ``work`` is cancelled, and awaited so that it has cleaned up)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


async def _serve(app: UabotApp, prepare: Callable[[], Awaitable[None]] | None = None) -> None:
    """Connect, then long polling, until SIGINT or SIGTERM: one stop, whenever it comes.

    The signals are caught (bot.stops) from the first line to the last, so Ctrl-C never meets
    Python's default handler (a ``KeyboardInterrupt`` between two steps) and every stop runs
    the same clean path; a second Ctrl-C while stopping changes nothing.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # Also a stop asked while ``uabot run`` started (bot.cli.main caught it): stopped now.
    stops.listen(lambda: loop.call_soon_threadsafe(stop.set))
    try:
        # Opening and migrating the database is stoppable too: a migration is one
        # transaction, rolled back when cancelled.
        if prepare is not None and not await _unless_stopped(prepare(), stop):
            log.info("stopped before the database was ready; it is as it was")
            return
        try:
            connected = await _unless_stopped(connect(app), stop)
        except BaseException:
            await _close_unstarted(app)
            raise
        if not connected:
            log.info("stopped before Telegram answered")
            await _close_unstarted(app)
            return
        async with AsyncExitStack() as started:
            # PTB's start (its bootstrap retries) is stoppable too.
            if not await _unless_stopped(started.enter_async_context(running(app)), stop):
                log.info("stopped before the bot started")
                return
            await stop.wait()
    finally:
        # Until the process ends, a second Ctrl-C or SIGTERM changes nothing (bot.stops).
        stops.ignore()


def run(config: Config, prepare: Callable[[], Awaitable[None]] | None = None) -> None:
    """``uabot run``: wait for Telegram, then long polling until Ctrl-C or SIGTERM.

    Not PTB's ``run_polling``: it raises (with a traceback) at the first failed getMe, and its
    stop waits for the poller's back-off sleep (up to 30 s in an outage). ``running`` is the
    same start and a bounded stop, and what the tests run. ``prepare`` (opening and migrating
    the database) runs first, under the same signal handling, so a stop during a long
    migration is a clean stop too.
    """
    asyncio.run(_serve(build_application(config), prepare))

"""The one composition root: ``build_application(config)``.

``uabot run``, the tests, the benchmarks and the sandbox all build the bot here, so what is
tested is what runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot import announcements, commands, scheduling
from bot.actions.outgoing import action_renderer
from bot.broadcast.engine import BroadcastEngine, Burst
from bot.broadcast.ratelimit import PriorityRateLimiter
from bot.broadcast.report import burst_notice, final_report
from bot.config import Config
from bot.context import BotData, Context
from bot.i18n import check_catalogs
from bot.notify import notify_admins
from bot.persistence import SQLitePersistence
from bot.storage import Broadcast, Storage
from bot.telegram_http import AiohttpRequest

log = logging.getLogger(__name__)

# Opt in to PTB 23's behaviour now: durations such as RetryAfter.retry_after are timedeltas.
# Without it PTB 22 warns on every 429, and the warning would hide in production logs.
os.environ.setdefault("PTB_TIMEDELTA", "true")

UabotApp = Application

# How often the bot looks for broadcasts queued by another process (``uabot import --publish``).
BROADCAST_POLL_SECONDS = 10


async def _post_init(app: UabotApp) -> None:
    """Open services before the first update, resume broadcasts, publish the command menus."""
    data: BotData = app.bot_data
    config = data.config
    check_catalogs(config.i18n.languages)
    data.storage = storage = await Storage.open(config.storage.path)

    async def report(broadcast: Broadcast) -> bool:
        return await report_to_admins(app, broadcast)

    async def burst(broadcast: Broadcast, seen: Burst) -> None:
        await notify_admins(
            app.bot, storage, config, lambda: (burst_notice(broadcast, seen), None)
        )

    data.broadcasts = BroadcastEngine(
        app.bot,
        storage,
        {
            "action": action_renderer(storage, config),
            announcements.KIND: announcements.announcement_renderer(config),
        },
        rate=config.broadcast.messages_per_second,
        on_finished=report,
        on_burst=burst,
        proxy=config.telegram.proxy,
        ca_bundle=config.telegram.ca_bundle,
        give_up_after=config.broadcast.give_up_after_hours * 3600,
        max_probe_interval=config.broadcast.max_probe_interval_seconds,
    )
    await commands.publish(app.bot, config)
    # Interrupted broadcasts go on at once; the job picks up those that `uabot import
    # --publish` queues while the bot runs. (A job with first=0 would not do for the start:
    # APScheduler moves a start time that passed before the scheduler ran to the next interval.)
    await data.broadcasts.resume_all()
    app.job_queue.run_repeating(  # type: ignore[union-attr]
        _resume_broadcasts, interval=BROADCAST_POLL_SECONDS, name="resume-broadcasts"
    )
    await scheduling.schedule(app)


async def _resume_broadcasts(context: Context) -> None:
    await context.bot_data.broadcasts.resume_all()


async def _post_stop(app: UabotApp) -> None:
    engine = getattr(app.bot_data, "broadcasts", None)
    if engine is not None:
        await engine.stop()


async def _post_shutdown(app: UabotApp) -> None:
    storage = getattr(app.bot_data, "storage", None)
    if storage is not None:
        await storage.close()


async def report_to_admins(app: UabotApp, broadcast: Broadcast) -> bool:
    """Send the final report to the admin who started the broadcast (or to every admin);
    False while an outage keeps it from someone (the engine tries again)."""
    data: BotData = app.bot_data
    missed = await notify_admins(
        app.bot,
        data.storage,
        data.config,
        lambda: (final_report(broadcast), None),
        only=broadcast.requested_by,
    )
    return not missed


def build_application(config: Config) -> UabotApp:
    """Build the bot for ``config``: services, defaults and every handler, nothing started."""
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
        .rate_limiter(PriorityRateLimiter(config.broadcast.messages_per_second))
        .request(AiohttpRequest(proxy=config.telegram.proxy, ca_bundle=config.telegram.ca_bundle))
        .get_updates_request(
            AiohttpRequest(
                connection_pool_size=1,
                proxy=config.telegram.proxy,
                ca_bundle=config.telegram.ca_bundle,
            )
        )
        .persistence(SQLitePersistence(config.storage.path))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    app = builder.build()
    app.bot_data.config = config
    handlers.register_all(app)
    return app


@asynccontextmanager
async def running(app: UabotApp, *, poll_timeout: int = 10) -> AsyncIterator[UabotApp]:
    """Run ``app`` with long polling inside an existing event loop (tests, sandbox, benches).

    ``uabot run`` uses ``run_polling``, which also owns the loop and the signals; both run the
    same hooks in the same order.
    """
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(timeout=poll_timeout, poll_interval=0)  # type: ignore[union-attr]
        await app.start()
        yield app
    finally:
        if app.updater and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)

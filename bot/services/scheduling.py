"""Scheduled work on PTB's JobQueue: deadline reminders and the action feed.

APScheduler keeps no jobs across restarts, so what the jobs must remember lives in the
database (who was reminded for which revision, which feed files were handled, the last
poll), and ``schedule`` re-creates the jobs from it at every start. A restart therefore
neither skips nor repeats a reminder, and the feed goes on where its interval left off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import Application, JobQueue

from bot.actions import render
from bot.actions.importer import ImportKind, ImportResult
from bot.actions.model import ActionRevision
from bot.config import Config
from bot.i18n import format_date, reader_language, use_locale
from bot.i18n import gettext as _
from bot.ptb.context import BotData, Context
from bot.ptb.errors import unreachable
from bot.ptb.persistence import StaleWork
from bot.ptb.text import escape, truncate
from bot.services import backup, feed, following
from bot.services.notify import Build, reached_admins, send_to
from bot.services.publishing import publish_and_broadcast

log = logging.getLogger(__name__)

# Ends one conversation (by name) of a user: handlers.conversations.end_conversation.
EndConversation = Callable[[Application, int, str], Awaitable[None]]

REMINDERS_JOB = "reminders"
SWEEP_JOB = "letter-drafts"
SWEEP_INTERVAL = timedelta(minutes=10)
FEED_JOB = "feed"
BACKUP_JOB = "backup"
REMINDER_INTERVAL = timedelta(hours=1)
# How long a run holds a reminder it is sending; longer than any send, shorter than the
# interval, so a reminder claimed by a run that crashed goes out at the next run.
REMINDER_LEASE = 10 * 60.0
FIRST_RUN_SECONDS = 30  # after the start: the scheduler must be running by then
LAST_POLL = "feed.last_poll"
# Set while the feed cannot be read: the admins hear of an outage once, not at every poll.
FEED_DOWN = "feed.unavailable"
PROBLEM_CHARS = 3500  # UTF-16 units of a file's problem list: the message stays under 4096


def jobs(app: Application) -> JobQueue[Any]:
    """The application's job queue (the ``job-queue`` extra is a dependency: always there)."""
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    return app.job_queue


async def schedule(app: Application, stale_work: StaleWork, end: EndConversation) -> None:
    """Create the jobs (called from post_init, every start); ``end`` ends one conversation of
    a user (handlers.conversations.end_conversation, passed by the composition root)."""
    data: BotData = app.bot_data
    queue = jobs(app)
    run = data.running.job  # a stop cancels a job run that outlasts it (bot.ptb.tasks)
    queue.run_repeating(
        run(once(REMINDERS_JOB, send_reminders)),
        interval=REMINDER_INTERVAL,
        first=FIRST_RUN_SECONDS,
        name=REMINDERS_JOB,
    )

    # Drafts abandoned before a restart are dropped as the persistence loads them; those loaded
    # still fresh have no timeout job any more: sweep now and then.
    async def sweep(context: Context) -> None:
        await sweep_drafts(context.application, stale_work, end)

    queue.run_repeating(run(sweep), interval=SWEEP_INTERVAL, name=SWEEP_JOB)
    # 0: no automatic backups; PostgreSQL is backed up with its own tools (pg_dump).
    if (hours := data.config.backup.every_hours) and data.config.storage.sqlite:
        interval = hours * 3600
        last = await data.storage.job_state.get(backup.LAST_BACKUP)
        data.metrics.last_backup.set(float(last or 0))  # /metrics: also the one before a restart
        # A bot that never took one takes the first soon after its start.
        next_in = float(last) + interval - time.time() if last else 0.0
        queue.run_repeating(
            run(backup.run_backup),
            interval=interval,
            first=max(min(float(FIRST_RUN_SECONDS), interval), next_in),
            name=BACKUP_JOB,
        )
    elif data.config.backup.every_hours:
        log.info("backups: uabot backup copies SQLite files only; back up PostgreSQL with pg_dump")
    if data.config.feed.source:
        interval = data.config.feed.interval_minutes * 60
        last = await data.storage.job_state.get(LAST_POLL)
        # After a restart the next poll comes when the interval since the last one ends.
        next_in = float(last) + interval - time.time() if last else 0.0
        queue.run_repeating(
            run(once(FEED_JOB, poll_feed)),
            interval=interval,
            first=max(float(FIRST_RUN_SECONDS), next_in),
            name=FEED_JOB,
        )


def once(
    name: str, job: Callable[[Context], Awaitable[object]]
) -> Callable[[Context], Awaitable[None]]:
    """``job`` as a job of several instances on one database (issue 16 §4): it runs on the
    one that holds its claim, kept while that instance lives (renewed with its other claims)
    and taken by another's next run once it died; on SQLite, every run is this one's."""

    async def claimed(context: Context) -> None:
        if await context.storage.claims.take(f"run-{name}", again=True):
            await job(context)

    return claimed


async def sweep_drafts(app: Application, rule: StaleWork, end: EndConversation) -> int:
    """End the work left alone past the timeout (``rule``, the one the persistence applies at
    load) and its conversation only, through ``end``; returns how many."""
    now = time.time()
    found = [user_id for user_id, user_data in app.user_data.items() if rule.stale(user_data, now)]
    swept = []
    data: BotData = app.bot_data
    for user_id in found:
        # Several instances: judged again on the user's data as stored (another instance may
        # have taken a later step), and ended while no update of theirs runs anywhere.
        async with data.user_state.user(user_id):
            if not rule.stale(app.user_data[user_id], now):
                continue
            app.user_data[user_id].pop(rule.key, None)
            await end(app, user_id, rule.conversation)
            app.mark_data_for_update_persistence(user_ids=user_id)
            swept.append(user_id)
    if swept:
        log.info("ended %s abandoned dialogues (%s)", len(swept), rule.key)
    return len(swept)


def _feed_preview(
    result: ImportResult, reach: tuple[int, int], config: Config, today: date
) -> Build:
    def build() -> tuple[str, InlineKeyboardMarkup | None]:
        heading = "<i>" + escape(_("From the action feed:")) + "</i>\n"
        preview = render.preview(
            result,
            reach[1],
            config.i18n.languages,
            config.i18n.default_language,
            today=today,
            reach=reach[0],
        )
        return heading + preview, render.preview_keyboard(result.revision)

    return build


def _feed_down(reason: str) -> Build:
    def build() -> tuple[str, InlineKeyboardMarkup | None]:
        heading = _(
            "The action feed cannot be read; the bot tries again at every poll and tells you "
            "again only after it could read it:"
        )
        return f"<b>{escape(heading)}</b>\n{escape(truncate(reason, PROBLEM_CHARS))}", None

    return build


def _feed_problem(name: str, problem: Callable[[], str]) -> Build:
    def build() -> tuple[str, InlineKeyboardMarkup | None]:
        heading = _("The action feed has a file the bot cannot import: {file}").format(file=name)
        text = f"<b>{escape(heading)}</b>\n{escape(truncate(problem(), PROBLEM_CHARS))}"
        return text, None

    return build


def reminder_due(revision: ActionRevision, today: date, days_before: int) -> bool:
    """Inside the window: from ``days_before`` days before the deadline to the deadline.

    Never for a case past its deadline: it is "recently expired" or archived, and a late
    letter wants a check with the organisation first, not a nudge.
    """
    if revision.is_closed or revision.deadline is None or revision.deadline_passed(today):
        return False
    return revision.deadline - timedelta(days=days_before) <= today


async def send_reminders(context: Context) -> int:
    """Remind interested supporters who have not confirmed yet; returns how many were sent."""
    storage, config = context.storage, context.config
    today = context.bot_data.today()
    sent = 0
    for stored in await storage.revisions.published_cases(status="open"):
        revision = ActionRevision.from_json(stored.content)
        if not reminder_due(revision, today, config.reminders.days_before_deadline):
            continue
        for due in await storage.reminders.due(revision.case, revision.revision):
            # Claim, send, then mark sent: a crash in between leaves a lease that runs out
            # (the next run sends it), and overlapping runs never both send it.
            if not await storage.reminders.claim(
                due.user_id, revision.case, revision.revision, time.time(), REMINDER_LEASE
            ):
                continue
            with use_locale(reader_language(config.i18n, due.language)):
                text = reminder_text(revision, config.i18n.default_language)
                keyboard = render.card_keyboard(
                    revision, config.i18n.default_language, context.bot.username
                )
            try:
                await send_to(context.bot, due.user_id, text, keyboard=keyboard, background=True)
            except TelegramError as exc:
                await storage.reminders.release(due.user_id, revision.case)
                if unreachable(exc):
                    await storage.users.mark_unreachable(due.user_id)
                else:
                    log.warning("reminder not sent, retried at the next run: %s", exc)
                continue
            await storage.reminders.mark_reminded(due.user_id, revision.case, revision.revision)
            sent += 1
    if sent:
        log.info("sent %s deadline reminders", sent)
    return sent


def reminder_text(revision: ActionRevision, default_language: str) -> str:
    from bot.i18n import current_locale

    text, _fell_back = revision.text_for(current_locale.get(), default_language)
    assert revision.deadline is not None
    return "\n\n".join(
        [
            "<b>⏰ "
            + escape(
                _("Reminder: letters for {case} are needed by {date}.").format(
                    case=render.case_label(revision.case), date=format_date(revision.deadline)
                )
            )
            + "</b>",
            f"<b>{escape(text.title)}</b>\n{escape(text.summary)}",
            escape(
                _(
                    "Already sent yours? Tap “I sent it” so it counts. /reminders off stops "
                    "these reminders."
                )
            ),
        ]
    )


async def poll_feed(context: Context) -> feed.FeedReport | None:
    """Fetch the feed, import what is new, publish it or offer it to the admins."""
    storage, config = context.storage, context.config
    source = config.feed.source
    assert source is not None
    try:
        files = await feed.fetch(source)
    except feed.FeedUnavailable as exc:
        context.bot_data.metrics.feed_polls.labels("unavailable").inc()
        log.warning("feed unavailable, retried at the next interval: %s", exc)
        if not await storage.job_state.get(FEED_DOWN) and await reached_admins(
            context.bot, storage, config, _feed_down(str(exc))
        ):
            await storage.job_state.set(FEED_DOWN, "1")
        return None
    if await storage.job_state.get(FEED_DOWN):
        await storage.job_state.set(FEED_DOWN, "")
    with use_locale(config.i18n.default_language):
        report = await feed.import_files(storage, config, files)
    context.bot_data.metrics.feed_polls.labels("ok").inc()
    context.bot_data.metrics.feed_problems.inc(len(report.problems))
    await storage.job_state.set(LAST_POLL, str(time.time()))
    # A file is handled once its news reached an admin: else the next poll tries again.
    for result, handled in report.imported:
        revision = result.revision
        if config.feed.auto_publish:
            if result.kind is not ImportKind.UNCHANGED:  # an admin's own draft stays theirs
                await publish_and_broadcast(
                    storage,
                    revision.case,
                    revision.revision,
                    requested_by=None,
                    engine=context.bot_data.broadcasts,
                    app=context.application,
                )
            await feed.mark_handled(storage, handled)
            continue
        reach = await following.reach(storage, revision)
        if await reached_admins(
            context.bot,
            storage,
            config,
            _feed_preview(result, reach, config, context.bot_data.today()),
        ):
            await feed.mark_handled(storage, handled)
    for name, problem, handled in report.problems:
        if await reached_admins(context.bot, storage, config, _feed_problem(name, problem)):
            await feed.mark_handled(storage, handled)
    return report

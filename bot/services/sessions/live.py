"""The session message while a session runs: posted, edited when something it shows changed,
counted down, and closed with a thank-you; its jobs on PTB's JobQueue.

``changed`` is the one call for "something this session's message shows moved" (a
confirmation in the group or in a private chat, a minute of the countdown): it asks the
application's one ``EditPacer`` for a slot, and the edit job that runs at the slot renders
whatever is current then, so updates that come closer together are merged into one edit.
Every message the bot sends to a group is told to the pacer (``note_sent``); replies to
commands there go through ``reply``, which takes their place in the same budget (at most
``REPLIES_PER_WINDOW`` of it, the same answer once while it waits). A session's edits go
one at a time (a lock each): two on their way at once may arrive swapped.

Jobs carry the session's id only and read the group's id when they run, so a group that
became a supergroup needs nothing here. The database is what survives a restart: ``resume``
(at start-up) schedules each running session's jobs again and one edit at once, and closes
the sessions that ended just before the stop (``sessions.closing``): the result shown, the
unpin (``pinned`` stays set until Telegram took it), the thank-you. A group that removed the
bot keeps its sessions to close until the bot is back (``returned``), without a thank-you.

Telegram's per-group limit is paced here, not in the rate limiter: a 429 for one group is
that group's (``CHAT_PACED``), and it moves this session's next edit (or its pin, unpin,
thank-you, a waiting reply) after Telegram's ``retry_after``, never losing it.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, RetryAfter, TelegramError
from telegram.ext import Application

from bot.actions.importer import load
from bot.actions.links import case_payload, deep_link, session_payload
from bot.broadcast.ratelimit import CHAT_PACED
from bot.config import SessionsConfig
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.ptb import callbacks
from bot.ptb.context import BotData, Context
from bot.ptb.errors import Verdict, classify, described, retry_after_seconds, unchanged
from bot.services import sessions
from bot.services.scheduling import jobs
from bot.services.sessions import text
from bot.services.sessions.pacing import WINDOW_SECONDS, EditPacer
from bot.storage import StoredSession

log = logging.getLogger(__name__)

JOB_PREFIX = "session"
# A job may run this much before its slot (the scheduler's clock and ours) and still send.
SLOT_SLACK = 0.005


class Job(enum.Enum):
    """A session's jobs, named ``session-<id>-<kind>`` (``stop`` cancels them by name)."""

    EDIT = "edit"  # the paced edit (or the post) of the message
    TICK = "tick"  # the countdown: one ``changed`` per session minute
    END = "end"  # the session's time is up
    CLOSE = "close"  # the ended message shown
    UNPIN = "unpin"  # the ended message unpinned (tried again after a 429)
    THANKS = "thanks"  # the thank-you posted
    PIN = "pin"  # the message pinned again after a 429 on its pin


@dataclass(frozen=True)
class Target:
    """What a job carries: the session, and for a planned edit the chat the pacer planned
    it for (the group's id is read when the job runs: it may have become a supergroup)."""

    session_id: int
    planned_chat: int = 0


def _target(context: Context) -> tuple[Application, Target]:
    if context.job is None or not isinstance(context.job.data, Target):
        raise TypeError("a session job without its target")
    app: Application = context.application  # its bot takes rate_limit_args
    return app, context.job.data


def job_name(session_id: int, kind: Job) -> str:
    return f"{JOB_PREFIX}-{session_id}-{kind.value}"


def new_pacer(config: SessionsConfig) -> EditPacer:
    """The application's one pacer. Its window is one minute of session time: 60 s, or
    what a time-compressed configuration (``sessions.minute_seconds``) makes of it."""
    return EditPacer(window=WINDOW_SECONDS * config.minute_seconds / 60.0)


def _data(app: Application) -> BotData:
    data: BotData = app.bot_data
    return data


def note_sent(app: Application, chat_id: int) -> None:
    """A message or an edit went to a group (any reply there): it counts against the group's
    budget, so the next edit of a session message waits for its turn."""
    _data(app).session_pacer.sent(chat_id, time.time())


JobCallback = Callable[[Context], Awaitable[None]]


# -- replies in a group --------------------------------------------------------------------------

# A reply whose place in the group's budget is further away than this many windows is
# dropped: the group has moved on by then.
REPLY_PATIENCE_WINDOWS = 2.0


@dataclass(frozen=True)
class Reply:
    """A reply waiting for a place in its group's budget (a job's data)."""

    chat_id: int
    key: str
    text: str
    markup: InlineKeyboardMarkup | None


def answer_key(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """What makes two replies the same answer: their text and their buttons' targets (a
    member's own case link, an admin's picker differ from a refusal to the same command).
    A digest, so a job's name never holds a message's text."""
    targets = [
        f"{button.url or ''}\x1f{button.callback_data or ''}"
        for row in (markup.inline_keyboard if markup else ())
        for button in row
    ]
    answer = "\x1e".join([text, *targets])
    return hashlib.sha256(answer.encode()).hexdigest()[:16]


async def reply(
    app: Application, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Say ``text`` in a group (the intro, /help, a refusal): within the group's budget of
    messages a minute, which the session message's edits share and keep their place in.
    While an answer waits for a place, the same answer (``answer_key``) asked again is
    dropped, so a member sending /help thirty times gets it once or twice, and a group's
    flood never reaches Telegram's limit (nor, by its 429, the whole bot); a different
    answer to the same command (another member's link) still goes."""
    key = answer_key(text, markup)
    now = time.time()
    pacer = _data(app).session_pacer
    at = pacer.reply_at(chat_id, key, now)
    if at is None:
        log.info("group reply dropped: the same answer is waiting for the group's budget")
        return
    if at - now > REPLY_PATIENCE_WINDOWS * pacer.window:
        pacer.drop_reply(chat_id, key)
        log.info("group reply dropped: no place in the group's budget soon enough")
        return
    waiting = Reply(chat_id, key, text, markup)
    if at > now:
        _run_reply(app, waiting, at - now)
    else:
        await _send_reply(app, waiting)


def _run_reply(app: Application, waiting: Reply, delay: float) -> None:
    jobs(app).run_once(
        _data(app).running.job(_reply_job),
        when=max(0.0, delay),
        data=waiting,
        name=f"group-reply-{waiting.chat_id}-{waiting.key}",
        job_kwargs={"misfire_grace_time": None},
    )


async def _reply_job(context: Context) -> None:
    if context.job is None or not isinstance(context.job.data, Reply):
        raise TypeError("a group reply's job without its reply")
    app: Application = context.application
    waiting = context.job.data
    pacer = _data(app).session_pacer
    now = time.time()
    at = pacer.reply_now(waiting.chat_id, waiting.key, now)
    if at > now + SLOT_SLACK:
        _run_reply(app, waiting, at - now)
        return
    await _send_reply(app, waiting)


async def _send_reply(app: Application, waiting: Reply) -> None:
    """Send a reply its group's budget has counted already; a 429 is the group's: it holds
    the group's messages (the reply waits for its turn again), never the bot's."""
    pacer = _data(app).session_pacer
    try:
        await app.bot.send_message(
            waiting.chat_id, waiting.text, reply_markup=waiting.markup, rate_limit_args=CHAT_PACED
        )
    except RetryAfter as error:
        now = time.time()
        pacer.hold(waiting.chat_id, now + retry_after_seconds(error))
        if (at := pacer.reply_at(waiting.chat_id, waiting.key, now)) is not None:
            _run_reply(app, waiting, at - now)  # after the hold: not counted as sent yet
    except TelegramError as error:
        log.warning("group reply not sent: %s", described(error))


def _run_once(
    app: Application,
    callback: JobCallback,
    delay: float,
    session_id: int,
    kind: Job,
    planned_chat: int = 0,
) -> None:
    # misfire_grace_time None: a job due while the scheduler was not running yet (a
    # restart's edit at once, an end already due) runs late rather than never.
    jobs(app).run_once(
        _data(app).running.job(callback),
        when=max(0.0, delay),
        data=Target(session_id, planned_chat),
        name=job_name(session_id, kind),
        job_kwargs={"misfire_grace_time": None},
    )


async def changed(app: Application, session_id: int) -> None:
    """Something the session message shows changed: have it edited (paced per group)."""
    session = await _data(app).storage.sessions.get(session_id)
    if session is None or not session.running:
        return  # the end shows the final count
    _plan_edit(app, session_id, session.group_id, time.time())


def _plan_edit(app: Application, session_id: int, chat_id: int, now: float) -> None:
    at = _data(app).session_pacer.request(chat_id, now)
    if at is None:
        return  # an edit is planned: it will show this too
    _run_once(app, _edit_job, at - time.time(), session_id, Job.EDIT, chat_id)


async def _edit_job(context: Context) -> None:
    app, target = _target(context)
    pacer = _data(app).session_pacer
    session_id = target.session_id
    session = await _data(app).storage.sessions.get(session_id)
    if session is None:
        pacer.cancel(target.planned_chat)
        return
    chat_id = session.group_id
    if chat_id != target.planned_chat:  # the group became a supergroup meanwhile
        pacer.cancel(target.planned_chat)
    # One edit of a message at a time: two on their way at once could arrive swapped, and
    # the older count would stay.
    async with _lock(app, session_id):
        if not _in_slot(app, chat_id, _edit_job, session_id, Job.EDIT):
            return
        # Told before the state is read: a change committed from here on plans the next edit.
        note_sent(app, chat_id)
        retry = await _show(app, session_id)
    if retry is not None:
        pacer.hold(chat_id, time.time() + retry)
        _plan_edit(app, session_id, chat_id, time.time())


def _lock(app: Application, session_id: int) -> asyncio.Lock:
    return _data(app).session_locks.setdefault(session_id, asyncio.Lock())


def _in_slot(
    app: Application, chat_id: int, callback: JobCallback, session_id: int, kind: Job
) -> bool:
    """Whether the group's slot has come; if not (a 429's wait, or other messages to the
    group since the job was planned), the job runs again at its slot."""
    now = time.time()
    slot = _data(app).session_pacer.next_slot(chat_id, now)
    if slot <= now + SLOT_SLACK:
        return True
    _run_once(app, callback, slot - now, session_id, kind, chat_id)
    return False


async def _show(app: Application, session_id: int, *, reposted: bool = False) -> float | None:
    """Edit the session message as things stand now (post it if it has none, or lost it);
    the seconds Telegram asked to wait (429), else None."""
    data = _data(app)
    storage = data.storage
    session = await storage.sessions.get(session_id)
    if session is None or (group := await storage.groups.get(session.group_id)) is None:
        return None  # the bot was removed from the group
    rendered = await _render(app, session, group.language)
    if rendered is None:
        return None
    body, markup = rendered
    bot = app.bot
    try:
        if session.message_id is None:
            await _post(app, session, body, markup)
        else:
            await bot.edit_message_text(
                body,
                chat_id=session.group_id,
                message_id=session.message_id,
                reply_markup=markup,
                rate_limit_args=CHAT_PACED,
            )
    except RetryAfter as error:
        return retry_after_seconds(error)
    except ChatMigrated as error:
        # The group became a supergroup before its service message was handled: follow it
        # (message ids start again there, so the message is posted anew).
        await sessions.migrate_group(storage, session.group_id, error.new_chat_id)
        data.session_pacer.forget(session.group_id)
        if not reposted:
            return await _show(app, session_id, reposted=True)
    except BadRequest as error:
        if unchanged(error):
            return None
        if "message to edit not found" in error.message.lower() and session.running:
            # Deleted by a group admin: a running session gets its message back.
            try:
                await _post(app, session, body, markup)
            except RetryAfter as again:
                return retry_after_seconds(again)
            except TelegramError as again:
                log.warning("session %s: not posted again: %s", session_id, described(again))
            return None
        log.warning("session %s: the message was not updated: %s", session_id, described(error))
    except TelegramError as error:
        log.warning("session %s: the message was not updated: %s", session_id, described(error))
    return None


async def _post(
    app: Application, session: StoredSession, body: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Post the session message, pin it where the bot may (quietly), record both."""
    bot = app.bot
    message = await bot.send_message(
        session.group_id, body, reply_markup=markup, rate_limit_args=CHAT_PACED
    )
    await sessions.record_message(_data(app).storage, session.id, message.message_id, pinned=False)
    await _pin(app, session.id)


async def _pin_job(context: Context) -> None:
    app, target = _target(context)
    await _pin(app, target.session_id)


async def _pin(app: Application, session_id: int) -> None:
    """Pin a running session's message where the bot may (quietly); a 429 or a network error
    tries again later, a refusal (not an admin, no right to pin) leaves it unpinned."""
    storage = _data(app).storage
    session = await storage.sessions.get(session_id)
    if session is None or not session.running or session.message_id is None or session.pinned:
        return
    try:
        pinned = await app.bot.pin_chat_message(
            session.group_id, session.message_id, disable_notification=True
        )
    except TelegramError as error:
        retry = _pin_retry(app, session.group_id, error)
        if retry is not None:
            log.info("session %s: pin again in %.1f s: %s", session_id, retry, described(error))
            _run_once(app, _pin_job, retry, session_id, Job.PIN, session.group_id)
        else:
            log.info("session %s: not pinned: %s", session_id, described(error))
        return
    await sessions.record_message(storage, session_id, session.message_id, pinned=pinned)


async def _render(
    app: Application, session: StoredSession, language: str
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    data = _data(app)
    config = data.config
    revision = await load(data.storage, session.case_number)
    if revision is None:
        return None
    case_letters = await data.storage.tally.count(session.case_number)
    body = text.message_text(
        session,
        revision,
        case_letters,
        time.time(),
        language,
        config.i18n.default_language,
        data.today(),
        config.sessions.minute_seconds,
    )
    username = app.bot.username
    with use_locale(language):
        if session.running:
            write = InlineKeyboardButton(
                "✍️ " + _("Write my letter"),
                url=deep_link(username, session_payload(session.token)),
            )
            sent = InlineKeyboardButton(
                "✅ " + _("I sent it"), callback_data=callbacks.SESSION_SENT.data(session.id)
            )
            return body, InlineKeyboardMarkup([[write, sent]])
        case = InlineKeyboardButton(
            "📖 " + _("The case"), url=deep_link(username, case_payload(session.case_number))
        )
        return body, InlineKeyboardMarkup([[case]])


# -- starting, counting down, ending ------------------------------------------------------------


async def begin(app: Application, session: StoredSession) -> None:
    """A session was started: its countdown and end jobs, and its message posted now."""
    now = time.time()
    await _data(app).storage.claims.take(sessions.claim(session.id), force=True)
    _schedule(app, sessions.plan(session, now, _data(app).config.sessions.minute_seconds))
    await changed(app, session.id)


def _schedule(app: Application, plan: sessions.Plan) -> None:
    session_id = plan.session.id
    _run_once(app, _end_job, plan.end_in, session_id, Job.END)
    if plan.next_tick_in is not None:
        jobs(app).run_repeating(
            _data(app).running.job(_tick_job),
            interval=plan.tick_every,
            first=plan.next_tick_in,
            data=Target(session_id),
            name=job_name(session_id, Job.TICK),
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )


async def _tick_job(context: Context) -> None:
    app, target = _target(context)
    await changed(app, target.session_id)


async def _ours(app: Application, session_id: int) -> bool:
    """Whether this instance still runs the session's jobs (its claim taken again before
    any Telegram call): one paused past the lease finds another took them over, and stops
    (the session's jobs here end)."""
    if await _data(app).storage.claims.take(sessions.claim(session_id), again=True):
        return True
    log.info("session %s: taken over by another instance", session_id)
    stop(app, session_id)
    return False


async def _end_job(context: Context) -> None:
    app, target = _target(context)
    if not await _ours(app, target.session_id):
        return
    ended = await sessions.end(_data(app).storage, target.session_id, time.time())
    if ended is not None:
        closed(app, ended)
    else:  # /session_end came first and closed it (here, or on another instance)
        stop(app, target.session_id)


def closed(app: Application, session: StoredSession) -> None:
    """A session ended (its time is up, or /session_end): its jobs stop, and at the group's
    next slot the message shows the result, is unpinned, and the thank-you follows."""
    stop(app, session.id)
    now = time.time()
    at = _data(app).session_pacer.next_slot(session.group_id, now)
    _run_once(app, _close_job, at - now, session.id, Job.CLOSE)


async def _close_job(context: Context) -> None:
    app, target = _target(context)
    await _close(app, target.session_id)


async def _close(app: Application, session_id: int) -> None:
    """The ended message shows the result at the group's slot, then the unpin. A group that
    removed the bot keeps it to close until the bot is back (``returned``)."""
    data = _data(app)
    session = await data.storage.sessions.get(session_id)
    if session is None:
        await sessions.closed(data.storage, session_id)
        return
    if await data.storage.groups.get(session.group_id) is None:
        return  # the bot is not in the group: closed when it is back
    if not await _ours(app, session_id) or session_id not in await sessions.closing(data.storage):
        return  # another instance runs it, or closed it already (its claim then gone)
    async with _lock(app, session_id):  # after an edit still on its way
        if not _in_slot(app, session.group_id, _close_job, session_id, Job.CLOSE):
            return
        note_sent(app, session.group_id)
        retry = await _show(app, session_id)
    if retry is not None:
        data.session_pacer.hold(session.group_id, time.time() + retry)
        _run_once(app, _close_job, retry, session_id, Job.CLOSE, session.group_id)
        return
    await _unpin(app, session_id)


# A pin or an unpin that failed on the way to Telegram (not refused) is tried again after this.
PIN_RETRY_SECONDS = 5.0


def _pin_retry(app: Application, chat_id: int, error: TelegramError) -> float | None:
    """After a failed pin or unpin: the seconds to try again in (Telegram's 429 holds the
    group's messages too), or None when Telegram refused it (no right to pin, gone)."""
    verdict = classify(error)
    if verdict is Verdict.RETRY_AFTER and isinstance(error, RetryAfter):
        retry = retry_after_seconds(error)
        _data(app).session_pacer.hold(chat_id, time.time() + retry)
        return retry
    return PIN_RETRY_SECONDS if verdict in (Verdict.TRANSIENT, Verdict.UNANSWERED) else None


async def _unpin_job(context: Context) -> None:
    app, target = _target(context)
    await _unpin(app, target.session_id)


async def _unpin(app: Application, session_id: int) -> None:
    """Unpin the ended message, then the thank-you at the group's next slot. Until the unpin
    is done the session stays pinned in the database and to close (``sessions.closing``), so
    a 429 or a network error tries again, and a restart too."""
    data = _data(app)
    session = await data.storage.sessions.get(session_id)
    if session is None or await data.storage.groups.get(session.group_id) is None:
        return
    if not await _ours(app, session_id):
        return
    if session.pinned and session.message_id is not None:
        try:
            await app.bot.unpin_chat_message(session.group_id, session.message_id)
        except TelegramError as error:
            retry = _pin_retry(app, session.group_id, error)
            if retry is not None:
                log.info(
                    "session %s: unpin again in %.1f s: %s", session_id, retry, described(error)
                )
                _run_once(app, _unpin_job, retry, session_id, Job.UNPIN, session.group_id)
                return
            log.info("session %s: not unpinned: %s", session_id, described(error))
        await sessions.record_message(data.storage, session_id, session.message_id, pinned=False)
    now = time.time()
    at = data.session_pacer.next_slot(session.group_id, now)
    _run_once(app, _thanks_job, at - now, session_id, Job.THANKS, session.group_id)


async def _thanks_job(context: Context) -> None:
    app, target = _target(context)
    data = _data(app)
    session_id = target.session_id
    session = await data.storage.sessions.get(session_id)
    if session is None or await sessions.quiet(data.storage, session_id):
        await sessions.closed(data.storage, session_id)  # no thank-you: the bot was removed
        data.session_locks.pop(session_id, None)
        return
    if await data.storage.groups.get(session.group_id) is None:
        return  # removed just now: closed quietly when the bot is back
    if not _in_slot(app, session.group_id, _thanks_job, session_id, Job.THANKS):
        return
    if not await _ours(app, session_id):
        return
    data.session_locks.pop(session_id, None)
    # Closed first: the one instance that takes it off ``closing`` thanks the group (a
    # crash right after loses the thank-you rather than sending two).
    if await sessions.closed(data.storage, session_id):
        await _send_thanks(app, session_id)


async def _thanks_again_job(context: Context) -> None:
    app, target = _target(context)
    await _send_thanks(app, target.session_id)


async def _send_thanks(app: Application, session_id: int) -> None:
    """The thank-you of a session this instance closed (``_thanks_job``); after a 429, again
    at the group's next slot (``_thanks_again_job``)."""
    data = _data(app)
    session = await data.storage.sessions.get(session_id)
    if session is None or (group := await data.storage.groups.get(session.group_id)) is None:
        return
    if not _in_slot(app, session.group_id, _thanks_again_job, session_id, Job.THANKS):
        return
    note_sent(app, session.group_id)
    thanks = text.thank_you(session, group.language, data.config.sessions.minute_seconds)
    try:
        await app.bot.send_message(session.group_id, "🙏 " + thanks, rate_limit_args=CHAT_PACED)
    except RetryAfter as error:
        retry = retry_after_seconds(error)
        data.session_pacer.hold(session.group_id, time.time() + retry)
        _run_once(app, _thanks_again_job, retry, session_id, Job.THANKS, session.group_id)
    except TelegramError as error:
        log.warning("session %s: no thank-you: %s", session_id, described(error))


async def returned(app: Application, chat_id: int) -> None:
    """The bot is back in a group that removed it: before anything else, the messages of its
    sessions that ended meanwhile show their result and are unpinned (no thank-you then: it
    would come late, into a group that chose to remove the bot)."""
    for session_id in await sessions.unclosed(_data(app).storage, chat_id):
        stop(app, session_id)
        await _close(app, session_id)


async def moved(app: Application, old_id: int, new_id: int) -> None:
    """The group became a supergroup (``sessions.migrate_group`` done): its running session
    posts its message in the new chat now, not at the next minute (ids start again there)."""
    _data(app).session_pacer.forget(old_id)
    await group_changed(app, new_id)


async def group_changed(app: Application, chat_id: int) -> None:
    """Something of the group its session message shows changed (the group's language, a
    new chat id): the running session's message is edited (paced), if one runs."""
    running = await _data(app).storage.sessions.running(chat_id)
    if running is not None:
        await changed(app, running.id)


async def removed(app: Application, chat_id: int) -> None:
    """The bot was removed from a group (``sessions.forget_group`` done): nothing can be
    posted there any more, so its sessions' jobs and its waiting replies stop."""
    for session_id in await sessions.unclosed(_data(app).storage, chat_id):
        stop(app, session_id)
    for job in jobs(app).jobs():
        if isinstance(job.data, Reply) and job.data.chat_id == chat_id:
            job.schedule_removal()
    _data(app).session_pacer.forget(chat_id)


def stop(app: Application, session_id: int) -> None:
    """Cancel a session's jobs (its countdown, its end, a planned edit, its closing): the
    session ended, or the bot was removed from the group (nothing can be posted there)."""
    queue = jobs(app)
    for kind in Job:
        for job in queue.get_jobs_by_name(job_name(session_id, kind)):
            if kind is Job.EDIT and isinstance(job.data, Target):
                _data(app).session_pacer.cancel(job.data.planned_chat)
            job.schedule_removal()


async def resume(app: Application) -> None:
    """At start-up: every running session's jobs again and one edit at once (a confirmation
    just before the stop may not show yet); a session whose time ran out while the bot was
    down ends now; one that ended just before the stop is closed now (its result, the unpin,
    the thank-you)."""
    data = _data(app)
    for session_id in await sessions.closing(data.storage):
        if await _adopt(app, session_id):
            _run_once(app, _close_job, 0.0, session_id, Job.CLOSE)
    for plan in await sessions.resume(
        data.storage, time.time(), data.config.sessions.minute_seconds
    ):
        if not await _adopt(app, plan.session.id):
            continue
        if plan.end_in <= 0:
            ended = await sessions.end(data.storage, plan.session.id, time.time())
            if ended is not None:
                closed(app, ended)
            continue
        _schedule(app, plan)
        await changed(app, plan.session.id)


async def _adopt(app: Application, session_id: int) -> bool:
    """Whether this instance runs the session's jobs from now on: always on SQLite; with
    several instances (issue 16 §4), if no living instance holds its claim and it has no
    jobs here already. ``resume`` runs at the start and then every few seconds there
    (bot.app), so that the sessions of an instance that died are ended and closed once."""
    queue = jobs(app)
    if any(queue.get_jobs_by_name(job_name(session_id, kind)) for kind in Job):
        return False
    return await _data(app).storage.claims.take(sessions.claim(session_id))

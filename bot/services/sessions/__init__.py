"""Writing sessions in groups (issue 15): the one place that starts, counts and ends them.

A group admin starts a session for a case (``start``); members' "I sent it" count for it
(``confirm`` under the session message, ``confirm_letter`` under a letter begun from its
link, which ``join`` records); it ends when its time is up, an admin ends it or its case is
closed (``end``, ``end_case``); a restart finds the running ones again (``resume``). Each write
owns its transaction. Privacy: who came through the link and who wrote are kept only while a
session runs (to count their letters there, each person once); ``end`` drops both with the
final count. The link names a session by its token: row ids are sequential, easily guessed.

Handlers and jobs (Telegram) come on top: they post and edit the message (``text``), paced by
``pacing.EditPacer``, and schedule what ``plan`` says.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import dataclass
from datetime import date

from bot.actions import deadlines
from bot.actions.model import ActionRevision
from bot.config import SessionsConfig
from bot.metrics import Metrics
from bot.storage import Storage, StoredSession

TOKEN_BYTES = 16  # a session link's token: 22 URL-safe characters, 128 random bits


class StartRefused(enum.Enum):
    UNKNOWN_GROUP = "unknown group"  # the bot has no row for the chat (not added, or removed)
    RUNNING = "running"  # the group holds a session already
    NO_CASE = "no case"  # the case named is closed (or, none named, none open and in time)
    UNKNOWN_CASE = "unknown case"  # no published case has the number named
    BAD_MINUTES = "bad minutes"  # not between 1 and sessions.max_minutes


@dataclass(frozen=True)
class Started:
    session: StoredSession | None
    refused: StartRefused | None = None
    running: StoredSession | None = None  # the session already running, when RUNNING


async def start(
    storage: Storage,
    config: SessionsConfig,
    group_id: int,
    now: float,
    case_number: str | None = None,
    minutes: int | None = None,
    *,
    today: date | None = None,
) -> Started:
    """Start a session in a group: ``minutes`` default to ``sessions.default_minutes``, the
    case to the newest open one still in time on ``today`` (the bot's day; by default the
    day of ``now``). A case named may be past its deadline: its message says so. One per
    group: the schema refuses a second running one."""
    minutes = config.default_minutes if minutes is None else minutes
    if not 1 <= minutes <= config.max_minutes:
        return Started(None, StartRefused.BAD_MINUTES)
    async with storage.db.transaction():
        if await storage.groups.get(group_id) is None:
            return Started(None, StartRefused.UNKNOWN_GROUP)
        if (running := await storage.sessions.running(group_id)) is not None:
            return Started(None, StartRefused.RUNNING, running)
        case = await _open_case(storage, case_number, today or date.fromtimestamp(now))
        if isinstance(case, StartRefused):
            return Started(None, case)
        ends_at = now + minutes * config.minute_seconds
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session_id = await storage.sessions.start(group_id, case, now, minutes, ends_at, token)
        if session_id is None:  # cannot happen under the transaction; the schema says so
            return Started(None, StartRefused.RUNNING, await storage.sessions.running(group_id))
        session = await storage.sessions.get(session_id)
    return Started(session)


async def _open_case(storage: Storage, case_number: str | None, today: date) -> str | StartRefused:
    """The case named if it is published and open; no name: the newest open case whose
    deadline has not passed (as /actions lists them: in time first). Else why not."""
    if case_number is None:
        # expired_days plays no part: the cases in time are listed before any expired one.
        in_time = (await deadlines.listed(storage, today, expired_days=0)).current
        return in_time[0].case if in_time else StartRefused.NO_CASE
    stored = await storage.revisions.latest(case_number, published_only=True)
    if stored is None:
        return StartRefused.UNKNOWN_CASE
    if ActionRevision.from_json(stored.content).is_closed:
        return StartRefused.NO_CASE
    return stored.case_number


async def record_message(
    storage: Storage, session_id: int, message_id: int, *, pinned: bool
) -> None:
    """The session message was posted (and pinned, where the bot may): edits and the end
    find it after a restart."""
    async with storage.db.transaction():
        await storage.sessions.set_message(session_id, message_id, pinned=pinned)


class Counted(enum.Enum):
    COUNTED = "counted"  # this person's first letter in the session (new for the case or not)
    CASE_ONLY = "case only"  # new for the case, but this person counted in the session already
    ALREADY = "already"  # counted in the session already, and had confirmed this revision
    ENDED = "ended"  # no running session by this id: nothing counted
    UNKNOWN_PERSON = "unknown"  # no user row (never started the bot, or /forget)
    NOT_OFFERED = "not offered"  # the case has no open published revision any more


@dataclass(frozen=True)
class SessionConfirmation:
    outcome: Counted
    session: StoredSession | None = None  # as it stands after the confirmation
    case_letters: int = 0  # letters for the case, every revision, person and session
    case_new: bool = False  # a new confirmation for the case (one per person and revision)


async def join(storage: Storage, session_id: int, user_id: int) -> bool:
    """Someone came through a running session's link (its token, ``by_token``): their
    letters for its case count there (``confirm_letter``) until it ends. False when it ended
    (or the person is unknown: nothing to link)."""
    async with storage.db.transaction():
        session = await storage.sessions.get(session_id)
        if session is None or not session.running or await storage.users.get(user_id) is None:
            return False
        await storage.sessions.join(session_id, user_id)
        return True


async def came_through(storage: Storage, user_id: int, case_number: str) -> bool:
    """Whether this person came through the link of a running session of this case: their
    letter's "I sent it" says so, to tell them if the session has ended by their tap."""
    return await storage.sessions.joined(user_id, case_number) is not None


async def by_token(storage: Storage, token: str) -> StoredSession | None:
    """The session a link's token names, running or ended; None: no session has it."""
    return await storage.sessions.by_token(token)


async def confirm(
    storage: Storage,
    session_id: int,
    user_id: int,
    letter_language: str,
    today: date,
    metrics: Metrics | None = None,
    *,
    chat_id: int | None = None,
) -> SessionConfirmation:
    """One member's "I sent it" under the session message, for the case of a running session.

    The letter is one confirmation of the case's latest published revision, as in a private
    chat (one per person and revision), and counts for the session when its writer has not
    counted in this session yet, whether or not the case had their letter before (a member
    who wrote for the case at home or at an earlier session writes again tonight): each
    person counts once in a session, and once per revision for the case. One transaction,
    so concurrent confirmations are counted exactly (the database serialises them).
    ``chat_id``: the chat the button was tapped in; the session of another group (crafted
    data) counts nothing.
    """
    async with storage.db.transaction():
        session = await storage.sessions.get(session_id)
        if session is None or not session.running:
            return SessionConfirmation(Counted.ENDED, session)
        if chat_id is not None and chat_id != session.group_id:
            return SessionConfirmation(Counted.ENDED)
        result = await _count(storage, session, user_id, None, letter_language, today)
    _counted(result, metrics)
    return result


async def confirm_letter(
    storage: Storage,
    user_id: int,
    case_number: str,
    revision: int,
    letter_language: str,
    today: date,
    metrics: Metrics | None = None,
) -> SessionConfirmation:
    """A letter's "I sent it" in a private chat, from someone who came through the link of a
    running session of its case (``join``): one confirmation of the letter's own revision
    (a follow-up published since changes nothing; the caller checked that the revision takes
    letters), counted in that session as ``confirm`` does. ENDED when they came through no
    running session's link for the case."""
    async with storage.db.transaction():
        session = await storage.sessions.joined(user_id, case_number)
        if session is None:
            return SessionConfirmation(Counted.ENDED)
        result = await _count(storage, session, user_id, revision, letter_language, today)
    _counted(result, metrics)
    return result


async def _count(
    storage: Storage,
    session: StoredSession,
    user_id: int,
    revision: int | None,
    letter_language: str,
    today: date,
) -> SessionConfirmation:
    """The count of ``confirm`` and ``confirm_letter``, inside their transaction: ``revision``
    None is the case's latest (the session message's button names none)."""
    stored = await storage.revisions.latest(session.case_number, published_only=True)
    if stored is None or ActionRevision.from_json(stored.content).is_closed:
        return SessionConfirmation(Counted.NOT_OFFERED, session)
    if await storage.users.get(user_id) is None:
        return SessionConfirmation(Counted.UNKNOWN_PERSON, session)
    new = await storage.tally.confirm(
        stored.case_number,
        stored.revision if revision is None else revision,
        user_id,
        letter_language,
        today,
    )
    counted = await storage.sessions.add_writer(session.id, user_id)
    now = await storage.sessions.get(session.id)
    case_letters = await storage.tally.count(stored.case_number)
    outcome = Counted.COUNTED if counted else Counted.CASE_ONLY if new else Counted.ALREADY
    return SessionConfirmation(outcome, now, case_letters, case_new=new)


def _counted(result: SessionConfirmation, metrics: Metrics | None) -> None:
    if metrics is not None and result.case_new:
        metrics.letters_confirmed.inc()


async def end(storage: Storage, session_id: int, now: float) -> StoredSession | None:
    """End a running session (its time is up, or a group admin ended it): the final count
    stays, who wrote goes. The ended session, or None when it had ended already (the end job
    and /session_end racing: only one of them posts the thank-you).

    In the same transaction it becomes one to close (``closing``): its message still shows
    it running until the result, the unpin and the thank-you are out, and a restart in
    between finds it there."""
    async with storage.db.transaction():
        if not await storage.sessions.end(session_id, now):
            return None
        await _set_closing(storage, session_id, True)
        # Several instances (issue 16 §4): the one that ended it closes it, taken over by
        # another only if this one dies first.
        await storage.claims.take(claim(session_id), force=True)
        return await storage.sessions.get(session_id)


def claim(session_id: int) -> str:
    """The claim (``storage.claims``) of the instance that runs a session's jobs."""
    return f"session-{session_id}"


CLOSING = "sessions.closing"  # job_state: ids of ended sessions whose message is not closed


async def closing(storage: Storage) -> list[int]:
    """Ended sessions whose message has not shown the result yet (a restart closes them)."""
    return sorted(json.loads(await storage.job_state.get(CLOSING) or "[]"))


async def closed(storage: Storage, session_id: int) -> bool:
    """The session's message shows the result, is unpinned, and the thank-you is due (or
    the message is gone); whether this call took it off ``closing``. Several instances: the
    one that did (one conditional transaction, the list locked) alone thanks the group."""
    async with storage.db.transaction():
        ids = set(json.loads(await storage.job_state.get_for_update(CLOSING) or "[]"))
        took = session_id in ids
        if took:
            ids.discard(session_id)
            await storage.job_state.set(CLOSING, json.dumps(sorted(ids)))
        await _set(storage, QUIET, session_id, False)
        await storage.claims.release(claim(session_id))
    return took


# job_state: ids of sessions to close (``closing``) whose group removed the bot meanwhile:
# the message still shows the result when the bot is back, but no thank-you comes then.
QUIET = "sessions.quiet"


async def quiet(storage: Storage, session_id: int) -> bool:
    """Whether the session's close posts no thank-you (the group removed the bot)."""
    return session_id in await _ids(storage, QUIET)


async def unclosed(storage: Storage, group_id: int) -> list[int]:
    """The group's ended sessions whose message does not show the result yet."""
    ids = []
    for session_id in await closing(storage):
        session = await storage.sessions.get(session_id)
        if session is not None and session.group_id == group_id:
            ids.append(session_id)
    return ids


async def _ids(storage: Storage, key: str) -> set[int]:
    return set(json.loads(await storage.job_state.get(key) or "[]"))


async def _set(storage: Storage, key: str, session_id: int, member: bool) -> None:
    async with storage.db.transaction():  # another instance's change to the list kept
        ids = set(json.loads(await storage.job_state.get_for_update(key) or "[]"))
        if (session_id in ids) == member:
            return
        if member:
            ids.add(session_id)
        else:
            ids.discard(session_id)
        await storage.job_state.set(key, json.dumps(sorted(ids)))


async def _set_closing(storage: Storage, session_id: int, pending: bool) -> None:
    await _set(storage, CLOSING, session_id, pending)


async def end_case(storage: Storage, case_number: str, now: float) -> list[StoredSession]:
    """The case was closed: its running sessions end (each as ``end``: a letter can no longer
    be counted there), returned so that their messages show the result."""
    async with storage.db.transaction():
        ended = [
            await end(storage, s.id, now)
            for s in await storage.sessions.running_for_case(case_number)
        ]
    return [session for session in ended if session is not None]


async def end_in_group(storage: Storage, group_id: int, now: float) -> StoredSession | None:
    """/session_end: end the group's running session, if it has one."""
    async with storage.db.transaction():
        running = await storage.sessions.running(group_id)
        return None if running is None else await end(storage, running.id, now)


@dataclass(frozen=True)
class Plan:
    """What a (re)started bot schedules for one running session."""

    session: StoredSession
    end_in: float  # seconds until the end job (0: time is up, end it now)
    next_tick_in: float | None  # seconds until the next countdown edit; None: end first
    tick_every: float  # the countdown's period: one session minute


def plan(session: StoredSession, now: float, minute_seconds: float = 60.0) -> Plan:
    """The end job at ``ends_at`` and the countdown on the session's minute marks (so
    "47 minutes left" changes when a minute has passed, not a minute after a restart)."""
    end_in = max(0.0, session.ends_at - now)
    elapsed = max(0.0, now - session.started_at)
    marks = int(elapsed // minute_seconds) + 1
    tick_at = session.started_at + marks * minute_seconds
    next_tick = tick_at - now if tick_at < session.ends_at else None
    return Plan(session, end_in, next_tick, minute_seconds)


async def resume(storage: Storage, now: float, minute_seconds: float = 60.0) -> list[Plan]:
    """After a restart: every running session and what to schedule for it. Each needs its
    end job and its countdown again, and one edit of its message at once (a confirmation
    just before the stop may not have been shown); sessions whose time ran out while the
    bot was down come with ``end_in == 0``."""
    return [plan(s, now, minute_seconds) for s in await storage.sessions.all_running()]


async def add_group(storage: Storage, chat_id: int, language: str) -> bool:
    """The bot was added to a group: record its id and language; False when known."""
    async with storage.db.transaction():
        return await storage.groups.add(chat_id, language)


async def set_language(storage: Storage, chat_id: int, language: str) -> bool:
    async with storage.db.transaction():
        return await storage.groups.set_language(chat_id, language)


async def forget_group(storage: Storage, chat_id: int, now: float) -> StoredSession | None:
    """The bot was removed from a group: forget it, and end its running session (returned,
    so its jobs can be cancelled; nothing can be posted there any more). Its sessions'
    messages that do not show their result yet stay to close (``unclosed``) when the bot is
    back, quietly: no thank-you comes into a group that removed the bot (``quiet``)."""
    async with storage.db.transaction():
        ended = await end_in_group(storage, chat_id, now)
        await storage.groups.remove(chat_id)
        for session_id in await unclosed(storage, chat_id):
            await _set(storage, QUIET, session_id, True)
    return ended


async def migrate_group(storage: Storage, old_id: int, new_id: int) -> None:
    """The group became a supergroup (``migrate_to_chat_id``): its row and its sessions,
    the running one too, take the new id."""
    async with storage.db.transaction():
        await storage.groups.move(old_id, new_id)
        await storage.sessions.move_group(old_id, new_id)

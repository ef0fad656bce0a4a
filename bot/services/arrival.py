"""What a ``/start`` does, with or without a deep link's payload: the rules in one place.

A plain /start greets and subscribes, as it always did. A link (``t.me/<bot>?start=ua-046-19``)
is someone following a case: a newcomer is greeted and subscribed first (the language comes
from Telegram's ``language_code``, as for any update), a known user goes straight to the case,
without the greeting again and without touching their alerts. A case number typed after
/start by hand ("/start UA 012/26") counts as its link. A closed case's link shows how it
ended (its closure), not only that it ended.

A group's session link (``session-<token>``, "✍️ Write my letter" under a session message)
opens the letter for the session's case, and while the session runs, whoever came through it
has their letter counted there (``sessions.join``). A member who never
started the bot comes from a group, not from a wish for alerts: they are greeted and stored
(their language) but not subscribed; the greeting offers the alerts instead. A session that
ended meanwhile still leads to its case's letter (with a note); an unknown one to the open
cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.actions import deadlines
from bot.actions.importer import load
from bot.actions.links import StartRequest, parse_payload, parse_typed
from bot.actions.model import ActionRevision
from bot.services import sessions, subscriptions
from bot.storage import Storage

NEWEST_SHOWN = 3  # open cases a new subscriber sees right after the greeting


@dataclass(frozen=True)
class Arrival:
    """The outcome of one /start.

    ``greet``: say the welcome (a plain /start, or a newcomer's link).
    ``subscribed_now``: alerts were off until now (a new subscriber): a plain /start shows
    the newest open cases after the welcome.
    ``request``: what the link asked for (None: a plain /start, or a payload Telegram never
    sends, which counts as one).
    ``session``: the running group session the letter counts for (a session link).
    ``session_gone``: a session link whose session ended or never was: no letter counts
    for it (``case`` is its case if still open, else None: the open cases are shown).
    ``case``: the open case the link names; None with a request means it names none, an
    unknown case or a closed one (``asked`` is the case it named, if any; ``closure``: the
    closed case's last revision, the closure).
    """

    greet: bool
    subscribed_now: bool
    request: StartRequest | None
    case: ActionRevision | None = None
    closure: ActionRevision | None = None
    session: int | None = None
    session_gone: bool = False
    session_case: str | None = None  # the case of the session a session link names

    @property
    def offer_alerts(self) -> bool:
        """A newcomer brought in by a group's session: greeted, not subscribed."""
        return self.greet and self.request is not None and self.request.session is not None

    @property
    def closed(self) -> bool:
        """The case the link names is closed."""
        return self.closure is not None

    @property
    def asked(self) -> str | None:
        return self.session_case or (self.request.case if self.request else None)

    @property
    def unavailable(self) -> bool:
        """The link names no open case: say so politely and show the open ones."""
        return self.request is not None and self.case is None


async def arrive(storage: Storage, user_id: int, language: str, payload: str | None) -> Arrival:
    """Subscribe whoever is greeted and find the open case a link names.

    Opening a case by its link counts as opening its card (a deadline reminder is welcome);
    a ``write-`` link leaves that to the letter, which notes it itself.
    """
    request = (parse_payload(payload) or parse_typed(payload)) if payload else None
    greet = request is None or await storage.users.get(user_id) is None
    if request is not None and request.session is not None:
        return await _session_arrival(storage, user_id, language, request, greet)
    subscribed_now = greet and await subscriptions.subscribe(storage, user_id, language)
    if request is None or request.case is None:
        return Arrival(greet, subscribed_now, request)
    revision = await load(storage, request.case)
    if revision is None or revision.is_closed:
        return Arrival(greet, subscribed_now, request, closure=revision)
    if not request.write:
        await subscriptions.note_interest(storage, user_id, revision.case)
    return Arrival(greet, subscribed_now, request, revision)


async def _session_arrival(
    storage: Storage, user_id: int, language: str, request: StartRequest, greet: bool
) -> Arrival:
    """A session link: bring a newcomer in unsubscribed, find the session's open case."""
    assert request.session is not None
    if greet:
        await subscriptions.join_unsubscribed(storage, user_id, language)
    session = await sessions.by_token(storage, request.session)
    if session is None:
        return Arrival(greet, False, request, session_gone=True)
    case = session.case_number
    revision = await load(storage, case)
    if revision is None or revision.is_closed:
        gone = not session.running
        return Arrival(
            greet, False, request, closure=revision, session_gone=gone, session_case=case
        )
    tied = (
        session.id
        if session.running and await sessions.join(storage, session.id, user_id)
        else None
    )
    return Arrival(
        greet, False, request, revision, session=tied, session_gone=tied is None, session_case=case
    )


async def newest_open(
    storage: Storage, today: date, expired_days: int, limit: int = NEWEST_SHOWN
) -> tuple[list[ActionRevision], int]:
    """The first ``limit`` cases /actions lists (in time, newest first, then the recently
    expired) and how many it lists in all."""
    listed = (await deadlines.listed(storage, today, expired_days)).all
    return listed[:limit], len(listed)

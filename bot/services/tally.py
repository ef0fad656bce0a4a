"""How an "I sent it" counts: the one place that decides whether a tap is a letter.

Buttons live for ever in users' chats and their callback data can be crafted, so a tap is
checked here, not in the handler: the person must be known to the bot (after /forget they are
not, and an old button must not bring them back and count their letter twice), the revision
must be published and not a closure, and a letter language named by the button must be one
the case offers.

Someone who came through a group's writing session link ("Write my letter", its token) has
their letters for its case counted there too while it runs (``sessions.confirm_letter``): the
server knows they came, a button cannot claim it. Once the session has ended, a letter counts
for the case alone, as any other. Buttons from before named the session's id: it is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from bot.actions.model import ActionRevision
from bot.metrics import Metrics
from bot.ptb import callbacks
from bot.services import sessions
from bot.storage import Storage, StoredSession


class Outcome(enum.Enum):
    COUNTED = "counted"  # a new confirmation
    ALREADY = "already"  # this person confirmed this revision before
    UNKNOWN_PERSON = "unknown"  # no user row (after /forget): nothing is created or counted
    NOT_OFFERED = "not offered"  # no such published revision, or a language it has no letter in


@dataclass(frozen=True)
class Confirmation:
    outcome: Outcome
    revision: ActionRevision | None = None
    letters: int = 0  # letters confirmed for the case, every revision and person
    people: int = 0  # people who confirmed a letter for the case, each counted once
    # The running group session of the letter (a new letter moves the case's total its
    # message shows), and whether the letter counted there (not when its writer had already).
    session: StoredSession | None = None
    session_counted: bool = False


@dataclass(frozen=True)
class SentButton:
    """What an "I sent it" button names: a revision and, under a document, its language."""

    case: str
    revision: int
    letter_language: str | None


def sent_data(revision: ActionRevision, letter_language: str) -> str:
    """The callback data of "I sent it" under a letter."""
    ref = (callbacks.case_ref(revision.case), revision.revision, letter_language)
    return callbacks.SENT.data(*ref)


def parse_sent(data: str | None) -> SentButton | None:
    """The button's arguments, or None when they are not what the bot ever builds."""
    parsed = callbacks.SENT.parse(data, str, int, optional=2)
    if parsed is None:
        return None
    rest = parsed.rest
    # A letter's button from before named its session's id (a number): ignored now.
    if len(rest) > 1 and (callbacks.number(rest[1]) is None or len(rest[1]) > 18):
        return None
    return SentButton(
        callbacks.case_from_ref(parsed.text(0)), parsed.integer(1), rest[0] if rest else None
    )


async def confirm_sent(
    storage: Storage,
    data: str | None,
    user_id: int,
    reader_language: str,
    today: date,
    metrics: Metrics | None = None,
) -> Confirmation:
    """Count one letter for ``user_id`` if the tap on ``data`` is genuine (module docstring),
    sent ``today`` (the bot's clock: a follow-up names that day).

    A card's button names no letter language: the reader's language (always a configured one)
    is recorded. A document's button names the letter's language, which the case must offer.
    """
    button = parse_sent(data)
    if button is None:
        return Confirmation(Outcome.NOT_OFFERED)
    stored = await storage.revisions.get(button.case, button.revision)
    if stored is None or not stored.published:
        return Confirmation(Outcome.NOT_OFFERED)
    revision = ActionRevision.from_json(stored.content)
    if revision.is_closed:  # a closure never carries the button: it takes no letters
        return Confirmation(Outcome.NOT_OFFERED)
    language = button.letter_language
    if language is not None and language not in revision.letters:
        return Confirmation(Outcome.NOT_OFFERED)
    if language is not None:  # a letter's button: its writer may write for a group's session
        in_session = await _confirm_in_session(
            storage, revision, user_id, language, today, metrics
        )
        if in_session is not None:
            return in_session
    async with storage.db.transaction():  # /forget cannot come between the check and the count
        if await storage.users.get(user_id) is None:
            return Confirmation(Outcome.UNKNOWN_PERSON, revision)
        new = await storage.tally.confirm(
            revision.case, revision.revision, user_id, language or reader_language, today
        )
        letters = await storage.tally.count(revision.case)
        people = await storage.tally.people(revision.case)
    if new and metrics is not None:
        metrics.letters_confirmed.inc()
    return Confirmation(Outcome.COUNTED if new else Outcome.ALREADY, revision, letters, people)


_SESSION_OUTCOMES = {
    sessions.Counted.COUNTED: Outcome.COUNTED,
    sessions.Counted.CASE_ONLY: Outcome.COUNTED,  # new for the case; counted in the session before
    sessions.Counted.ALREADY: Outcome.ALREADY,
    sessions.Counted.UNKNOWN_PERSON: Outcome.UNKNOWN_PERSON,
}


async def _confirm_in_session(
    storage: Storage,
    revision: ActionRevision,
    user_id: int,
    language: str,
    today: date,
    metrics: Metrics | None,
) -> Confirmation | None:
    """Count the letter (its button's revision) through the running session its writer came
    to by the link; None when there is none (never came, ended, its case closed since): then
    it counts as any letter does."""
    result = await sessions.confirm_letter(
        storage, user_id, revision.case, revision.revision, language, today, metrics
    )
    outcome = _SESSION_OUTCOMES.get(result.outcome)
    if outcome is None:
        return None
    if outcome is Outcome.UNKNOWN_PERSON:
        return Confirmation(outcome, revision)
    assert result.session is not None  # the running session, as it stands now
    people = await storage.tally.people(revision.case)
    return Confirmation(
        outcome,
        revision,
        result.case_letters,
        people,
        session=result.session if outcome is Outcome.COUNTED else None,
        session_counted=result.outcome is sessions.Counted.COUNTED,
    )

"""How an "I sent it" counts: the one place that decides whether a tap is a letter.

Buttons live for ever in users' chats and their callback data can be crafted, so a tap is
checked here, not in the handler: the person must be known to the bot (after /forget they are
not, and an old button must not bring them back and count their letter twice), the revision
must be published and not a closure, and a letter language named by the button must be one
the case offers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from bot.actions.model import ActionRevision
from bot.metrics import Metrics
from bot.ptb import callbacks
from bot.storage import Storage


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


@dataclass(frozen=True)
class SentButton:
    """What an "I sent it" button names: a revision and, under a document, its language."""

    case: str
    revision: int
    letter_language: str | None


def parse_sent(data: str | None) -> SentButton | None:
    """The button's arguments, or None when they are not what the bot ever builds."""
    parsed = callbacks.SENT.parse(data, str, int, optional=1)
    if parsed is None:
        return None
    return SentButton(
        callbacks.case_from_ref(parsed.text(0)),
        parsed.integer(1),
        parsed.rest[0] if parsed.rest else None,
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

"""The letter being written: its draft, the checks on what the supporter types, its preview.

The draft lives in PTB's user_data (persisted, so a restart resumes it) only while the letter
is written: making the letter, /cancel, the conversation's timeout or, after a restart, the
sweep of abandoned drafts (``abandoned``) removes it. Sender details outlive a letter only
when the supporter ticks "remember my name and place".
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from bot.actions.model import ActionRevision
from bot.i18n import SOURCE_LANGUAGE, current_locale, format_date, language_name
from bot.i18n import gettext as _
from bot.letters.compose import Letter
from bot.letters.compose import letter_for as compose_letter_for
from bot.telegram_text import escape, pack, paragraphs
from bot.text_input import InvalidInput, check_text, has_letters

DRAFT_KEY = "letter"
SENDER_KEY = "sender"
NAME_MAX = 80
PLACE_MAX = 100
PERSONAL_MAX = 500
TIMEOUT_SECONDS = 30 * 60  # a letter left alone this long is closed and its draft deleted

__all__ = ["Draft", "InvalidInput", "check_name", "check_personal", "check_place"]


@dataclass
class Draft:
    case: str
    revision: int
    language: str | None = None
    addressee: int | None = None
    name: str | None = None
    place: str | None = None
    personal: str | None = None
    remember: bool = False
    touched: float = 0.0  # time.time() of the last step: abandoned drafts are swept by it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        return cls(**data)


def check_name(text: str | None) -> str:
    """A signature: some letters, one line, not only emoji or digits."""
    name = check_text(text, NAME_MAX)
    if "\n" in name:
        raise InvalidInput(_("Please send the name on one line."))
    if not has_letters(name):
        raise InvalidInput(_("A name needs letters, not only digits or emoji."))
    return name


def check_place(text: str | None) -> str:
    place = check_text(text, PLACE_MAX)
    if "\n" in place:
        raise InvalidInput(_("Please send the city and country on one line."))
    if not has_letters(place):
        raise InvalidInput(_("A city and country need letters, not only digits or emoji."))
    return place


def check_personal(text: str | None) -> str:
    return check_text(text, PERSONAL_MAX)


def initials(first_name: str | None, last_name: str | None) -> str | None:
    """ "Ada Lovelace" -> "A. L.": a signature that does not name the supporter in full."""
    parts = [part for part in f"{first_name or ''} {last_name or ''}".split() if has_letters(part)]
    letters = [
        next(char for char in part if unicodedata.category(char).startswith("L")) for part in parts
    ]
    return " ".join(f"{letter.upper()}." for letter in letters[:3]) or None


def letter_for(
    draft: Draft,
    revision: ActionRevision,
    on: date,
    *,
    default_language: str = SOURCE_LANGUAGE,
    region: str | None = None,
) -> Letter:
    """The draft's letter; in a language other than the reader's (the current locale), with
    a translation page in the reader's language."""
    assert draft.language and draft.name and draft.addressee is not None
    return compose_letter_for(
        revision,
        draft.addressee,
        draft.language,
        sender_name=draft.name,
        sender_place=draft.place,
        personal=draft.personal,
        on=on,
        default_language=default_language,
        reader_language=current_locale.get(),
        region=region,
    )


def preview(letter: Letter) -> list[str]:
    """The letter as text, for checking before the document is made (split if long)."""
    addressee = letter.addressee
    sender = "\n".join(
        [letter.sender_name, *([letter.sender_place] if letter.sender_place else [])]
    )
    blocks = [
        "<b>"
        + escape(
            _("Your letter ({language})").format(language=language_name(letter.language, None))
        )
        + "</b>",
        escape(sender),
        escape(format_date(letter.on, letter.language)),
        escape("\n".join([addressee.role, *(addressee.address or "").splitlines()])),
        escape(letter.template.salutation),
        *paragraphs(letter.template.body),
    ]
    if letter.personal:
        blocks.append("<i>" + escape(letter.personal) + "</i>")
    blocks += [escape(letter.template.closing), escape(letter.sender_name)]
    return pack(blocks)


def where_to_send(letter: Letter) -> str:
    """The caption of the document: how this letter reaches its addressee."""
    addressee = letter.addressee
    lines = ["✉️ " + escape(_("Your letter – addressee: {role}.").format(role=addressee.role))]
    if addressee.address:
        lines.append(escape(_("Print it, sign it and post it to the address in the letter.")))
    if addressee.email and addressee.address:
        lines.append(escape(_("Or send it by e-mail to {email}.").format(email=addressee.email)))
    elif addressee.email:
        lines.append(escape(_("Send it by e-mail to {email}.").format(email=addressee.email)))
    lines.append(escape(_("Then tap “I sent it”: every letter is counted.")))
    return "\n".join(lines)


def abandoned(user_data: dict[str, Any], now: float, after_seconds: float) -> bool:
    """Whether a supporter's data holds a draft untouched for longer than ``after_seconds``.

    PTB does not persist a conversation's timeout job, so after a restart this is what ends
    a letter that was left alone.
    """
    draft = user_data.get(DRAFT_KEY)
    if not draft:
        return False
    return now - float(draft.get("touched", 0.0)) > after_seconds

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

from bot.actions.model import PERSONAL_MAX, ActionRevision, Addressee
from bot.i18n import current_locale, language_name, ngettext
from bot.i18n import gettext as _
from bot.letters import compose
from bot.letters.compose import Letter
from bot.ptb.text import MESSAGE_LIMIT, escape, pack, paragraphs
from bot.text_input import InvalidInput, check_text, has_letters

DRAFT_KEY = "letter"
SENDER_KEY = "sender"
NAME_MAX = 80
PLACE_MAX = 100
RECORD_MAX = 60  # characters of an answer repeated in a step's one-line record

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
    # The open step: its buttons carry ``step``, so a button of an answered step (or of an
    # earlier letter) is refused; ``prompt`` is its message, edited into a record once answered.
    step: int = 0
    prompt: int | None = None
    creating: bool = False  # claimed by a "Create" tap: a second tap makes no second document
    claimed: int | None = None  # the step a tap is answering: a second tap on it does nothing
    # No group writing session here: a draft outlives the session it was begun for, and would
    # link its writer to the group's session (sessions.join keeps that only while it runs).

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


def record(label: str, answer: str | None) -> str:
    """A step's one-line record once answered ("Language: Deutsch ✓"), as escaped HTML."""
    shown = _("skipped") if not answer else shorten(answer.replace("\n", " "), RECORD_MAX)
    # Translators: a step of the letter once answered: its label, then the answer.
    return escape(_("{label}: {answer}").format(label=label, answer=shown)) + " ✓"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–-") + "…"


def offered_languages(revision: ActionRevision, own: str) -> list[str]:
    """The letter languages in the picker's order: the supporter's own, the recommended ones
    (the target's language first, as the organisation advises), then the rest."""
    recommended = revision.recommended_languages
    return sorted(
        revision.letters,
        key=lambda code: (
            code != own,
            recommended.index(code) if code in recommended else len(recommended),
            code,
        ),
    )


def offered_addressees(revision: ActionRevision) -> list[tuple[int, Addressee]]:
    """(index, addressee) in the picker's order: those the letter is for, then the copies."""
    return sorted(enumerate(revision.addressees), key=lambda item: item[1].copy)


def letter_for(
    draft: Draft,
    revision: ActionRevision,
    on: date,
    *,
    default_language: str,
    reader_language: str,
    region: str | None = None,
    date_place: str | None = None,
) -> Letter:
    """The draft's letter; in a language other than the reader's (when theirs has a letter)
    it carries a translation page for them."""
    assert draft.language and draft.name and draft.addressee is not None
    return compose.letter_for(
        revision,
        draft.addressee,
        draft.language,
        sender_name=draft.name,
        sender_place=draft.place,
        personal=draft.personal,
        on=on,
        default_language=default_language,
        reader_language=reader_language,
        region=region,
        date_place=date_place,
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
            _("Your letter ({language})").format(
                language=language_name(letter.language, current_locale.get())
            )
        )
        + "</b>",
        escape(sender),
        escape(compose.date_line(letter)),
        escape(_recipient_lines(letter, addressee)),
    ]
    if subject := compose.subject_line(letter):
        blocks.append("<b>" + escape(subject) + "</b>")
    blocks += [escape(letter.salutation), *paragraphs(letter.template.body)]
    if letter.personal:
        blocks.append("<i>" + escape(letter.personal) + "</i>")
    blocks += [escape(letter.template.closing), escape(letter.sender_name)]
    if copies := compose.copies_line(letter):
        blocks.append(escape(copies))
    return pack(blocks)


def _recipient_lines(letter: Letter, addressee: Addressee) -> str:
    """The preview's recipient block: the role and postal address, or (the .docx has no
    block then) the role and "by e-mail: address"."""
    if addressee.is_email_only and addressee.email:
        by_email = _("by e-mail: {email}").format(email=addressee.email)
        return "\n".join([letter.role(addressee), by_email])
    return "\n".join([letter.role(addressee), *(addressee.address or "").splitlines()])


def _copy_route(letter: Letter, copy: Addressee) -> str:
    """Where one copy goes, for the document's message: the role and its address or e-mail."""
    role = copy.role_in(current_locale.get(), letter.fallback_language)
    if copy.address:
        where = ", ".join(line.strip() for line in copy.address.splitlines() if line.strip())
        return _("{role}: by post to {address}").format(role=role, address=where)
    return _("{role}: by e-mail to {email}").format(role=role, email=copy.email or "")


def where_to_send(letter: Letter) -> str:
    """The caption of the document: how this letter and its copies reach their addressees
    (the letter's foot names the copies, so the supporter must know where they go)."""
    addressee = letter.addressee
    role = addressee.role_in(current_locale.get(), letter.fallback_language)
    lines = ["✉️ " + escape(_("Your letter goes to: {role}.").format(role=role))]
    if addressee.address:
        lines.append(escape(_("Print it, sign it and post it to the address in the letter.")))
    if addressee.email and addressee.address:
        lines.append(escape(_("Or send it by e-mail to {email}.").format(email=addressee.email)))
    elif addressee.email:
        lines.append(escape(_("Send it by e-mail to {email}.").format(email=addressee.email)))
    if letter.copies:
        lines.append(
            escape(
                ngettext(
                    "Send a copy of the same letter to:",
                    "Send a copy of the same letter to each of:",
                    len(letter.copies),
                )
            )
        )
        lines += ["• " + escape(_copy_route(letter, copy)) for copy in letter.copies]
    lines.append(escape(_("Then tap “I sent it”: every letter is counted.")))
    return "\n".join(lines)


@dataclass(frozen=True)
class EmailRoute:
    """What a ``mailto:`` link would carry, as the supporter receives it to copy."""

    address: str
    subject: str
    messages: list[str]  # HTML: the instructions, then the letter text in copyable blocks


def email_route(letter: Letter, case: str) -> EmailRoute:
    """The address, the subject (else the case number) and the text of the letter's e-mail."""
    assert letter.addressee.email
    address = letter.addressee.email
    subject = letter.subject or case
    text = compose.letter_text(letter)
    head = "\n".join(
        [
            "✉️ <b>" + escape(_("To send it by e-mail")) + "</b>",
            escape(_("To:")) + f" <code>{escape(address)}</code>",
            escape(_("Subject:")) + f" <code>{escape(subject)}</code>",
            escape(
                _(
                    "Tap the text below to copy it, paste it into a new e-mail and send it, "
                    "then tap “I sent it” under the document."
                )
            ),
        ]
    )
    blocks = pack(paragraphs(text), limit=MESSAGE_LIMIT - len("<pre></pre>"))
    return EmailRoute(address, subject, [head, *(f"<pre>{block}</pre>" for block in blocks)])


def abandoned(user_data: dict[str, Any], now: float, after_seconds: float) -> bool:
    """Whether a supporter's data holds a draft untouched for longer than ``after_seconds``.

    PTB does not persist a conversation's timeout job, so after a restart this is what ends
    a letter that was left alone.
    """
    draft = user_data.get(DRAFT_KEY)
    if not draft:
        return False
    return now - float(draft.get("touched", 0.0)) > after_seconds

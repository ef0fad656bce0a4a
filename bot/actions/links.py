"""Deep links: how a case is named in ``t.me/<bot>?start=<payload>`` and what a payload asks.

Telegram passes the start parameter only if it is 1-64 characters of ``[A-Za-z0-9_-]``; the
case number in lower case with each run of other characters turned into one ``-`` fits that
("UA 046/19" → ``ua-046-19``). A ``write-`` prefix asks for the letter rather than the card.
A follow-up's label ("FI 046/19-2" → ``fi-046-19-2``, also ``ua-046-19-2``) names its case.
``session-<token>`` is the "Write my letter" button of a group's writing session: it opens the
letter for the session's case and ties the letter to that session. The token is the
session's own random one (a row id would be guessed), kept as written: Telegram passes the
parameter case-sensitive.
Case numbers are always "UA <digits>/<two digits>" (the parser checks), so a payload maps back
to its case without looking anything up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from bot.actions.model import case_from_text

PAYLOAD_MAX = 64  # Telegram's limit for a start parameter
WRITE_PREFIX = "write-"
SESSION_PREFIX = "session-"
_SESSION = re.compile(rf"{SESSION_PREFIX}([A-Za-z0-9_-]+)", re.IGNORECASE)
_ALLOWED = re.compile(rf"[A-Za-z0-9_-]{{1,{PAYLOAD_MAX}}}")
_CASE_SLUG = re.compile(r"(?:ua|fi)-([0-9]{1,4})-([0-9]{2})(?:-[0-9]{1,3})?")


def case_payload(case: str) -> str:
    """ "UA 046/19" → ``ua-046-19``: the case's name in a deep link."""
    return re.sub(r"[^a-z0-9]+", "-", case.lower()).strip("-")


def write_payload(case: str) -> str:
    """The payload that opens the letter wizard for ``case``."""
    return WRITE_PREFIX + case_payload(case)


@dataclass(frozen=True)
class StartRequest:
    """What a ``/start <payload>`` asks: a case (None: a payload naming no case) and whether
    to start the letter at once."""

    case: str | None
    write: bool = False
    session: str | None = None  # a group session's token: write for its case, counted there


def parse_payload(payload: str) -> StartRequest | None:
    """The request in a start parameter; None when it is not one Telegram could have sent
    (empty, too long, other characters): the caller treats it as a plain /start."""
    if not _ALLOWED.fullmatch(payload):
        return None
    if session := _SESSION.fullmatch(payload):
        return StartRequest(None, write=True, session=session.group(1))
    slug = payload.lower()
    write = slug.startswith(WRITE_PREFIX)
    if write:
        slug = slug.removeprefix(WRITE_PREFIX)
    match = _CASE_SLUG.fullmatch(slug)
    case = f"UA {match.group(1)}/{match.group(2)}" if match else None
    return StartRequest(case, write)


def parse_typed(text: str) -> StartRequest | None:
    """A case number typed after /start by hand ("/start UA 012/26": Telegram sends it as it
    is, no link does), or None for other words (a plain /start)."""
    case = case_from_text(text)
    return StartRequest(case) if case else None


def session_payload(token: str) -> str:
    """The payload of a session message's "Write my letter" button: the session's token (the
    case is the session's: it is looked up when the link is opened, so it needs no room
    here)."""
    return f"{SESSION_PREFIX}{token}"


def chat_link(bot_username: str) -> str:
    """``https://t.me/<bot>``: the private chat with the bot, nothing asked."""
    return f"https://t.me/{bot_username}"


def deep_link(bot_username: str, payload: str) -> str:
    """``https://t.me/<bot>?start=<payload>``."""
    return f"https://t.me/{bot_username}?start={payload}"


def share_url(url: str, text: str) -> str:
    """Telegram's share dialog for ``url`` with ``text`` (the chat to send it to is chosen by
    the supporter)."""
    return "https://t.me/share/url?" + urlencode({"url": url, "text": text}, quote_via=quote)

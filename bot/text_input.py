"""Checks on text people type into the bot, with localised reasons.

One place for what every step that takes free text needs: not empty, no control characters
(python-docx and Telegram both choke on them, and on lone surrogates), within a limit.
"""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import format_number
from bot.i18n import gettext as _

# The one definition of a control character for every text the bot takes in or writes into a
# letter: C0 controls but tab and line feed, DEL, C1 controls, lone surrogates (only a modified
# client sends them; they cannot be encoded) and the noncharacters XML cannot carry. Telegram
# shows none of them, python-docx refuses most, Word refuses the file. bot.actions.parse derives
# its one-line escape set from this one (adding tab and line feed, which typed text may hold).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class InvalidInput(ValueError):
    """The text cannot be used; the message says why, in the user's language."""


def check_text(text: str | None, limit: int) -> str:
    """Stripped text, or InvalidInput: empty, control characters, longer than ``limit``."""
    if text is None or not text.strip():
        raise InvalidInput(_("Please send some text."))
    text = text.strip()
    if CONTROL_CHARACTERS.search(text):
        raise InvalidInput(_("This text contains invisible control characters; please retype it."))
    if len(text) > limit:
        raise InvalidInput(
            _("This is {length} characters long; the limit is {limit}.").format(
                length=format_number(len(text)), limit=format_number(limit)
            )
        )
    return text


def has_letters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in text)

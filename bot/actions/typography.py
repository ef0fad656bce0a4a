"""French typography for texts admins write (announcements, ``text.fr``/``letter.fr``) and for
the catalogs (``tools/typography.py --fix``): one fixer for both.

Admins type on keyboards that give a plain space before "?" and a straight apostrophe; Telegram
then wraps at that space and leaves the "?" alone on a line. The rules are written in
docs/translation-style.md. Markup and code are left as they are: HTML tags, entities,
``{placeholders}``, URLs and ``<code>`` spans are set aside before the text is touched.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

NNBSP = "\u202f"  # narrow no-break space: before ; ! ? and inside « »
NBSP = "\u00a0"  # no-break space: before :

# ; ! ? ending a clause (followed by a space, the end or closing punctuation): "?!" is one group.
# A "?" inside a word or URL ("?start=") is no punctuation of the sentence.
FR_HIGH_MARKS = re.compile(r"[;!?]+(?=\s|$|[)»\"'’.,…])")

# What the fixer must not touch, each set aside as one private-use character: closing tags
# (transparent to "what follows the colon": "<b>Titre :</b>") in one range, the rest in another.
_PROTECTED = re.compile(
    r"(?P<code><(code|pre)\b[^>]*>.*?</\2>)"
    r"|(?P<closing></[A-Za-z][^<>]*>)"
    r"|<[A-Za-z!][^<>]*>|&(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"
    r"|\{[^{}]*\}|(?:https?|tg)://[^\s<>\"«»]*[^\s<>\"«».,;:!?)]"
    r"|=[ \t]*'[^'\n]*'"  # a TOML literal string the admin types (role.fr = 'Procureur')
    r"|[\w.'+-]+@[\w-]+(?:\.[\w-]+)+",  # an e-mail address (o'brien@amnesty.fr) as typed
    re.DOTALL,
)
_CLOSING_BASE, _OTHER_BASE, _RANGE = 0xE000, 0xF000, 0x0800
_CLOSERS = f"[{chr(_CLOSING_BASE)}-{chr(_CLOSING_BASE + _RANGE - 1)}]*"
_SPACES = "[ \u00a0\u202f]*"
_CLAUSE_END = rf"(?={_CLOSERS}(?:\s|$|[)»\"'’.,…]))"


def _set_aside(text: str) -> tuple[str, list[str]]:
    kept: list[str] = []

    def sentinel(match: re.Match[str]) -> str:
        if len(kept) >= _RANGE:
            return match.group()
        kept.append(match.group())
        base = _CLOSING_BASE if match.group("closing") else _OTHER_BASE
        return chr(base + len(kept) - 1)

    return _PROTECTED.sub(sentinel, text), kept


def _put_back(text: str, kept: list[str]) -> str:
    def original(match: re.Match[str]) -> str:
        code = ord(match.group())
        index = code - (_CLOSING_BASE if code < _OTHER_BASE else _OTHER_BASE)
        return kept[index]

    if not kept:
        return text
    return re.sub(f"[{chr(_CLOSING_BASE)}-{chr(_OTHER_BASE + _RANGE - 1)}]", original, text)


@lru_cache(maxsize=1024)  # a broadcast typesets the same texts for every French reader
def fix_french(text: str) -> str:
    """The mechanical part of French typography: no-break spaces before ; ! ? :, ’ for the
    apostrophe, « » with their spaces. Idempotent; markup, placeholders, URLs and e-mail
    addresses untouched."""
    if any(_CLOSING_BASE <= ord(char) < _OTHER_BASE + _RANGE for char in text):
        return text  # private-use characters of its own: nothing here is safe to guess
    work, kept = _set_aside(text)
    # Straight double quotes are left alone: code the reader types, or a translator's call.
    work = work.replace("'", "’")
    work = re.sub(rf"(?<=\S){_SPACES}([;!?]+){_CLAUSE_END}", NNBSP + r"\1", work)
    work = re.sub(rf"(?<=\S){_SPACES}:(?={_CLOSERS}(?:\s|$))", NBSP + ":", work)
    work = re.sub(f"«{_SPACES}", "«" + NNBSP, work)
    work = re.sub(f"{_SPACES}»", NNBSP + "»", work)
    return _put_back(work, kept)


def is_french(language: str) -> bool:
    """Whether texts in ``language`` ("fr", "fr-CH", "fr_CH") follow French typography."""
    return re.split(r"[-_@]", language, maxsplit=1)[0].lower() == "fr"


def typeset(text: str, language: str) -> str:
    """``text`` with French typography when ``language`` is French; else as it is."""
    return fix_french(text) if is_french(language) else text


Texts = TypeVar("Texts", bound="DataclassInstance")


def typeset_fields(value: Texts, language: str) -> Texts:
    """A case text or a letter with ``typeset`` applied to each of its texts."""
    if not is_french(language):
        return value
    changes = {
        item.name: fix_french(text)
        for item in fields(value)
        if isinstance(text := getattr(value, item.name), str)
    }
    return replace(value, **changes)

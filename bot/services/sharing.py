"""Which open cases a supporter can share into another chat (inline mode: ``@bot kazakhstan``).

A query is matched word by word, each word anywhere in what the reader sees of a case in their
language: its number ("046/19", "UA 046/19", the deep-link form "ua-046-19", and the labels
the card shows: "AU 046/19-2", "AU-046-19"), title, summary and
country: its ISO code ("KZ") and its name as CLDR writes it in that language and in the default
one ("Kasachstan", "Kazakhstan"), since names are often learnt from the news in English. Case
and accents are ignored, so "turkiye" finds "Türkiye". The query text is the user's: it is
never logged.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.actions import deadlines
from bot.actions.labels import case_label
from bot.actions.links import case_payload
from bot.actions.model import ActionRevision
from bot.i18n import territory_name, use_locale
from bot.ptb.callbacks import number
from bot.storage import Storage

# Telegram takes at most 50 results per answer; the client asks for more with next_offset.
PAGE_SIZE = 50


@dataclass(frozen=True)
class SharedCase:
    """An open case as a result: its latest revision and the letters sent so far."""

    revision: ActionRevision
    letters: int


@dataclass(frozen=True)
class Page:
    """One answer's worth of cases, and the offset of the next ("" when there is none)."""

    cases: list[SharedCase]
    next_offset: str


# Typography the texts get at render time (bot.actions.typography) that a keyboard does not
# type: the typographic apostrophe, and the no-break spaces of French punctuation.
_TYPED = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "\u00a0": " ", "\u202f": " "})


def _fold(text: str) -> str:
    """Lower case without accents or typography, for matching what people type (a straight
    apostrophe finds "d’investigation")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_TYPED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _labels(revision: ActionRevision, languages: tuple[str, ...]) -> list[str]:
    """The case's labels as the card shows them in each of ``languages`` ("AU 012/26-2"), and
    in the deep-link's dashed form ("AU-012-26")."""
    found = []
    for language in languages:
        with use_locale(language):
            label = case_label(revision.case)
            found += [label, label.replace(" ", "-").replace("/", "-")]
            found.append(case_label(revision.case, revision.revision))
    return found


def searchable(revision: ActionRevision, language: str, default_language: str) -> str:
    """What a query is matched against: the case as the reader sees it, folded."""
    text, _ = revision.text_for(language, default_language)
    fields = (
        revision.case,
        case_payload(revision.case),
        *_labels(revision, (language, default_language)),
        text.title,
        text.summary,
        revision.country,
        territory_name(revision.country, language),
        territory_name(revision.country, default_language),
    )
    return _fold("\n".join(fields))


def matches(revision: ActionRevision, query: str, language: str, default_language: str) -> bool:
    """Whether every word of ``query`` occurs in the case (an empty query matches all)."""
    haystack = searchable(revision, language, default_language)
    return all(word in haystack for word in _fold(query).split())


def _start(offset: str) -> int:
    """Where a page starts: the offset we gave Telegram, else (a crafted one) the beginning."""
    return number(offset) or 0


async def open_cases(
    storage: Storage,
    query: str,
    language: str,
    default_language: str,
    *,
    today: date,
    expired_days: int,
    offset: str = "",
) -> Page:
    """The cases /actions lists (in time, then recently expired) matching ``query``, one
    page from ``offset`` on: what can be shared is what can be written for."""
    listed = (await deadlines.listed(storage, today, expired_days)).all
    found = [r for r in listed if matches(r, query, language, default_language)]
    start = _start(offset)
    page = found[start : start + PAGE_SIZE]
    counts = await storage.tally.counts([r.case for r in page])
    more = start + PAGE_SIZE < len(found)
    return Page(
        [SharedCase(r, counts.get(r.case, 0)) for r in page],
        str(start + PAGE_SIZE) if more else "",
    )

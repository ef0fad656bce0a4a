"""Who a case is for: its topics' names, CLDR's regions, and the audience of a revision.

Regions are CLDR's territory containment (continents and their subregions, as the UN's M49
groups countries). Babel ships CLDR's names of every region but not which contains which, so
that tree is kept beside this module (``territory_containment.json``, codes only, taken from
CLDR); every name a reader sees comes from babel in their language.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from bot.actions.model import TOPICS, ActionRevision
from bot.config import closest
from bot.i18n import N_, gettext, territory_name, use_locale
from bot.storage import Audience, Storage

# The name shown for each topic of ``TOPICS`` (translated where shown).
TOPIC_NAMES: Mapping[str, str] = {
    "arbitrary-detention": N_("Arbitrary detention"),
    "death-penalty": N_("Death penalty"),
    "enforced-disappearance": N_("Enforced disappearance"),
    "freedom-of-expression": N_("Freedom of expression"),
    "human-rights-defenders": N_("Human rights defenders"),
    "indigenous-peoples": N_("Indigenous peoples"),
    "lgbti": N_("LGBTI rights"),
    "refugees-and-migrants": N_("Refugees and migrants"),
    "torture": N_("Torture"),
    "women-and-gender": N_("Women's rights and gender"),
}
assert tuple(TOPIC_NAMES) == TOPICS, "one name per topic, in the same order"

WORLD = "001"


def topic_name(code: str) -> str:
    """A topic's name in the current locale."""
    return gettext(TOPIC_NAMES[code])


@cache
def _containment() -> Mapping[str, tuple[str, ...]]:
    data = resources.files("bot.actions").joinpath("territory_containment.json").read_text()
    return {region: tuple(parts) for region, parts in json.loads(data)["contains"].items()}


@cache
def _parents() -> Mapping[str, str]:
    return {part: region for region, parts in _containment().items() for part in parts}


def continents() -> tuple[str, ...]:
    """Africa, the Americas, Asia, Europe, Oceania (their CLDR codes)."""
    return _containment()[WORLD]


def is_region(code: str) -> bool:
    return code in _containment() and code != WORLD


def is_country(code: str) -> bool:
    """A territory CLDR places in a region (a country, or a territory such as Hong Kong)."""
    return code in _parents() and code not in _containment()


def parent(code: str) -> str:
    """The region directly containing ``code`` (the world for a continent)."""
    return _parents().get(code, WORLD)


def subregions(region: str) -> tuple[str, ...]:
    """The regions directly inside ``region`` (none for a subregion)."""
    return tuple(part for part in _containment().get(region, ()) if part in _containment())


@cache
def countries_in(region: str) -> frozenset[str]:
    """Every country inside ``region``, through its subregions."""
    found: set[str] = set()
    for part in _containment().get(region, ()):
        found |= countries_in(part) if part in _containment() else {part}
    return frozenset(found)


def regions_of(country: str) -> tuple[str, ...]:
    """The regions containing ``country``, innermost first (subregion, continent); none for a
    code CLDR does not place."""
    found: list[str] = []
    code = _parents().get(country)
    while code is not None and code != WORLD:
        found.append(code)
        code = _parents().get(code)
    return tuple(found)


def _sort_key(name: str) -> str:
    # "Ägypten" among the A's, not after "Zypern": letters without their accents first.
    plain = unicodedata.normalize("NFKD", name)
    return "".join(char for char in plain if not unicodedata.combining(char)).casefold()


def by_name(codes: Iterable[str]) -> list[str]:
    """Territory codes ordered by their name in the current locale."""
    return sorted(codes, key=lambda code: _sort_key(territory_name(code)))


def topics_by_name(codes: Iterable[str]) -> list[str]:
    return sorted(codes, key=lambda code: _sort_key(topic_name(code)))


# Codes people write for a country that are not its ISO 3166-1 code (the EU's own usage).
_COUNTRY_ALIASES: Mapping[str, str] = {"UK": "GB", "EL": "GR"}


@cache
def _country_names(languages: tuple[str, ...]) -> Mapping[str, str]:
    """Every country's name in ``languages`` (casefolded) -> its code."""
    return {
        territory_name(code, language).casefold(): code
        for language in languages
        for code in countries_in(WORLD)
    }


@cache
def _topic_names(languages: tuple[str, ...]) -> Mapping[str, str]:
    """Every topic's shown name in ``languages`` (casefolded) -> its code."""
    names: dict[str, str] = {}
    for language in languages:
        with use_locale(language):
            names |= {topic_name(code).casefold(): code for code in TOPICS}
    return names


def _named(text: str, names: Mapping[str, str]) -> str | None:
    found = closest(text.casefold(), names)
    return names[found] if found is not None else None


def country_meant(text: str, languages: Iterable[str]) -> str | None:
    """The country code someone probably meant by ``text`` (did-you-mean for action files):
    "be" -> "BE", "UK" -> "GB", "Kasachstan" -> "KZ"; None when nothing is close."""
    if is_country(text.upper()):
        return text.upper()
    if text.upper() in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[text.upper()]
    if len(text) <= 3:  # a code, not a name: "EU" is not "Peru", "BEL" not "Belize"
        return None
    return _named(text, _country_names(tuple(dict.fromkeys(("en", *languages)))))


def topic_meant(text: str, languages: Iterable[str]) -> str | None:
    """The topic code someone probably meant by ``text``: a typo of a code ("tortur"), or a
    topic's shown name in English or a configured language ("LGBTI rights", "Todesstrafe")."""
    names = _topic_names(tuple(dict.fromkeys(("en", *languages))))
    return names.get(text.casefold()) or closest(text, TOPICS) or _named(text, names)


async def audience(storage: Storage, revision: ActionRevision) -> Audience:
    """Who ``revision`` reaches when published: a new case, those whose choice matches; a
    follow-up or closure, also everyone who opened the case or wrote for it. A follow-up
    without topics keeps those of the latest published revision before it that had some."""
    topics = revision.topics
    if not topics and revision.revision > 1:
        for earlier in await storage.revisions.published_history(revision.case, revision.revision):
            if topics := ActionRevision.from_json(earlier.content).topics:
                break
    return Audience(
        topics=topics,
        countries=(revision.country,),
        regions=regions_of(revision.country),
        case_number=revision.case if revision.revision > 1 else None,
    )

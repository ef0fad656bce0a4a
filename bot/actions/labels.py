"""How a case is named to readers ("UA 046/19", "AU 046/19-2") and recognised when typed: the
catalogs' words, one place each.

Separate from ``render`` so that the importer (which ``render`` imports) names cases the same
way in its refusals.
"""

from __future__ import annotations

import re
from functools import cache

from bot.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE, pgettext, use_locale
from bot.ptb import callbacks


def case_label(case: str, revision: int = 1) -> str:
    """How readers of the current language name a case or a follow-up: "UA 046/19" and
    "FI 046/19-2" in English, "AU 046/19" and "AU 046/19-2" in French.

    Case numbers are stored as "UA <number>" whatever the language; the prefixes are the
    catalog's (an organisation's variant catalog may set its own, e.g. "FI" in fr-CH).
    """
    number = case.removeprefix(callbacks.CASE_PREFIX)
    if revision == 1:
        # Translators: the abbreviation of "Urgent Action" before a case number (UA 046/19);
        # French sections write "AU" (action urgente).
        return pgettext("case label", "UA") + " " + number
    # Translators: the abbreviation before a follow-up's number (FI 046/19-2, "Further
    # Information"); where sections name follow-ups like the case, the same as "UA".
    return pgettext("follow-up label", "FI") + f" {number}-{revision}"


def catalog_locales() -> list[str]:
    """Every catalog shipped (variants included) and the source language."""
    found = sorted(
        path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    )
    return [SOURCE_LANGUAGE, *found]


@cache
def label_prefixes() -> tuple[str, ...]:
    """Every prefix a case label has in any catalog ("UA", "FI", "AU", a variant's own), so a
    reader may type the label shown to them in any language."""
    prefixes: set[str] = set()
    for locale in catalog_locales():
        with use_locale(locale):
            prefixes.add(pgettext("case label", "UA"))
            prefixes.add(pgettext("follow-up label", "FI"))
    return tuple(sorted(prefixes, key=lambda prefix: (-len(prefix), prefix)))


@cache
def typed_case_pattern() -> re.Pattern[str]:
    """ "UA 012/26", "012/26", the link's "ua-012-26", a follow-up's "FI 012/26-2", French
    "AU 012/26": the prefixes are the catalogs' (``label_prefixes``)."""
    prefixes = "|".join(re.escape(prefix) for prefix in label_prefixes())
    return re.compile(
        rf"(?:(?:{prefixes})[\s-]*)?([0-9]{{1,4}})[/-]([0-9]{{2}})(?:-[0-9]{{1,3}})?",
        re.IGNORECASE,
    )

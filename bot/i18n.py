"""Translations and locale-aware formatting.

One gettext domain (``uabot``), catalogs in ``locales/<lang>/LC_MESSAGES/uabot.po``. The ``.po``
files are compiled in memory when first used, so a fresh clone needs no build step. The locale of
the update being handled lives in a ContextVar, set once per update by a handler in a negative
group, so domain code can call ``_()`` without passing the user around.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import get_date_format, match_skeleton
from babel.languages import get_territory_language_info
from babel.localedata import locale_identifiers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_decimal_symbol
from babel.support import Translations

from bot.config import I18nConfig

DOMAIN = "uabot"
# CLDR's named date formats.
DateFormat = Literal["full", "long", "medium", "short"]


def _locales_dir() -> Path:
    """The catalogs: installed as ``uabot_locales``, or ``locales/`` of a source tree."""
    try:
        import uabot_locales
    except ImportError:
        return Path(__file__).resolve().parent.parent / "locales"
    return Path(uabot_locales.__file__).resolve().parent


LOCALES_DIR = _locales_dir()
SOURCE_LANGUAGE = "en"

current_locale: ContextVar[str] = ContextVar("current_locale", default=SOURCE_LANGUAGE)


class CatalogError(RuntimeError):
    """A configured language has no usable catalog: fail at start, never show English silently."""


# A variant catalog's modifier: ``locales/de@formal`` speaks "Sie" (config ``i18n.formal``).
FORMAL = "formal"
# The variant catalogs uabot ships, and how to get each back: a configured locale whose chain
# names one needs it (a deploy that copied locales/de alone would speak ß and "du" to a Swiss,
# formal organisation without a word). tools/variants.py makes the Swiss ones.
VARIANT_CATALOGS = {
    "de_CH": "run `make variants`",
    f"de@{FORMAL}": "copy it from the release (the formal catalog is translated by hand)",
    f"de_CH@{FORMAL}": "run `make variants`",
}
# language -> the locale the organisation configured for it ("de" -> "de_CH@formal"); set by
# ``configure`` from the config once per process (one organisation per process).
_variants: dict[str, str] = {}


_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?")


def split_tag(tag: str) -> tuple[str, str | None]:
    """A configured language tag ("de-CH", "de_CH", "de-ch", "de") as (language, territory).

    The one place a variant is read: the language is what users, action files and statistics
    know ("de"); the territory only chooses the catalog variant and CLDR's formats, so CLDR
    must know the pair (babel's ``Locale``): "de-SW" would pass here and fail in front of a
    reader at the first date. Whether a catalog exists for it is ``check_catalogs``'s to say."""
    found = _TAG.fullmatch(tag.strip())
    if found is None:
        raise ValueError(f"{tag!r} is not a language tag like 'de' or 'de-CH'")
    language, territory = found.groups()
    language, territory = language.lower(), territory.upper() if territory else None
    if territory is not None:
        try:
            Locale(language, territory)
        except UnknownLocaleError:
            raise ValueError(
                f"{tag!r} is not a locale CLDR knows: use {_known_locales(language, territory)}"
            ) from None
    return language, territory


def _known_locales(language: str, territory: str) -> str:
    """What to write instead of an unknown ``language``-``territory``: CLDR's alias ("en-UK"
    -> "en-GB"), else the regions CLDR has for the language, else the language alone."""
    try:
        alias = Locale.parse(f"{language}_{territory}")
    except (ValueError, UnknownLocaleError):
        alias = None
    if alias is not None and alias.territory and alias.territory != territory:
        return f"e.g. '{language}-{alias.territory}'"
    known = sorted(
        f"'{language}-{name.partition('_')[2]}'"
        for name in locale_identifiers()
        if name.partition("_")[0] == language
        and name.count("_") == 1
        and name.partition("_")[2].isalpha()
    )
    if not known:
        return f"the language alone ('{language}')"
    if len(known) > _SUGGESTED:
        likely = letter_locale(language).territory
        return (
            f"e.g. '{language}-{likely}' (CLDR knows {len(known)} regions for '{language}'; "
            f"or '{language}' alone)"
        )
    return "one of " + ", ".join(known) + f" (or '{language}' alone)"


_SUGGESTED = 8  # a language in more regions than this gets one example, not the list


def organisation_region(variants: Iterable[str]) -> str | None:
    """The country ``i18n.languages`` says the organisation is in, for letters when
    ``i18n.region`` is unset: ["de-CH", "fr-CH", "en-GB"] -> "CH".

    A tag naming its language's own letter region (en-GB, de-DE, fr-FR) says nothing about
    where the organisation is (those letters are British, German, French anyway); of the rest,
    one country is the region. A region that is no country ("es-419") is none."""
    territories = set()
    for tag in variants:
        language, territory = split_tag(tag)
        if territory is not None and territory != letter_locale(language).territory:
            territories.add(territory)
    region = territories.pop() if len(territories) == 1 else None
    return region if region is not None and is_country(region) else None


def is_country(code: str) -> bool:
    """An ISO 3166 country code CLDR names ("CH"), not a region ("419", "150") or "ch"."""
    return (
        code.isascii()
        and code.isalpha()
        and code.isupper()
        and len(code) == 2
        and code in Locale("en").territories
    )


def configure(i18n: I18nConfig) -> None:
    """Speak each configured language in the organisation's variant (``i18n.variants``,
    ``i18n.formal``) from now on: its catalog chain and CLDR locale."""
    territories = dict(split_tag(tag) for tag in i18n.variants)
    _variants.clear()
    for language in i18n.languages:
        territory = territories.get(language)
        locale = f"{language}_{territory}" if territory else language
        formal = f"{language}@{FORMAL}"
        if i18n.formal and (formal in VARIANT_CATALOGS or (LOCALES_DIR / formal).is_dir()):
            locale += f"@{FORMAL}"
        _variants[language] = locale


def locale_of(language: str) -> str:
    """The configured locale of ``language`` ("de" -> "de_CH@formal"), else the language."""
    return _variants.get(language, language)


def babel_locale(language: str) -> str:
    """The CLDR locale that formats dates and numbers for ``language`` ("de" -> "de_CH")."""
    return locale_of(language).partition("@")[0]


def fallbacks(locale: str) -> list[str]:
    """The catalogs of ``locale``, most specific first, in gettext's own order
    (``gettext._expand_lang`` without codesets): de_CH@formal, de@formal, de_CH, de. A variant
    catalog holds only what differs from the next one that has it."""
    base, _, modifier = locale.partition("@")
    language, _, territory = base.partition("_")
    chain = [base, language] if territory else [language]
    if modifier:
        chain = [f"{name}@{modifier}" for name in chain] + chain
    return list(dict.fromkeys(chain))


def _read_catalog(name: str) -> _gettext.NullTranslations:
    """Compile ``locales/<name>/LC_MESSAGES/uabot.po`` in memory."""
    po_path = LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        messages = read_po(po_file, locale=name.partition("@")[0], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, messages, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@cache
def _catalog_chain(locale: str) -> _gettext.NullTranslations:
    """The catalogs of ``locale`` joined by gettext's ``add_fallback`` (cached per process)."""
    language = locale.partition("@")[0].partition("_")[0]
    if language == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    names = [
        name
        for name in fallbacks(locale)
        if (LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    ]
    if language not in names:
        expected = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        raise CatalogError(
            f"no catalog for language {language!r}: expected {expected} "
            f"(or remove {language!r} from i18n.languages)"
        )
    for name in fallbacks(locale):
        if name in VARIANT_CATALOGS and name not in names:
            expected = LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
            raise CatalogError(
                f"no catalog {expected} for {_setting(name)}: {VARIANT_CATALOGS[name]}"
            )
    if "@" in locale and f"{language}@{locale.partition('@')[2]}" not in names:
        raise CatalogError(f"no {locale.partition('@')[2]} catalog for language {language!r}")
    first, *rest = (_read_catalog(name) for name in names)
    for more in rest:
        first.add_fallback(more)
    return first


def _setting(name: str) -> str:
    """The configuration that asks for the variant catalog ``name``, as the operator wrote it."""
    base, _, modifier = name.partition("@")
    tag = f"i18n.languages {base.replace('_', '-')!r}"
    if not modifier:
        return tag
    return "i18n.formal = true" + (f" with {tag}" if "_" in base else "")


def catalog(language: str) -> _gettext.NullTranslations:
    """The translations of ``language`` in its configured variant (``configure``)."""
    return _catalog_chain(locale_of(language))


def has_catalog(language: str) -> bool:
    """Whether the bot's own strings exist in ``language`` (letters may go beyond them)."""
    return (
        language == SOURCE_LANGUAGE
        or (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    )


@cache
def strings_language(language: str) -> str:
    """The language the bot's strings of a letter in ``language`` are written in ("Copy to:",
    "Re:"): that language where there is a catalog, else English (a [letter.ru] letter)."""
    return language if has_catalog(language) else SOURCE_LANGUAGE


def check_catalogs(languages: Iterable[str]) -> None:
    """Load every configured catalog once, so a missing one stops the bot at start."""
    for language in languages:
        catalog(language)


def gettext(message: str) -> str:
    """Translate ``message`` into the current locale."""
    return catalog(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with the current locale's plural rules (French has three forms in babel)."""
    return catalog(current_locale.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate a short ``message`` whose meaning ``context`` tells translators ("UA")."""
    return catalog(current_locale.get()).pgettext(context, message)


_ = gettext


def N_(message: str) -> str:
    """Mark a module-level string for extraction; translate it with ``_()`` where it is shown."""
    return message


@contextmanager
def use_locale(language: str) -> Iterator[None]:
    """Run a block in another locale (a broadcast renders one message per subscriber language)."""
    token = current_locale.set(language)
    try:
        yield
    finally:
        current_locale.reset(token)


# Languages whose speakers read another one in writing, where CLDR has no parent locale for
# it: Swiss German (gsw, a Telegram language of its own) is written as Standard German.
# Romansh (rm) readers are not assumed to read German: they get the default.
_READS = {"gsw": "de"}


def negotiate(language_code: str | None, available: Iterable[str], default: str) -> str:
    """Map Telegram's ``language_code`` (``de-CH``, ``fr-BE``, ``pt-br``) onto a configured one."""
    available = list(available)
    if not language_code:
        return default
    try:
        parsed = Locale.parse(language_code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return default
    language = _READS.get(parsed.language, parsed.language)
    return language if language in available else default


def reader_language(i18n: I18nConfig, stored: str | None, language_code: str | None = None) -> str:
    """The language to speak to someone in: their stored choice, else Telegram's
    ``language_code``, else the default.

    The one place this is decided: the per-update handler and every job that writes to a
    user (a job has no update, so it sets the locale itself from this). Whoever has a row is
    decided by the row alone, as a job knows nothing else: a stored language since removed
    from ``i18n.languages`` falls back the same way in replies and in jobs. (Admins get a row
    when they first write, so their jobs' notices match their replies too.)
    """
    if stored in i18n.languages:
        return stored
    chosen = stored if stored is not None else language_code
    return negotiate(chosen, i18n.languages, i18n.default_language)


def language_name(language: str, in_language: str | None = None) -> str:
    """A language's name: in its own, capitalised for the picker ("Deutsch", "Français"), or
    in ``in_language`` as it reads inside a sentence ("anglais", "Englisch")."""
    if in_language is not None:
        return Locale.parse(language).get_language_name(babel_locale(in_language)) or language
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def territory_name(code: str, in_language: str | None = None) -> str:
    """A country's or region's name from CLDR ("KZ" -> "Kasachstan", "150" -> "Europa"), in
    ``in_language`` (the current locale by default); the code itself when CLDR has none."""
    names = Locale.parse(babel_locale(in_language or current_locale.get())).territories
    return names.get(code) or code


# Codes babel accepts but that name no letter locale of their own: "no" (the Norwegian
# macrolanguage) has no country data in CLDR; letters are written in Bokmål (nb) or Nynorsk (nn).
_PREFERRED_CODES = {"no": "nb"}


def canonical_language(code: str) -> str | None:
    """The current ISO 639 code for ``code``, or None when babel (CLDR) knows no such language.

    Withdrawn codes map to their successors ("iw" -> "he", "in" -> "id", "tl" -> "fil"), a
    capitalised code to its lower case ("TR" -> "tr"); "und" (undetermined) is no language.
    """
    if not (code.isascii() and code.isalpha() and 2 <= len(code) <= 3) or code.lower() == "und":
        return None
    try:
        language = Locale.parse(code.lower()).language
    except (ValueError, UnknownLocaleError):
        return None
    return _PREFERRED_CODES.get(language, language)


def is_language_code(code: str) -> bool:
    """A bare, current ISO 639 code ("ru", "kk") that babel (CLDR) has data for: an old code
    ("iw") would pass ``Locale.parse`` and then fail where a letter is dated."""
    return canonical_language(code) == code


def is_right_to_left(language: str) -> bool:
    """Whether ``language`` is written right to left (CLDR's character order: fa, ar, he, ur)."""
    return Locale.parse(language).character_order == "right-to-left"


# Where CLDR's likely region of a language writes dates as international correspondence does
# not: English letters follow British usage ("29 November 2026", not "November 29, 2026").
_LETTER_REGIONS = {"en": "GB"}
# CLDR's date patterns have no ordinal day; French writes the first of the month "1er".
_FIRST_OF_MONTH = {"fr": "'er'"}


@cache
def letter_locale(language: str, region: str | None = None) -> Locale:
    """The locale a letter in ``language`` is dated and spell-checked in.

    ``region`` is the organisation's country (config ``i18n.region``, e.g. "CH"): it applies
    to the languages official there (de-CH, fr-CH, not en-CH); otherwise the language's own
    region (en-GB, de-DE, ru-RU) from CLDR's likely subtags.
    """
    if region is not None:
        status = get_territory_language_info(region).get(language, {}).get("official_status")
        if status is not None:
            try:
                return Locale(language, region)
            except UnknownLocaleError:
                pass
    default = _LETTER_REGIONS.get(language)
    if default is None:
        try:
            likely = Locale.parse(get_global("likely_subtags").get(language, language))
        except UnknownLocaleError:  # a language CLDR has no data for in its likely country
            likely = Locale.parse(language)
        default = likely.territory
    try:
        return Locale(language, default) if default else Locale(language)
    except UnknownLocaleError:
        return Locale(language)


def language_tag(locale: Locale) -> str:
    """BCP 47 as Word's ``w:lang`` wants it: ``de-CH``."""
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def has_long_date(locale: Locale) -> bool:
    """Whether CLDR names the months of ``locale``: without (jbo, io) its long date reads
    "2026 M11 29", and a letter is dated in ISO 8601 instead."""
    return not re.fullmatch(r"M\d+", locale.months["format"]["wide"].get(11, "M11"))


def format_letter_date(value: date, locale: Locale) -> str:
    """A letter's date in CLDR's long pattern of ``locale`` ("29. November 2026"), or ISO 8601
    ("2026-11-29") where CLDR has no month names for it (``has_long_date``)."""
    if not has_long_date(locale):
        return value.isoformat()
    return _format_with_ordinal(value, get_date_format("long", locale=locale).pattern, locale)


# The day field of a CLDR pattern ("d", not "dd" and not inside a quoted literal).
_DAY_FIELD = re.compile(r"(?<![d'])d(?![d'])")


def _format_with_ordinal(value: date | datetime, pattern: str, locale: Locale) -> str:
    """``value`` in CLDR ``pattern``, with the first of the month written as the language
    writes it where the month is named ("1er février", "1er mars"): the one place of that rule
    for letters and the interface alike."""
    suffix = _FIRST_OF_MONTH.get(locale.language)
    if value.day == 1 and suffix is not None and "MMM" in pattern:
        pattern = _DAY_FIELD.sub("d" + suffix, pattern, count=1)
    return _babel_format_date(value, format=pattern, locale=locale)


def format_date(
    value: date | datetime, language: str | None = None, fmt: DateFormat = "long"
) -> str:
    """A date in the given (or current) locale's own format ("1er février 2026" in French)."""
    locale = Locale.parse(babel_locale(language or current_locale.get()))
    return _format_with_ordinal(value, get_date_format(fmt, locale=locale).pattern, locale)


def format_date_near(value: date, near: date, language: str | None = None) -> str:
    """A date without its year when it falls in ``near``'s year ("March 12", "12. März",
    "12 mars", "1er mars"; CLDR's skeleton, so each locale orders it its own way), else the
    long date."""
    if value.year != near.year:
        return format_date(value, language)
    locale = Locale.parse(babel_locale(language or current_locale.get()))
    skeleton = match_skeleton("dMMMM", locale.datetime_skeletons) or "MMMMd"
    return _format_with_ordinal(value, locale.datetime_skeletons[skeleton].pattern, locale)


def format_time(value: datetime, language: str | None = None) -> str:
    """A date and time in UTC, in the locale's short format ("11/29/26, 9:05 PM")."""
    return _babel_format_datetime(
        value, format="short", tzinfo=UTC, locale=babel_locale(language or current_locale.get())
    )


# Group separators chosen over CLDR's where babel's data is not what the country writes: in
# Switzerland babel (2.19) gives "12'345" with a typewriter apostrophe and stops grouping from
# a million up ("1234567"). Swiss German typography groups with the typographic apostrophe
# U+2019 ("1’234’567"); Swiss French with the narrow no-break space U+202F, as in France.
_GROUP_SEPARATORS = {"de_CH": "\u2019", "fr_CH": "\u202f", "it_CH": "\u2019"}


def format_number(value: int | float, language: str | None = None) -> str:
    """A number with the locale's grouping ("10,000", "10.000", "10 000", "10’000" in de-CH)."""
    locale = babel_locale(language or current_locale.get())
    separator = _GROUP_SEPARATORS.get(locale)
    if separator is None:
        return format_decimal(value, locale=locale)
    # Grouped by the root pattern in English symbols, then given the locale's own.
    grouped = format_decimal(value, format="#,##0.###", locale="en")
    decimal = get_decimal_symbol(locale)
    return "".join(
        separator if char == "," else decimal if char == "." else char for char in grouped
    )


# German address forms, for "one register per organisation" (i18n.formal): the interface's
# catalogs and the action files' texts must not mix "du" and "Sie". A heuristic that must not
# cry wolf over correct German: "Eure Exzellenz" addresses an ambassador, "Place du Trône" is
# French, a quoted slogan („Du bist nicht allein“) is someone else's voice.
_INFORMAL = re.compile(
    r"\b(?:du|dich|dir|dein(?:e[mnrs]?)?|euch|euer|eure[mnrs]?)\b"
    r"(?!\s+(?:Exzellenz|Ehren|Majestät|Hoheit|Heiligkeit|Eminenz|Magnifizenz|Durchlaucht)\b)",
    re.I,
)
# "du" needs no pronoun to show: a bare du-imperative ("Tippe auf …", "Schreib heute!") is
# informal too. Capitalised (a sentence's first word), or after "bitte"; not the forms that
# are also nouns ("Teile", "Frage", "Versuche", "Sage", "Schau", "Tipp", "Klick").
_DU_IMPERATIVES = (
    "Tippe|Wähle|Wähl|Schick|Schicke|Sende|Gib|Schreib|Schreibe|Nimm|Lies|Hilf|Sieh|Öffne"
    "|Melde|Antworte|Bestätige|Füge|Ändere|Kopiere|Prüfe|Klicke|Starte|Beende|Nutze|Lade"
    "|Probier|Probiere|Drück|Drücke|Unterschreib|Unterschreibe|Erzähl|Erzähle|Mach|Komm"
    "|Geh|Gehe|Leite|Sag|Frag|Vergiss|Denk|Hol|Zeig|Zeige|Lass|Brich|Prüf|Verwende"
)
_INFORMAL_IMPERATIVE = re.compile(
    rf"(?<![\w-])(?:{_DU_IMPERATIVES}|(?<=[Bb]itte )(?:{_DU_IMPERATIVES.lower()}))(?![\w-])"
)
_FORMAL = re.compile(r"\b(?:Sie|Ihnen|Ihr(?:e[mnrs]?)?)\b")
# Where a capitalised "Sie"/"Ihr" may be "she"/"they"/"her": a sentence's, a line's, a list
# item's or a quotation's first word (after ". ", "\n", "• ", "– ", "… ", „).
_SENTENCE_START = re.compile(r"(?:^|[.!?:;…•–—·*\n]\s*|^[ \t]*-[ \t]*|[„“«»\"(]\s*)\Z", re.M)
# What someone else says, in any of the quotes German uses: not the organisation's register.
_QUOTED = re.compile(r"„[^“”\"]*[“”\"]|«[^»]*»|»[^«]*«|“[^”]*”|\"[^\"\n]*\"")
# A French name around "du" ("Place du Trône", "rue du Rhône", "Palais du Peuple"): the noun
# before it says so. (A rule on capitals would take "Wenn du Zeit hast" for French.)
_FRENCH_DU = re.compile(
    r"\b(?:place|rue|quai|pont|boulevard|avenue|allée|impasse|chemin|route|parc|jardin|"
    r"palais|château|musée|théâtre|hôtel|maison|gare|marché|porte|tour|mont|lac|col|côte|"
    r"val|bois|cour|conseil|tribunal|ministère|parlement|front|parti|mouvement|comité|centre|"
    r"syndicat|bureau|ligue|journal|collège|lycée|prix)\s+du\b",
    re.I,
)


def _unquoted(text: str) -> str:
    """``text`` with every quotation blanked out (same length, so positions still hold)."""
    return _QUOTED.sub(lambda found: " " * len(found.group(0)), text)


def informal_address(text: str) -> str | None:
    """The first "du" form in a German ``text`` ("dich", "Deine", "Tippe"), else None."""
    text = _unquoted(text)
    french = [found.end() - 2 for found in _FRENCH_DU.finditer(text)]
    candidates = [*_INFORMAL.finditer(text), *_INFORMAL_IMPERATIVE.finditer(text)]
    for found in sorted(candidates, key=lambda found: found.start()):
        if found.start() not in french:
            return found.group(0)
    return None


def formal_address(text: str) -> str | None:
    """The first "Sie" form in a German ``text`` that can only be the formal "you": a
    capitalised "Sie"/"Ihr…"/"Ihnen" inside a sentence ("Tippen Sie", "an Ihre", "danke
    Ihnen"). At the start of a sentence, a line, a list item or a quotation it may be
    "she"/"they" ("Ihnen drohen fünf Jahre Haft"): not counted."""
    text = _unquoted(text)
    for found in _FORMAL.finditer(text):
        if not _SENTENCE_START.search(text[: found.start()]):
            return found.group(0)
    return None

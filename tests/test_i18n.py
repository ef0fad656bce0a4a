"""Translation catalogs: the .pot matches the sources, and de/fr translate all of it, correctly.

These read the catalogs straight from ``locales/`` (no compile step), so a message added to the
code without `make messages` and a translation, or a translation that drops a ``{placeholder}``,
fails here instead of showing English or raising ``KeyError`` in front of a supporter.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import DOMAIN, catalog, format_number, gettext, ngettext, use_locale

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / f"{DOMAIN}.pot"
TRANSLATED = ("de", "fr")
# What `make messages` passes to pybabel: the default keywords (_, gettext, ngettext, ...) and N_.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}

MsgId = str | tuple[str, ...]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def _messages(cat: Catalog) -> list[Message]:
    return [message for message in cat if message.id]


def _show(ids: object) -> str:
    return "\n".join(f"  {msgid!r}" for msgid in sorted(ids, key=repr))  # type: ignore[call-overload]


def _placeholders(text: str) -> set[str]:
    """``{name}`` / ``{byte:02X}`` fields of a str.format template (``{{`` is no field)."""
    return {
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    }


def _extracted_ids() -> set[MsgId]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    return {
        msgid
        for _, _, msgid, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


def test_pot_matches_sources() -> None:
    in_code = _extracted_ids()
    in_pot = {message.id for message in _messages(_read(POT))}
    assert in_code, "no messages extracted: is babel.cfg still pointing at bot/ and handlers/?"
    assert in_code == in_pot, (
        f"locales/{DOMAIN}.pot is out of date: run `make messages`.\n"
        f"In the code, not in the .pot:\n{_show(in_code - in_pot)}\n"
        f"In the .pot, no longer in the code:\n{_show(in_pot - in_code)}"
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    po = _read(LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po", language)
    problems: list[str] = []
    for template in _messages(_read(POT)):
        message = po.get(template.id, context=template.context)
        if message is None:
            problems.append(f"missing (run `make messages`): {template.id!r}")
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(template.id, tuple) and len(forms) != po.num_plurals:
            problems.append(f"{len(forms)} of {po.num_plurals} plural forms: {template.id!r}")
        elif not all(forms):
            problems.append(f"untranslated: {template.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {template.id!r}")
    assert not problems, f"{language}: {len(problems)} problem(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders(language: str) -> None:
    po = _read(LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po", language)
    problems: list[str] = []
    for message in _messages(po):
        if isinstance(message.id, tuple):
            # Each form must take the same arguments as the plural msgid ({count} in all of them).
            expected = _placeholders(message.id[1])
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
        else:
            expected = _placeholders(message.id)
            forms = (message.string,)
        for form in forms:
            if not form:
                continue  # test_every_message_is_translated reports it
            try:
                found = _placeholders(form)
            except ValueError as error:
                problems.append(f"{form!r}: not a format string ({error})")
                continue
            if found != expected:
                problems.append(
                    f"{form!r}: has {sorted(found)}, expected {sorted(expected)} "
                    f"(msgid {message.id!r})"
                )
    assert not problems, f"{language}: placeholder mismatch:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "welcome"),
    [("en", "Welcome!"), ("de", "Willkommen!"), ("fr", "Bienvenue\u202f!")],
)
def test_catalog_loads_and_translates(language: str, welcome: str) -> None:
    assert catalog(language).gettext("Welcome!") == welcome
    with use_locale(language):
        assert gettext("Welcome!") == welcome


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", {1: "1 letter sent", 2: "2 letters sent", 9: "9 letters sent"}),
        ("de", {1: "1 Brief verschickt", 2: "2 Briefe verschickt", 9: "9 Briefe verschickt"}),
        (
            "fr",
            {
                0: "0 lettre envoyée",
                1: "1 lettre envoyée",
                2: "2 lettres envoyées",
                9: "9 lettres envoyées",
                # babel's French "many" form (msgstr[1]): empty would fall back to English.
                1_000_000: f"{format_number(1_000_000, 'fr')} lettres envoyées",
            },
        ),
    ],
)
def test_plural_forms(language: str, expected: dict[int, str]) -> None:
    with use_locale(language):
        rendered = {
            n: ngettext("{count} letter sent", "{count} letters sent", n).format(
                count=format_number(n, language)
            )
            for n in expected
        }
    assert rendered == expected
    assert rendered[1] != rendered[2]

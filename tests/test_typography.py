"""Typography of every catalog (docs/translation-style.md), and French as a supporter reads it.

The rules live in tools/typography.py (the one executable form of the style guide); here they
run over every .po under locales/ — variants included (de_CH, fr_CH, a formal German) as soon as
they exist — so a plain space before "?" (which Telegram may wrap, leaving the "?" alone on a
line), an "eine:r" or a „…" in a Swiss catalog cannot slip back in with a merge.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from babel.messages.pofile import read_po
from journeys import ADMIN_ID, subscriber, time_out, upload

from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import DOMAIN

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "locales").glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
NNBSP, NBSP = "\u202f", "\u00a0"


def _load_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("typography", ROOT / "tools" / "typography.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["typography"] = module
    spec.loader.exec_module(module)
    return module


rules = _load_rules()


def _locale(path: Path) -> str:
    return path.parent.parent.name


def _forms(path: Path) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(locale, msgid forms, msgstr forms) of each translated message."""
    with path.open("rb") as file:
        catalog = read_po(file, domain=DOMAIN)
    return [
        (_locale(path), rules.forms(message.id), rules.forms(message.string))
        for message in catalog
        if message.id
    ]


@pytest.mark.parametrize("path", CATALOGS, ids=_locale)
def test_every_catalog_keeps_its_typography(path: Path) -> None:
    found = [
        f"  {ids[0]!r}: {problem}\n    {string!r}"
        for locale, ids, strings in _forms(path)
        for string in strings
        if string
        for problem in rules.problems(locale, " ".join(ids), string)
    ]
    assert not found, (
        f"{_locale(path)}: {len(found)} typography problem(s) (docs/translation-style.md; "
        "`make typography` fixes the French spacing):\n" + "\n".join(found)
    )


def test_the_catalogs_are_all_checked() -> None:
    assert {"de", "fr", "en"} <= {_locale(path) for path in CATALOGS}


@pytest.mark.parametrize("path", CATALOGS, ids=_locale)
def test_each_catalog_header_points_to_the_style_guide(path: Path) -> None:
    with path.open("rb") as file:
        catalog = read_po(file, domain=DOMAIN)
    assert "docs/translation-style.md" in catalog.header_comment


@pytest.mark.parametrize("path", [p for p in CATALOGS if _locale(p).startswith("fr")], ids=_locale)
def test_french_many_form_reads_as_the_plural(path: Path) -> None:
    """CLDR's French "many" (msgstr[1]: 1 000 000, 2 000 000) is written in digits here, and
    digits take no "de" ("1 000 000 lettres"): it is the ordinary plural, word for word."""
    differing = [
        f"  {ids[0]!r}: {strings[1]!r} vs {strings[2]!r}"
        for _, ids, strings in _forms(path)
        if len(strings) == 3 and strings[1] != strings[2]
    ]
    assert not differing, "msgstr[1] differs from msgstr[2]:\n" + "\n".join(differing)


# -- the rules themselves: each one catches what it names -------------------------------------


@pytest.mark.parametrize(
    ("locale", "msgid", "msgstr", "problem"),
    [
        ("fr", "Sure?", "Êtes-vous sûr ?", "U+202F"),
        ("fr", "Welcome!", "Bienvenue!", "U+202F"),
        ("fr", "Note: {x}", "Note : {x}", "U+00A0"),
        ("fr", "Note: {x}", "Note\u202f: {x}", "U+00A0"),
        ("fr", "a; b", "a ; b", "U+202F"),
        ("fr", "Tap “Skip”", "Touchez «Passer»", "'«' needs U+202F"),
        ("fr", "Tap “Skip”", "Touchez “Passer”", "quotes"),
        ("fr", "Tap “Skip”", 'Touchez "Passer"', "straight quotes"),
        ("fr", "It's", "C'est", "apostrophe"),
        ("fr", "to every subscriber", "à tou·te·s les abonné·e·s", "median-dot"),
        ("de", "one of {count}", "eine:r von {count}", "pronoun"),
        ("de", "each", "jede*r", "pronoun"),
        ("de", "Tap “Skip”", "Tippe auf «Überspringen»", "„…“"),
        ("de", "Tap “Skip”", "Tippe auf „Überspringen”", "„…“"),
        ("de", "Tap “Skip”", 'Tippe auf "Überspringen"', "straight quotes"),
        ("de_CH", "Tap “Skip”", "Tippe auf „Überspringen“", "«…»"),
        ("de_CH", "Greetings", "Grüße", "ss"),
        ("de-formal", "one of {count}", "eine:r von {count}", "pronoun"),
        ("en", "Sure?", "Sure ?", "space before"),
    ],
)
def test_each_rule_catches_its_mistake(locale: str, msgid: str, msgstr: str, problem: str) -> None:
    found = rules.problems(locale, msgid, msgstr)
    assert any(problem in text for text in found), found


@pytest.mark.parametrize(
    ("locale", "msgid", "msgstr"),
    [
        ("fr", "Sure?", "Voulez-vous vraiment tout effacer\u202f?"),
        ("fr", "Tap “Skip”: go", "Touchez «\u202fPasser\u202f»\u00a0: allez"),
        ("fr", '"open" or "closed"', '"open" ou "closed"'),  # TOML values the admin types
        ("fr", "role.de = x", 'role.fr = "Procureur général"'),
        ("fr", "byte 0x{byte:02X}", "octet 0x{byte:02X}"),
        ("fr", "{n} in this group · {total}", "{n} de ce groupe · {total} au total"),
        ("fr", "https://t.me", "https://t.me/uabot?start=x"),
        ("de", "one of {count}", "eine von {count}"),
        ("de", "Tap “Skip”", "Tippe auf „Überspringen“"),
        ("de", "recipients", "Empfänger:innen"),  # a noun: the organisation's marker is allowed
        ("de_CH", "Tap “Skip”", "Tippe auf «Überspringen»"),
        ("en", "Sure?", "Sure?"),
    ],
)
def test_what_is_right_passes(locale: str, msgid: str, msgstr: str) -> None:
    assert rules.problems(locale, msgid, msgstr) == []


@pytest.mark.parametrize(
    "plain",
    [
        "Êtes-vous prêt ? Oui !",
        "Note : « Passer » ; suite",
        "C'est fait : rien n'a été effacé.",
        "Déjà ?!",
        "Bienvenue! Note: voir https://t.me/uabot?start=x",
    ],
)
def test_the_french_fix_makes_text_pass_and_holds(plain: str) -> None:
    fixed = rules.fix_french(plain)
    assert rules.problems("fr", plain, fixed) == []
    assert rules.fix_french(fixed) == fixed


@pytest.mark.parametrize(
    ("plain", "fixed"),
    [
        (  # an attribute's quotes and a URL are markup, not apostrophes
            "Voir <a href='https://example.org/ua?x=1'>le dossier</a> !",
            "Voir <a href='https://example.org/ua?x=1'>le dossier</a>\u202f!",
        ),
        ("Tapez AT&amp;T ; puis &lt;Envoyer&gt;", "Tapez AT&amp;T\u202f; puis &lt;Envoyer&gt;"),
        ("<b>Titre:</b> {title}", "<b>Titre\u00a0:</b> {title}"),
        ("{name!r} ; {count:,}", "{name!r}\u202f; {count:,}"),
        (
            "Lien : https://t.me/uabot?start=ua-012-26",
            "Lien\u00a0: https://t.me/uabot?start=ua-012-26",
        ),
        # A TOML literal string the admin types: ’ would break the file.
        ("Exemple : role.fr = 'Procureur'", "Exemple\u00a0: role.fr = 'Procureur'"),
        # An e-mail address is typed as it is: ’ would send the letter nowhere.
        (
            "Écrivez à o'brien@amnesty.fr ou l'équipe : info@amnesty.fr.",
            "Écrivez à o'brien@amnesty.fr ou l’équipe\u00a0: info@amnesty.fr.",
        ),
    ],
)
def test_the_french_fix_leaves_markup_placeholders_urls_and_code_alone(
    plain: str, fixed: str
) -> None:
    assert rules.fix_french(plain) == fixed
    assert rules.fix_french(fixed) == fixed


# -- a French journey: the key messages as a French-speaking supporter receives them ----------


# What the bot's French is checked for in a journey: a plain space before ; : ! ? » (Telegram
# may wrap there), or no space at all ("Langue: Français", built in code rather than taken
# from the catalog). A URL's "https:" or "?start=" and a time's "10:30" are followed by no space.
_FRENCH_SPACING = re.compile(
    r" [;:!?»]|« |[^\s\u00a0\u202f;:!?»][;!?»](?=\s|$)|[^\s\u00a0:]:(?=\s|$)|«\S"
)


def _plain_space_before_punctuation(messages: list[SentMessage]) -> list[str]:
    """Texts the bot sent in French with a plain space, or none, before ; : ! ? » (or after
    «)."""
    return [
        f"{found.group()!r} in {message.text!r}"
        for message in messages
        if message.text
        for found in _FRENCH_SPACING.finditer(message.text)
    ]


async def _fr(emulator: Emulator, user_id: int) -> SimUser:
    return await subscriber(emulator, user_id, "fr")


async def test_french_journey_reads_as_written(emulator: Emulator, restart: Any) -> None:
    async with restart() as app:
        ada = emulator.user(301, first_name="Ada", language_code="fr")
        await ada.send("/start")
        assert (await ada.receive()).text.startswith(f"Bienvenue{NNBSP}!")
        ben = await _fr(emulator, 302)
        admin = await _fr(emulator, ADMIN_ID)

        await ada.send("/unsubscribe")
        await ada.receive()
        await ada.send("/subscribe")
        assert (await ada.receive()).text == (
            f"Abonnement activé{NBSP}: les actions nouvelles et mises à jour "
            "vous parviendront ici."
        )

        preview = await upload(admin, "ua-012-26-1.toml")
        await admin.tap(preview, "📣 Publier")
        ada_card, ben_card = await ada.receive(), await ben.receive()
        await admin.receive_many(2)  # the admin's own card, the report
        first = await ada.tap(ada_card, "✅ Je l’ai envoyée")
        assert first.text == f"Merci{NNBSP}! La vôtre est la première lettre comptée."
        second = await ben.tap(ben_card, "✅ Je l’ai envoyée")
        assert second.text == f"Merci{NNBSP}! 2 personnes ont envoyé une lettre, dont vous."

        await ben.send("/write UA 012/26")
        await ben.receive()
        await time_out(app, "letter", 302)
        timeout = await ben.receive(timeout=10)
        assert timeout.text == (
            f"Sans réponse de votre part pendant 30 minutes, votre lettre a été annulée{NNBSP}; "
            f"rien n’a été conservé. Touchez «{NNBSP}Écrire une lettre{NNBSP}» pour recommencer."
        )
        await ben.send("/write UA 012/26")
        await ben.receive()
        await ben.send("/cancel")
        cancelled = (await ben.receive()).text
        assert cancelled.startswith(f"Lettre annulée{NNBSP}; rien n’a été conservé.")

        await admin.send("/stats")
        stats = (await admin.receive()).text
        assert "Personnes abonnées\n" in stats, stats
        # The lines agree with the heading's "personnes" (was "jamais abonnés … venus").
        assert "jamais abonnées (p. ex. venues par la séance d’un groupe)" in stats, stats
        assert f"actives{NBSP}: 3" in stats and "Lettres confirmées" in stats
        # The count lines built in code (a language, a case) take the catalog's colon too.
        assert f"\n  français{NBSP}: 3\n" in stats.lower(), stats
        assert f"\n  AU 012/26{NBSP}: 2\n" in stats, stats  # the card's label

    assert _plain_space_before_punctuation([*ada.messages, *ben.messages, *admin.messages]) == []

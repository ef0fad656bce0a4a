"""German as organisations write it: du (de), Swiss (de-CH: ss, «…»), formal (Sie), each a
catalog that holds only what differs, found through gettext's fallback chain.

The catalog tests keep the variants honest (generated ones current, the formal one complete
in its register); the journeys drive the real Application in each variant and read what a
supporter and an admin receive.
"""

from __future__ import annotations

import importlib.util
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from conftest import ADMIN_ID, make_config
from journeys import subscriber, time_out, upload
from transitions import record

from bot import i18n
from bot.app import build_application, running
from bot.config import ConfigError, I18nConfig, parse_config
from bot.emulator import Emulator
from bot.i18n import (
    DOMAIN,
    LOCALES_DIR,
    catalog,
    configure,
    fallbacks,
    formal_address,
    format_number,
    informal_address,
    use_locale,
)

ROOT = Path(__file__).resolve().parent.parent


def _load_variants_tool() -> Any:
    spec = importlib.util.spec_from_file_location("variants", ROOT / "tools" / "variants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


variants = _load_variants_tool()


@pytest.fixture(autouse=True)
def _default_languages() -> Iterator[None]:
    """Each test configures its own variant; the next test finds the plain catalogs again."""
    yield
    configure(I18nConfig())


def _template_ids() -> list[str | tuple[str, ...]]:
    """Every message the code has (test_i18n keeps the .pot in step with the sources)."""
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("rb") as file:
        return [message.id for message in read_po(file) if message.id]


def _effective(locale: str) -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    """What gettext finds for each message through ``locale``'s chain."""
    return variants._strings(fallbacks(locale))


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


# -- the catalogs ------------------------------------------------------------------------------


def test_generated_variants_are_current() -> None:
    """de_CH and de_CH@formal are what `make variants` makes of de and de@formal."""
    assert variants.main(["--check"]) == 0, "run `make variants`"


@pytest.mark.parametrize("locale", ["de", "de_CH", "de@formal", "de_CH@formal"])
def test_every_message_resolves_in_each_german_variant(locale: str) -> None:
    found = _effective(locale)
    missing = [msgid for msgid in _template_ids() if msgid not in found]
    assert not missing, f"{locale}: untranslated through its chain: {missing[:5]}"


@pytest.mark.parametrize("locale", ["de", "de_CH"])
def test_the_informal_catalogs_never_say_sie(locale: str) -> None:
    found = {
        msgid: word
        for msgid, value in _effective(locale).items()
        for form in _forms(value)
        if (word := formal_address(form))
    }
    assert not found, f"{locale} says 'Sie' where the interface says 'du': {found}"


@pytest.mark.parametrize("locale", ["de@formal", "de_CH@formal"])
def test_the_formal_catalogs_never_say_du(locale: str) -> None:
    """The formal register's completeness test: a message added in "du" to de needs its
    "Sie" form in de@formal, or a formal organisation would mix registers."""
    found = {
        msgid: word
        for msgid, value in _effective(locale).items()
        for form in _forms(value)
        if (word := informal_address(form))
    }
    assert not found, f"{locale} says 'du' (add the message to locales/de@formal): {found}"


@pytest.mark.parametrize("locale", ["de_CH", "de_CH@formal"])
def test_swiss_spelling_and_quotes(locale: str) -> None:
    wrong = [
        form
        for value in _effective(locale).values()
        for form in _forms(value)
        if set(form) & set("ß„“‚‘")
    ]
    assert not wrong, f"{locale} keeps ß or German quotes: {wrong[:5]}"


@pytest.mark.parametrize("locale", ["de@formal", "de_CH", "de_CH@formal"])
def test_variant_catalogs_hold_only_current_messages_with_their_placeholders(
    locale: str,
) -> None:
    """A variant entry whose message left the code would shadow nothing and rot; one that
    drops a ``{placeholder}`` would raise KeyError in front of a supporter."""
    templates = set(_template_ids())
    problems = []
    for message in variants._read(locale):
        if not message.id:
            continue
        if message.id not in templates:
            problems.append(f"obsolete: {message.id!r}")
            continue
        source = message.id[1] if isinstance(message.id, tuple) else message.id
        expected = {name for _, name, _, _ in string.Formatter().parse(source) if name}
        for form in _forms(message.string):
            found = {name for _, name, _, _ in string.Formatter().parse(form) if name}
            if found != expected:
                problems.append(f"{form!r}: {sorted(found)}, expected {sorted(expected)}")
    assert not problems, f"{locale}:\n" + "\n".join(problems)


def test_register_detection() -> None:
    assert formal_address("Tippen Sie auf „Senden“.") == "Sie"
    assert formal_address("Danke für Ihr Engagement.") == "Ihr"
    # At the start of a sentence or a quotation "Sie" may be "she": not counted.
    assert formal_address("Zum Beispiel: „Sie wurde am 3. März freigelassen.“") is None
    assert informal_address("Danke für dein Engagement.") == "dein"
    assert informal_address("Die Durchsuchung dauerte an.") is None


# -- languages as locales ----------------------------------------------------------------------


def _i18n(**values: Any) -> I18nConfig:
    return parse_config({"telegram": {"token": "x:y"}, "i18n": values}, environ={}).i18n


def test_config_takes_locales_and_keeps_languages() -> None:
    config = _i18n(languages=["de-CH", "fr_CH", "en"], default_language="de-CH")
    assert config.languages == ("de", "fr", "en")
    assert config.default_language == "de"
    assert config.variants == ("de-CH", "fr-CH")
    assert config.region == "CH"  # the letters are Swiss too
    assert not config.formal
    assert _i18n(languages=["de", "en"], default_language="en", formal=True).formal


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"languages": ["de", "de-CH"], "default_language": "de"}, "twice"),
        ({"languages": ["de-XX-yy"], "default_language": "de"}, "de-XX-yy"),
        ({"languages": ["en"], "formal": "yes"}, "formal"),
    ],
)
def test_config_refuses_what_names_no_locale(values: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        _i18n(**values)


def test_reader_language_and_formatting_accept_variants() -> None:
    config = _i18n(languages=["de-CH", "fr-CH", "en"], default_language="de-CH")
    configure(config)
    # Telegram's "de-CH" and a stored "de-CH" both mean the configured German.
    assert i18n.reader_language(config, None, "de-CH") == "de"
    assert i18n.reader_language(config, "de-CH") == "de"
    assert format_number(1234567, "de") == format_number(1234567, "de_CH") != "1.234.567"
    assert i18n.language_name("fr", "de") == "Französisch"
    with use_locale("de"):
        assert catalog("de").gettext('the closing like "Yours sincerely,"') == (
            "die Grussformel wie «Mit freundlichen Grüssen»"
        )


def test_formal_without_a_catalog_stops_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "LOCALES_DIR", LOCALES_DIR)
    assert fallbacks("de_CH@formal") == ["de_CH@formal", "de@formal", "de_CH", "de"]
    with pytest.raises(i18n.CatalogError, match="formal"):
        i18n._catalog_chain("fr@formal")  # a chosen register no catalog speaks


# -- the journeys ------------------------------------------------------------------------------

FORMAL = {"formal": True}
SWISS = ["de-CH", "fr-CH", "en"]
VARIANTS = {
    "de": ({"languages": ["en", "de", "fr"]}, "du", "„Brief schreiben“"),
    "de-CH": ({"languages": SWISS}, "du", "«Brief schreiben»"),
    "de formal": ({"languages": ["en", "de", "fr"], **FORMAL}, "Sie", "„Brief schreiben“"),
    "de-CH formal": ({"languages": SWISS, **FORMAL}, "Sie", "«Brief schreiben»"),
}
EXPECTED = {
    "du": {
        "subscribed": "Du bist angemeldet: Neue und aktualisierte Aktionen erreichen dich hier.",
        "thanks": "Danke! Dein Brief ist der erste, der gezählt wurde.",
        "timeout": "Dein Brief wurde nach 30 Minuten ohne Eingabe abgebrochen; nichts wurde "
        "gespeichert. Tippe auf {quoted}, um neu zu beginnen.",
    },
    "Sie": {
        "subscribed": "Sie sind angemeldet: Neue und aktualisierte Aktionen erreichen Sie hier.",
        "thanks": "Danke! Ihr Brief ist der erste, der gezählt wurde.",
        "timeout": "Ihr Brief wurde nach 30 Minuten ohne Eingabe abgebrochen; nichts wurde "
        "gespeichert. Tippen Sie auf {quoted}, um neu zu beginnen.",
    },
}


@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_key_messages_in_each_german_variant(
    emulator: Emulator, tmp_path: Path, variant: str
) -> None:
    settings, register, quoted = VARIANTS[variant]
    config = make_config(emulator, tmp_path / "uabot.sqlite3", i18n=settings)
    expected = {key: text.format(quoted=quoted) for key, text in EXPECTED[register].items()}
    async with running(record(build_application(config)), poll_timeout=1) as app:
        admin = await subscriber(emulator, ADMIN_ID, "de")
        user = await subscriber(emulator, 71, "de-CH")  # Telegram's code for Swiss German

        await user.send("/unsubscribe")
        await user.receive()
        await user.send("/subscribe")
        assert (await user.receive()).text == expected["subscribed"]

        preview = await upload(admin, "ua-012-26-1.toml")
        await admin.tap(preview, "📣 Veröffentlichen")
        await admin.receive_many(2)  # own card, report
        card = await user.receive()

        await user.tap(card, "✍️ Brief schreiben")
        await user.receive()
        await time_out(app, "letter", 71)
        assert (await user.receive(timeout=10)).text == expected["timeout"]

        answer = await user.tap(card, "✅ Ich habe ihn verschickt")
        assert answer.text == expected["thanks"]

        await admin.send("/stats")
        stats = (await admin.receive()).text
        assert "Angemeldete" in stats and "Bestätigte Briefe" in stats


# -- uabot check: one register ----------------------------------------------------------------

ACTIONS = ROOT / "tests" / "fixtures" / "actions"
SUMMARY = 'summary = "Die Investigativjournalistin'


def test_check_warns_when_a_german_text_uses_the_other_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    text = (ACTIONS / "ua-012-26-1.toml").read_text("utf-8")
    assert text.count(SUMMARY) == 1
    formal = tmp_path / "formal.toml"
    formal.write_text(text.replace(SUMMARY, 'summary = "Schreiben Sie heute! Die Journalistin'))
    informal = tmp_path / "informal.toml"
    informal.write_text(
        text.replace(
            SUMMARY, 'summary = "Schreib heute, dein Brief hilft! Die Journalistin'
        ).replace("Ich fordere Sie auf", "Ich bitte dich")
    )
    config = tmp_path / "formal-config.toml"
    config.write_text('[telegram]\ntoken = "1:x"\n[i18n]\nformal = true\n', "utf-8")

    # The default: du. Warnings, not problems: the files still pass.
    assert main(["check", str(formal), str(informal)]) == 0
    err = capsys.readouterr().err
    assert 'formal.toml: text.de.summary: uses "Sie": the bot says "du" to supporters' in err
    assert "informal.toml: text.de" not in err
    # A letter addresses officials: "Sie" there is right, "du" never.
    assert 'informal.toml: letter.de.body: uses "dich": a letter addresses officials' in err
    assert "formal.toml: letter.de" not in err.replace("informal.toml: letter.de", "")

    assert main(["check", "--config", str(config), str(formal), str(informal)]) == 0
    err = capsys.readouterr().err
    assert 'informal.toml: text.de.summary: uses "dein": the bot says "Sie"' in err
    assert "formal.toml: text.de.summary" not in err.replace("informal.toml: text.de", "")

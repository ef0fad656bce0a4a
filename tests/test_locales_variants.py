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


SWISS_WORD = "Close a case and announce its outcome"


def test_make_variants_keeps_the_hand_written_swiss_differences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Swiss word that is not mechanical (manual.po) survives `make variants` and is what
    a Swiss reader gets; a German reader keeps de's wording."""
    import shutil

    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    (locales / "de_CH" / variants.MANUAL).write_text(
        f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        f'msgid "{SWISS_WORD}"\nmsgstr "Fall abschliessen und Ausgang bekanntgeben"\n',
        "utf-8",
    )
    monkeypatch.setattr(variants, "LOCALES_DIR", locales)
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    assert variants.main([]) == 0  # `make variants`
    assert variants.main([]) == 0 and variants.main(["--check"]) == 0  # and again: stable
    generated = (locales / "de_CH" / "LC_MESSAGES" / f"{DOMAIN}.po").read_text("utf-8")
    assert "manual: locales/de_CH/manual.po" in generated
    i18n._catalog_chain.cache_clear()
    try:
        configure(_i18n(languages=["de-CH", "en"], default_language="en"))
        assert catalog("de").gettext(SWISS_WORD) == "Fall abschliessen und Ausgang bekanntgeben"
        configure(_i18n(languages=["de-CH", "en"], default_language="en", formal=True))
        assert catalog("de").gettext(SWISS_WORD) == "Fall abschliessen und Ausgang bekanntgeben"
        configure(_i18n(languages=["de", "en"], default_language="en"))
        assert catalog("de").gettext(SWISS_WORD) == "Fall abschließen und Ausgang mitteilen"
    finally:
        i18n._catalog_chain.cache_clear()


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


@pytest.mark.parametrize(
    ("tag", "instead"),
    [
        ("de-SW", "'de-CH'"),  # SW is no country: CLDR has no German for it
        ("de-XX", "'de-CH'"),
        ("fr-DE", "'fr-FR'"),  # a country CLDR has no French for (babel decides)
        ("de-419", "'de-CH'"),  # a region, not a country
        ("en-UK", "'en-GB'"),  # CLDR's alias
    ],
)
def test_a_locale_cldr_does_not_know_is_one_line_naming_a_known_one(
    tag: str, instead: str
) -> None:
    """It would pass start-up and fail at the first date (/stats, an upload's preview)."""
    with pytest.raises(ConfigError) as error:
        _i18n(languages=[tag, "en"], default_language="en")
    message = str(error.value)
    assert message.startswith(f"i18n.languages: {tag!r} is not a locale CLDR knows: use ")
    assert instead in message and "\n" not in message


@pytest.mark.parametrize(
    ("languages", "default"),
    [(["de", "en"], "de-CH"), (["de-CH", "en"], "de-AT"), (["de-CH"], "de-SW")],
)
def test_the_default_language_is_one_of_the_configured_territory_included(
    languages: list[str], default: str
) -> None:
    with pytest.raises(ConfigError, match=f"i18n.default_language {default!r} is not in"):
        _i18n(languages=languages, default_language=default)
    assert _i18n(languages=["de-CH", "en"], default_language="de").default_language == "de"


def test_the_region_is_inferred_past_the_languages_own_letter_regions() -> None:
    """en-GB says nothing about where the organisation is: English letters are British."""
    assert _i18n(languages=["de-CH", "fr-CH", "en-GB"], default_language="en").region == "CH"
    assert _i18n(languages=["de-AT", "en-GB"], default_language="en").region == "AT"
    assert _i18n(languages=["de-DE", "en-GB"], default_language="en").region is None
    assert _i18n(languages=["de-CH", "fr-BE"], default_language="de").region is None
    assert _i18n(languages=["de-CH", "en"], region="AT", default_language="en").region == "AT"


@pytest.mark.parametrize(
    ("code", "expected"), [("gsw", "de"), ("gsw-CH", "de"), ("rm", "en"), ("de-CH", "de")]
)
def test_swiss_german_readers_get_german_romansh_readers_the_default(
    code: str, expected: str
) -> None:
    config = _i18n(languages=SWISS, default_language="en")
    assert i18n.reader_language(config, None, code) == expected


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


async def test_a_swiss_german_telegram_user_is_greeted_in_german(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Telegram's "gsw" (Schweizerdeutsch) reads Standard German in writing."""
    config = make_config(emulator, tmp_path / "uabot.sqlite3", i18n={"languages": SWISS})
    async with running(record(build_application(config)), poll_timeout=1):
        user = emulator.user(72, first_name="Urs", language_code="gsw")
        await user.send("/start")
        greeting = (await user.receive()).text or ""
        await user.send("/subscribe")
        assert (await user.receive()).text == "Du bist bereits angemeldet."
    assert "Willkommen" in greeting or "Hallo" in greeting, greeting


async def test_swiss_languages_with_british_english_write_swiss_letters(
    emulator: Emulator, tmp_path: Path
) -> None:
    """["de-CH", "fr-CH", "en-GB"]: the organisation is Swiss, its German letters de-CH."""
    from test_letter_document import PRIMARY, languages_of_runs, part, published, write

    languages = {"languages": ["de-CH", "fr-CH", "en-GB"]}
    config = make_config(emulator, tmp_path / "uabot.sqlite3", i18n=languages)
    async with running(record(build_application(config)), poll_timeout=1):
        user = emulator.user(31, first_name="Ada", language_code="de")
        await user.send("/start")
        await user.receive()
        (card,) = await published(emulator, [user])
        message = await write(user, card, lambda label: "Deutsch" in label, PRIMARY)
    assert message.document is not None
    xml = part(message.document.data, "word/document.xml")
    assert set(languages_of_runs(xml)) == {"de-CH"}


# -- what the operator sees at start -----------------------------------------------------------


async def _start_and_doctor(
    folder: Path, i18n_section: str
) -> tuple[int, list[str], int, list[str]]:
    """``uabot run`` and ``uabot doctor`` with ``i18n_section`` (Telegram refuses the token,
    so a start that got past the checks would say so): each one's status and output lines."""
    from fault_servers import UNAUTHORIZED, Uabot, answering, assert_clean, write_config

    async with answering(401, UNAUTHORIZED) as url:
        config = write_config(folder, url, extra=f"[i18n]\n{i18n_section}\n")
        statuses: list[int] = []
        lines: list[list[str]] = []
        for command in ("run", "doctor"):
            uabot = await Uabot.start(config, command=command)
            try:
                statuses.append(await uabot.finish())
            finally:
                await uabot.kill()
            assert_clean(uabot)
            lines.append(uabot.err if command == "run" else uabot.out)
    return statuses[0], lines[0], statuses[1], lines[1]


async def test_uabot_run_and_doctor_refuse_a_locale_cldr_does_not_know(tmp_path: Path) -> None:
    section = 'languages = ["de-SW", "en"]\ndefault_language = "en"'
    run_status, run_err, doctor_status, doctor_out = await _start_and_doctor(tmp_path, section)
    line = "i18n.languages: 'de-SW' is not a locale CLDR knows: use one of"
    assert (
        run_status == 2
        and len(run_err) == 1
        and run_err[0].startswith(f"uabot: config error: {line}")
    )
    assert "'de-CH'" in run_err[0]
    assert doctor_status == 1
    assert any(row.split(": ", 1)[-1].startswith(line) for row in doctor_out), doctor_out


@pytest.mark.parametrize(
    ("section", "missing", "fix"),
    [
        ('languages = ["de-CH", "en"]\ndefault_language = "en"', "de_CH", "make variants"),
        ('languages = ["de", "en"]\ndefault_language = "en"\nformal = true', "de@formal", "copy"),
        (
            'languages = ["de-CH", "en"]\ndefault_language = "en"\nformal = true',
            "de_CH@formal",
            "make variants",
        ),
    ],
)
async def test_a_missing_variant_catalog_stops_the_start_and_the_doctor_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str, missing: str, fix: str
) -> None:
    """A deploy that copied locales/de alone would speak ß and "du" to a Swiss or formal
    organisation's readers without a word: the catalog the config asks for must be there."""
    import shutil

    installed = tmp_path / "site"
    shutil.copytree(
        LOCALES_DIR,
        installed / "uabot_locales",
        ignore=lambda folder, names: [missing] if Path(folder) == LOCALES_DIR else [],
    )
    monkeypatch.setenv("PYTHONPATH", str(installed))  # the process finds this copy first
    run_status, run_err, doctor_status, doctor_out = await _start_and_doctor(tmp_path, section)
    expected = f"no catalog {installed / 'uabot_locales' / missing / 'LC_MESSAGES' / 'uabot.po'}"
    assert run_status == 2 and len(run_err) == 1, run_err
    assert run_err[0].startswith(f"uabot: {expected} for i18n.") and fix in run_err[0], run_err
    assert doctor_status == 1
    assert any(f"catalogs: {expected}" in row for row in doctor_out), doctor_out


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
    assert 'informal.toml: text.de.summary: uses "Schreib": the bot says "Sie"' in err
    assert "formal.toml: text.de.summary" not in err.replace("informal.toml: text.de", "")


def test_check_stays_quiet_on_correct_german_in_either_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Sie"/"Ihnen" as she/they at a line's, a list item's or a sentence's start, an
    ambassador's "Eure Exzellenz", a French "Place du Trône" and a quoted slogan are correct
    German in a du-organisation's case file: no warning that would teach admins to ignore it."""
    from bot.cli import main

    text = (ACTIONS / "ua-012-26-1.toml").read_text("utf-8")
    correct = tmp_path / "correct.toml"
    correct.write_text(
        text.replace(
            "Ihr Anwalt konnte bisher",
            "Ihnen drohen bis zu fünf Jahre Haft. Ihr Anwalt konnte bisher",
        )
        .replace(
            "Nadia Berger, 34, schreibt",
            "Was geschah:\n• Sie wurde verhaftet … Sie schrieb weiter.\n"
            "– Sie protestierte auf der Place du Trône: „Du bist nicht allein“.\n"
            "Nadia Berger, 34, schreibt",
        )
        .replace(
            'salutation = "Sehr geehrte Frau Ministerin, sehr geehrter Herr Minister,"',
            'salutation = "Eure Exzellenz,"',
        )
        .replace("Ich fordere Sie auf,", "Euer Ehren, ich fordere Sie auf,"),
        "utf-8",
    )
    assert main(["check", str(correct)]) == 0
    assert "uses" not in capsys.readouterr().err


def test_check_finds_du_imperatives_without_a_pronoun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Schreib heute!" is "du" though it has no "du": a formal organisation hears it."""
    from bot.cli import main

    text = (ACTIONS / "ua-012-26-1.toml").read_text("utf-8")
    informal = tmp_path / "imperative.toml"
    informal.write_text(
        text.replace(SUMMARY, 'summary = "Schreib heute an den Minister! Die Journalistin'),
        "utf-8",
    )
    config = tmp_path / "formal-config.toml"
    config.write_text('[telegram]\ntoken = "1:x"\n[i18n]\nformal = true\n', "utf-8")
    assert main(["check", "--config", str(config), str(informal)]) == 0
    assert 'text.de.summary: uses "Schreib": the bot says "Sie"' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Tippe auf „Senden“.", "Tippe"),
        ("Wähle die Sprache der Gruppe:", "Wähle"),
        ("Schick ihn ab.", "Schick"),
        ("Sende ihn heute.", "Sende"),
        ("Gib deinen Namen ein.", "Gib"),
        ("Bitte tippe auf den Knopf.", "tippe"),
        ("Wenn du Zeit hast, hilf mit.", "du"),
        ("Teile des Landes sind betroffen. Ein Tipp: die Frage stellen.", None),
        ("Euer Ehren, Eure Exzellenz,", None),
        ("Sie wohnt in der Rue du Rhône in Genf.", None),
        ("Ihre Botschaft: „Du bist nicht allein“.", None),
    ],
)
def test_informal_address_hears_du_imperatives_and_not_french_or_honorifics(
    text: str, word: str | None
) -> None:
    assert informal_address(text) == word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Nadia Berger und ihr Kollege sind angeklagt. Ihnen drohen fünf Jahre Haft.", None),
        ("Nadia Berger, Journalistin\nSie wurde am 14. Januar verhaftet.", None),
        ("Was geschah:\n• Sie wurde verhaftet.", None),
        ("Sie schrieb weiter … Sie wurde verhaftet.", None),
        ("Die Haft – Sie wurde nie angeklagt.", None),
        ("Der Slogan „Wir stehen hinter Ihnen“ ging um die Welt.", None),
        ("Danke, dass Sie schreiben.", "Sie"),
        ("Hallo.\nDanke, dass Sie schreiben.", "Sie"),
        ("- Danke, dass Sie schreiben.", "Sie"),
        ("Wir danken Ihnen.", "Ihnen"),
    ],
)
def test_formal_address_leaves_she_and_they_at_a_start(text: str, word: str | None) -> None:
    assert formal_address(text) == word

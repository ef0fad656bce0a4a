"""What the code (not the catalogs) writes into French, German and Swiss messages: the review
of issue 17 (rev17fr, rev17a, rev17de). Each case names what a reader saw before the fix."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, TODAY, publish, subscriber, time_out, upload

from bot.actions.labels import label_prefixes
from bot.actions.model import case_from_text
from bot.actions.render import and_more, reach_line
from bot.actions.typography import fix_french
from bot.config import Config
from bot.emulator import Emulator, SimUser
from bot.i18n import _variants, format_date, format_date_near, format_number, use_locale

NNBSP, NBSP = "\u202f", "\u00a0"
WAIT = 30.0


async def _fr_admin(emulator: Emulator) -> SimUser:
    return await subscriber(emulator, ADMIN_ID, "fr")


# -- 1. case labels: what the card says is what every message says, and what can be typed ----


async def test_french_admin_messages_name_the_case_as_the_card_does(
    emulator: Emulator, bot: Any
) -> None:
    admin = await _fr_admin(emulator)
    preview = await upload(admin, "ua-012-26-1.toml")
    await admin.tap(preview, "📣 Publier")
    await admin.receive_many(2)  # the admin's own card, the report

    await admin.send("/close AU 099/26")  # was "Aucun cas publié ne porte le numéro UA 099/26."
    assert (await admin.receive()).text == "Aucun cas publié ne porte le numéro AU 099/26."

    # The same revision with other content: the importer's refusal names the case too.
    changed = (FIXTURES / "ua-012-26-1.toml").read_text().replace("Nadia", "Nadine", 1)
    await admin.upload("ua-012-26-1.toml", changed.encode(), mime_type="application/toml")
    refusal = (await admin.receive()).text
    assert "AU 012/26" in refusal and "UA 012/26" not in refusal, refusal

    await admin.send("/close AU-012-26")  # the card's label, typed as the link writes it
    assert not (await admin.receive()).text.startswith("Quel cas")


def test_a_case_is_typed_with_any_catalogs_label() -> None:
    assert {"UA", "FI", "AU"} <= set(label_prefixes())
    for typed in ("AU 012/26", "AU 012/26-2", "au-012-26", "FI 012/26-2", "012/26"):
        assert case_from_text(typed) == "UA 012/26", typed
    assert case_from_text("XY 012/26") is None


async def test_french_inline_search_finds_the_label_on_the_card(
    emulator: Emulator, bot: Any
) -> None:
    emulator.inline_mode = True
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive()  # the report
    await publish(admin, "ua-012-26-2.toml")
    await admin.receive()
    reader = await subscriber(emulator, 601, "fr")
    for query in ("AU 012/26-2", "AU-012-26", "au 012/26"):
        answer = await reader.inline(query)
        assert [result["id"] for result in answer.results] == ["ua-012-26"], query


# -- 2. "label: value" lines the code builds, in French punctuation ----------------------------


async def test_french_stats_punctuate_and_name_languages(emulator: Emulator, bot: Any) -> None:
    admin = await _fr_admin(emulator)
    ada = await subscriber(emulator, 301, "fr")
    preview = await upload(admin, "ua-012-26-1.toml")
    await admin.tap(preview, "📣 Publier")
    card = await ada.receive()
    await admin.receive_many(2)
    await ada.tap(card, "✅ Je l’ai envoyée")

    await admin.send("/stats")
    stats = (await admin.receive()).text
    assert f"Français{NBSP}: 2" in stats, stats  # was "Français: 2"
    assert f"AU 012/26{NBSP}: 1" in stats, stats  # was "UA 012/26: 1"
    assert "révision 1, français" in stats, stats  # was the raw code "révision 1, fr"


async def test_the_french_wizard_records_answers_with_a_no_break_space(
    emulator: Emulator, bot: Any
) -> None:
    ben = await subscriber(emulator, 302, "fr")
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive()
    card = await ben.receive()
    await ben.tap(card, card.buttons[0][0].text)  # write a letter
    prompt = await ben.receive()
    await ben.tap(prompt, "✓ Français")
    await ben.receive()  # the next step
    records = [m.text for m in ben.messages if (m.text or "").endswith("✓")]
    assert records == [f"Langue{NBSP}: Français ✓"]  # was "Langue: Français ✓"


def test_problem_lines_and_reach_line_in_french() -> None:
    with use_locale("fr"):
        # "Elle parviendra à 1 personnes abonnées sur 5." agreed with the 5.
        assert reach_line(1, 5) == "Elle parviendra à 1 personne abonnée sur 5."
        assert reach_line(3, 5) == "Elle parviendra à 3 personnes abonnées sur 5."
        assert and_more(1) == "… et 1 autre."  # was "… et 1 autres."
        assert and_more(4) == "… et 4 autres."


# -- 3. the first of the month, in the interface too ---------------------------------------------


def test_french_interface_dates_write_the_first_of_the_month_1er() -> None:
    assert format_date(date(2026, 2, 1), "fr") == "1er février 2026"
    assert format_date(date(2026, 2, 2), "fr") == "2 février 2026"
    assert format_date_near(date(2026, 3, 1), date(2026, 5, 1), "fr") == "1er mars"
    assert format_date_near(date(2026, 3, 1), date(2026, 5, 1), "de") == "1. März"
    assert format_date(date(2026, 2, 1), "fr", fmt="short") == "01/02/2026"


async def test_a_follow_up_reminds_of_a_letter_written_on_the_first(
    emulator: Emulator, bot: Any
) -> None:
    assert TODAY.day == 1  # the tests' today: the letter is confirmed on February 1st
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    ada = await subscriber(emulator, 301, "fr")
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive()
    card = await ada.receive()
    await ada.tap(card, "✅ Je l’ai envoyée")
    await publish(admin, "ua-012-26-2.toml")
    await admin.receive()
    follow_up = (await ada.receive()).text
    # was "Vous avez écrit pour ce cas le 1 février."
    assert "le 1er février" in follow_up, follow_up
    assert "AU 012/26-2" in follow_up, follow_up


# -- 5. plurals the code picked ------------------------------------------------------------------


async def test_a_one_minute_timeout_says_minute(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    async with restart(letters=replace(config.letters, timeout_minutes=1)) as app:
        admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
        await publish(admin, "ua-012-26-1.toml")
        await admin.receive()
        ben = await subscriber(emulator, 302, "fr")
        await ben.receive()
        await ben.send("/write AU 012/26")
        await ben.receive()
        await time_out(app, "letter", 302)
        note = (await ben.receive(timeout=10)).text
    assert note.startswith("Sans réponse de votre part pendant 1 minute, "), note


# -- 6. Swiss numbers ----------------------------------------------------------------------------


@pytest.fixture
def swiss() -> Any:
    saved = dict(_variants)
    _variants.update(de="de_CH", fr="fr_CH")
    yield
    _variants.clear()
    _variants.update(saved)


@pytest.mark.usefixtures("swiss")
def test_swiss_numbers_group_as_switzerland_writes_them() -> None:
    assert format_number(12345, "de") == "12’345"  # babel: "12'345"
    assert format_number(1234567, "de") == "1’234’567"  # babel: "1234567"
    assert format_number(1234567.5, "fr") == f"1{NNBSP}234{NNBSP}567,5"
    assert format_number(999, "de") == "999"
    assert format_number(12345, "en") == "12,345"


# -- 7. French typed by admins -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "fixed"),
    [
        ("C'est urgent ! Écrivez : merci", f"C’est urgent{NNBSP}! Écrivez{NBSP}: merci"),
        (
            "Voir <a href='https://ex.org/a?b=c'>ici</a> !",
            f"Voir <a href='https://ex.org/a?b=c'>ici</a>{NNBSP}!",
        ),
        ("AT&amp;T ; puis", f"AT&amp;T{NNBSP}; puis"),
        ("<b>Titre:</b> {title}", f"<b>Titre{NBSP}:</b> {{title}}"),
        (
            "Lien : https://t.me/uabot?start=ua-012-26",
            f"Lien{NBSP}: https://t.me/uabot?start=ua-012-26",
        ),
        ("<code>role.fr = 'x'</code> : exemple", f"<code>role.fr = 'x'</code>{NBSP}: exemple"),
        ("{name!r} ; {count:,}", f"{{name!r}}{NNBSP}; {{count:,}}"),
    ],
)
def test_the_french_fixer_leaves_markup_and_code_alone(typed: str, fixed: str) -> None:
    assert fix_french(typed) == fixed
    assert fix_french(fixed) == fixed


async def test_a_french_announcement_goes_out_in_french_typography(
    emulator: Emulator, bot: Any
) -> None:
    admin = await _fr_admin(emulator)  # the preview in French: the text French readers get
    ada = await subscriber(emulator, 301, "fr")
    await admin.send("/announce")
    await admin.receive()
    await admin.send("Thank you all!")
    await admin.receive()
    await admin.send("Danke euch allen!")
    await admin.receive()
    await admin.send("Merci à toutes et à tous ! C'est grâce à vous : bravo")
    reach = await admin.receive()
    preview = await admin.receive()
    typeset = f"Merci à toutes et à tous{NNBSP}! C’est grâce à vous{NBSP}: bravo"
    assert typeset in preview.text, (reach.text, preview.text)
    await admin.tap(preview, preview.buttons[0][0].text)
    announcement = await ada.receive(timeout=WAIT)
    assert typeset in announcement.text, announcement.text


async def test_a_french_action_text_reads_in_french_typography(
    emulator: Emulator, bot: Any, tmp_path: Path
) -> None:
    admin = await _fr_admin(emulator)
    source = (FIXTURES / "ua-012-26-1.toml").read_text()
    title = re.search(r"\[text\.fr\]\ntitle = \"([^\"]*)\"", source)
    assert title is not None
    typed = source.replace(
        title.group(0), title.group(0).replace(title.group(1), "Libérez-la ! C'est urgent")
    )
    await admin.upload("ua-012-26-1.toml", typed.encode(), mime_type="application/toml")
    preview = (await admin.receive()).text
    assert f"Libérez-la{NNBSP}! C’est urgent" in preview, preview

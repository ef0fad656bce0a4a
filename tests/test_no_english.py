"""Nothing the user sees stays English (#17 §2): journeys in German and French through the real
Application, with every text the bot sends (messages, captions, buttons, file names, toasts)
checked against a deny-list of English words; then the pieces one by one: /stats and /audit,
case labels per language, the letter's file name and date line, tomllib's reasons."""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docx
import pytest
from babel.messages.pofile import read_po
from journeys import ADMIN_ID, FIXTURES, TODAY, subscriber, upload

from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import format_letter_date, letter_locale

# English words that name the bot's own things; none of them is German or French. ("Import",
# "Export", "Admin", "Sessions", "Revision" are, and stay allowed.)
DENY = re.compile(
    r"\b(the|and|your|you|please|letters?|broadcasts?|statistics|subscribers?|deadline|"
    r"follow-up|sent|write|read more|latest|none yet|unreachable|paused|publish|"
    r"discard|announce|share|skip|cancel|case)\b",
    re.IGNORECASE,
)
# What each language calls things, as the journeys below expect them.
WORDS = {
    "de": {
        "finished": "Rundsendung abgeschlossen",
        "stats": "Statistik",
        "audit": "Letzte Admin-Vorgänge",
        "verbs": (
            "Import UA 012/26",
            "Veröffentlichung UA 012/26-2",
            "Mitteilung (Rundsendung Nr. ",
        ),
        "label": "UA 012/26",
        "follow_up": "UA 012/26-2",
        "file": "UA-012-26-Brief-",
    },
    "fr": {
        "finished": "Diffusion terminée",
        "stats": "Statistiques",
        "audit": "Dernières opérations d’administration",
        "verbs": (
            "importation AU 012/26",
            "publication AU 012/26-2",
            "annonce (diffusion n°\u00a0",
        ),
        "label": "AU 012/26",
        "follow_up": "AU 012/26-2",
        "file": "AU-012-26-lettre-",
    },
}


def said(message: SentMessage) -> Iterator[str]:
    """Everything of one message a reader sees: its text (or caption), buttons, file name."""
    yield message.text
    for row in message.buttons:
        for button in row:
            yield button.text
    if message.document is not None:
        yield message.document.file_name


# French sections call an Urgent Action "AU" (action urgente), a follow-up "suivi": a French
# reader who sees "UA" or "FI" cannot type the label back (/write AU 012/26).
DENY_BY_LANGUAGE = {"fr": re.compile(r"\b(UA|FI)\b")}
# The action files the journeys upload: their keys and values are the admin's, not the bot's.
UPLOADED = ("ua-012-26-1.toml", "ua-012-26-2.toml", "broken.toml")

# Not words of the bot's: commands (/write), action files' names (ua-012-26-1.toml), and in
# an upload's problems the file's keys ("• text.de.sumary:", "[text.en]").
NAMES = re.compile(r"/\w+|[\w-]+\.toml|^• [\w.\[\]]+\s?:|\[[\w.]+\]", re.MULTILINE)
# A quoted span (in any language's quotes): the admin's own only when the uploaded file has it
# ("deadline" quoted back from the file), or code the English shows in straight quotes too
# (the file format's "UA 046/19", docs/translation-style.md); a quoted button name („Write a
# letter“) or reason ("the deadline has passed") is the bot's.
QUOTED = re.compile(r"\"([^\"]*)\"|„([^“]*)“|«\u202f?([^»]*?)\u202f?»|“([^”]*)”")
STRAIGHT = re.compile(r"\"[^\"\n]*\"")


def uploaded_texts() -> str:
    return "\n".join((FIXTURES / name).read_text("utf-8") for name in UPLOADED)


def code_in_messages() -> set[str]:
    """The straight-quoted code the English messages show (``"open" or "closed"``)."""
    with (ROOT / "locales" / "uabot.pot").open("rb") as file:
        ids = [
            form
            for message in read_po(file)
            for form in (message.id if isinstance(message.id, tuple) else (message.id,))
        ]
    return {found.group() for text in ids for found in STRAIGHT.finditer(text)}


def not_the_bots(text: str, files: str, code: set[str]) -> str:
    """``text`` without what the admin wrote or types: commands, file names, keys, quoted
    spans that come from the uploaded files, and the file format's code."""
    text = QUOTED.sub(
        lambda found: (
            ""
            if "".join(found.groups("")).strip() in files or found.group() in code
            else found.group()
        ),
        text,
    )
    return NAMES.sub("", text)


def english_in(users: list[SimUser], toasts: list[str], language: str = "") -> list[str]:
    texts = [text for user in users for message in user.messages for text in said(message)]
    files = uploaded_texts()
    code = code_in_messages()
    deny = [DENY, *([DENY_BY_LANGUAGE[language]] if language in DENY_BY_LANGUAGE else [])]
    return [
        f"{word!r} in {text!r}"
        for text in [*texts, *toasts]
        for pattern in deny
        for word in pattern.findall(not_the_bots(text, files, code))
    ]


@pytest.mark.parametrize(
    ("text", "language", "english"),
    [
        ("Tippe auf „Write a letter“, um neu zu beginnen.", "de", True),
        ("Touchez «\u202fWrite a letter\u202f» pour recommencer.", "fr", True),
        ('Erreur\u00a0: "the deadline has passed"', "fr", True),
        ("Lettres confirmées\n  UA 012/26\u00a0: 1", "fr", True),
        ("Suivi FI 012/26-2", "fr", True),
        ("Brief zu UA 012/26", "de", False),
        ("clé inconnue «\u202fdeadlne\u202f»", "fr", False),  # the file's key, quoted back
        ("Unbekannter Schlüssel „deadlne“", "de", False),
        ("/write et ua-012-26-1.toml", "fr", False),
        ("• letter.en.closing\u00a0: clé obligatoire manquante", "fr", False),
        ('attendu\u00a0: le numéro de cas comme "UA 046/19"', "fr", False),  # the file's format
    ],
)
def test_the_deny_list_sees_quoted_english_and_a_french_ua(
    text: str, language: str, english: bool
) -> None:
    """The check can fail: English the bot quotes is the bot's English, and "UA" in French."""
    assert bool(english_in([], [text], language)) is english


async def until(user: SimUser, fragment: str) -> SentMessage:
    """Receive up to the message that contains ``fragment``."""
    while fragment not in (message := await user.receive(timeout=10)).text:
        pass
    return message


async def tap(
    user: SimUser, message: SentMessage, row: int, column: int, toasts: list[str]
) -> None:
    answer = await user.tap(message, message.buttons[row][column].text)
    if answer.text:
        toasts.append(answer.text)


async def publish(admin: SimUser, name: str, toasts: list[str]) -> None:
    """Upload a case file and tap the preview's first button (Publish, in any language)."""
    await tap(admin, await upload(admin, name), 0, 0, toasts)


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_a_journey_in_german_or_french_shows_no_english_word(
    emulator: Emulator, config: Any, restart: Any, language: str
) -> None:
    """A supporter subscribes, reads, writes (the letter's file name and date line), confirms
    and looks around; an admin publishes a case and its follow-up, announces, reads /stats,
    /export and /audit and uploads a broken file: all of it in ``language`` alone."""
    words = WORDS[language]
    # German: the organisation's town dates letters of writers who give none (Swiss, Bern);
    # French: no town at all, so the date line is "Le 1er février 2026".
    place = "Bern" if language == "de" else None
    region = "CH" if language == "de" else None
    changes = {
        "letters": replace(config.letters, place=place),
        "i18n": replace(config.i18n, region=region),
    }
    toasts: list[str] = []
    async with restart(**changes):
        user = await subscriber(emulator, 1, language)
        admin = emulator.user(ADMIN_ID, first_name="Admin", language_code=language)
        await admin.send("/start")
        await admin.receive()

        await publish(admin, "ua-012-26-1.toml", toasts)
        await until(admin, words["finished"])
        card = await user.receive()
        assert words["label"] in card.text

        await tap(user, card, 0, 1, toasts)  # 📖 read more
        await user.receive()
        await tap(user, card, 0, 0, toasts)  # ✍️ write a letter
        await tap(user, await user.receive(), 0, 0, toasts)  # the reader's language: first
        await tap(user, await user.receive(), 0, 0, toasts)  # the main addressee
        await user.receive()  # name
        await user.send("Anna Muster")
        await tap(user, await user.receive(), 0, 0, toasts)  # place: skipped
        await tap(user, await user.receive(), 0, 0, toasts)  # personal sentence: skipped
        review = await user.receive()
        await tap(user, review, 0, 1, toasts)  # 📄 create
        document = await user.receive()
        assert document.document is not None, document
        assert document.document.file_name.startswith(words["file"])
        data = document.document.data
        expected = format_letter_date(TODAY, letter_locale(language, region))
        lines = [paragraph.text for paragraph in docx.Document(io.BytesIO(data)).paragraphs]
        assert lines[1] == ("Bern, " + expected if place else "Le " + expected), lines[:3]
        await tap(user, card, 1, 0, toasts)  # ✅ I sent it
        for command in ("/mine", "/help", "/privacy", "/actions", "/archive", "/topics"):
            await user.send(command)
            await user.receive()

        await publish(admin, "ua-012-26-2.toml", toasts)
        await until(admin, words["finished"])
        follow_up = await until(user, words["follow_up"])
        assert "FI" not in follow_up.text

        await admin.send("/announce")
        await admin.receive()
        await admin.send("Thank you all!")
        await admin.receive()
        await admin.send("Danke euch allen!")
        await admin.receive()
        await admin.send("Merci à toutes et à tous !")
        await admin.receive()  # who it reaches
        await tap(admin, await admin.receive(), 0, 0, toasts)  # 📣 send
        await until(admin, words["finished"])
        await user.receive()

        await admin.send("/stats")
        stats = await admin.receive()
        assert stats.text.startswith(words["stats"])
        await admin.send("/export")
        await admin.receive()
        await admin.send("/audit")
        audit = await admin.receive()
        assert audit.text.startswith(words["audit"])
        for verb in words["verbs"]:
            assert f"{ADMIN_ID} · {verb}" in audit.text
        broken = await upload(admin, "broken.toml")
        assert broken.text

    # The announcement's English text is the admin's own, not the bot's.
    for message in admin.messages:
        message.text = message.text.replace("Thank you all!", "")
    found = english_in([user, admin], toasts, language)
    assert found == [], "\n".join(found)


GETTEXT_CALLS = {"_", "gettext", "ngettext", "pgettext", "N_"}
ROOT = Path(__file__).resolve().parent.parent


def calls_in_f_strings(source: str, name: str) -> list[str]:
    """``f"<b>{_('Statistics')}</b>"``: pybabel extracts no call from inside an f-string, so
    its message never reaches the catalogs and shows in English in every language."""
    return [
        f"{name}:{inner.lineno}: {ast.unparse(inner)}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.JoinedStr)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Name)
        and inner.func.id in GETTEXT_CALLS
        and any(isinstance(arg, ast.Constant) for arg in inner.args)  # a literal message
    ]


def test_no_message_hides_in_an_f_string() -> None:
    found = [
        problem
        for folder in ("bot", "handlers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for problem in calls_in_f_strings(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == [], "\n".join(found)
    # The scan sees what it looks for.
    assert calls_in_f_strings("""title = f"<b>{escape(_('Statistics'))}</b>"\n""", "x.py") == [
        "x.py:1: _('Statistics')"
    ]


async def test_a_french_reader_names_a_case_au_and_an_admin_reads_toml_errors_in_german(
    emulator: Emulator, bot: Any
) -> None:
    """The case label a French reader sees ("AU 012/26") is one they can type; tomllib's
    English reason reaches a German admin in German."""
    toasts: list[str] = []
    reader = await subscriber(emulator, 2, "fr")
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="de")
    await publish(admin, "ua-012-26-1.toml", toasts)
    card = await reader.receive()
    assert "AU 012/26" in card.text
    await until(admin, WORDS["de"]["finished"])

    await reader.send("/write AU 012/26")
    languages = await reader.receive()
    assert languages.buttons, languages.text  # the wizard's first step: the letter's language
    assert any("Français" in button.text for row in languages.buttons for button in row)

    broken = (
        (FIXTURES / "ua-012-26-1.toml")
        .read_text("utf-8")
        .replace("revision = 1", "revision = = 1")
    )
    await admin.upload("kaputt.toml", broken.encode(), mime_type="application/toml")
    problems = (await until(admin, "kaputt.toml")).text
    assert "TOML" in problems and "Zeile" in problems, problems
    assert "Invalid value" not in problems
    assert "der Wert ist kein gültiges TOML (Text steht in Anführungszeichen)" in problems

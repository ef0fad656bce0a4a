"""The letter an official reads: one addressee with its own salutation, copies listed at the
foot, dated and placed as correspondence in its language has it, with a subject, tagged with its
language, carrying no metadata; a letter in the target's language with a translation page; one
A4 page when printed through LibreOffice."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import docx
import pytest
from docx.shared import Mm
from journeys import ADMIN_ID, FIXTURES, TODAY, publish, subscriber, upload

from bot.actions.model import ActionRevision
from bot.actions.parse import check_action, parse_action
from bot.cli import main
from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import format_letter_date, letter_locale
from bot.letters.compose import compose, date_line, letter_file_name, letter_for, letter_text
from bot.letters.draft import PERSONAL_MAX

CASE = "ua-014-26-1.toml"
FILE = tomllib.loads((FIXTURES / CASE).read_text("utf-8"))
# Letters beyond the examples: a Persian one (right to left), an over-long one, a Turkish one.
LETTERS = Path(__file__).parent / "fixtures" / "letters"
PRIMARY, AMBASSADOR, COMMISSIONER = FILE["addressees"]
PLACE = "Zürich, Schweiz"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# What each letter language prints around the letter (the bot's strings in that language).
SUBJECT = {
    "en": "Re: Aidos Serikbayev, Kazakhstan",  # the letter's own subject
    "de": "Aktivist in Haft, weil er über Lager berichtet hat",  # the case title, no "Betreff:"
    "fr": "Objet\u00a0: Un militant détenu pour avoir parlé des camps",
}
DATE_PREFIX = {"en": "Zürich, ", "de": "Zürich, ", "fr": "Zürich, le "}
COPIES_TO_PRIMARY = {
    "en": "Copy to: Ambassador of Kazakhstan and Human Rights Commissioner",
    "de": "Kopie an: Botschafter Kasachstans und Menschenrechtsbeauftragte",
    "fr": "Copie à\u00a0: Ambassadeur du Kazakhstan et Commissaire aux droits de l'homme",
}
TAG = {"en": "en-GB", "de": "de-DE", "fr": "fr-FR", "ru": "ru-RU"}  # no i18n.region configured
COPY_WORDS = re.compile(r"\b(copy|kopie|copie)\b", re.IGNORECASE)


def revision() -> ActionRevision:
    data = (FIXTURES / CASE).read_bytes()
    return parse_action(data, source=CASE, languages=("en", "de", "fr"), default_language="en")


def button(message: SentMessage, matches: Callable[[str], bool]) -> str:
    """The text of the first button of ``message`` that ``matches``."""
    labels = [item.text for row in message.buttons for item in row]
    found = [label for label in labels if matches(label)]
    assert found, f"no matching button in {labels}"
    return found[0]


def any_role(addressee: dict[str, Any]) -> Callable[[str], bool]:
    """A button naming this addressee, in whichever language the wizard shows its role."""
    return lambda label: any(role in label for role in addressee["role"].values())


async def write(
    user: SimUser,
    card: SentMessage,
    language: Callable[[str], bool],
    addressee: dict[str, Any],
    *,
    name: str = "Ada Lovelace",
    place: str = PLACE,
    personal: str = "Free him now.",
) -> SentMessage:
    """Walk the wizard from the card to the document message."""
    await user.tap(card, card.buttons[0][0].text)  # ✍️ write a letter
    prompt = await user.receive()
    await user.tap(prompt, button(prompt, language))
    prompt = await user.receive()
    await user.tap(prompt, button(prompt, any_role(addressee)))
    await user.receive()  # name
    await user.send(name)
    await user.receive()  # place
    await user.send(place)
    await user.receive()  # personal sentence
    await user.send(personal)
    review = await user.receive()
    await user.tap(review, review.buttons[0][1].text)  # 📄 create
    document = await user.receive()
    assert document.document is not None, document
    return document


async def published(emulator: Emulator, users: list[SimUser]) -> list[SentMessage]:
    """The admin publishes the case; each user's card."""
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, CASE)
    return [await user.receive() for user in users]


def paragraphs(data: bytes) -> list[Any]:
    return list(docx.Document(io.BytesIO(data)).paragraphs)


def texts(data: bytes) -> list[str]:
    return [paragraph.text for paragraph in paragraphs(data)]


def part(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")


def languages_of_runs(xml: str) -> list[str]:
    return re.findall(r'<w:lang w:val="([^"]+)"', xml)


def check_clean_metadata(data: bytes) -> None:
    """No application, company, template, author, last editor or revision ids."""
    for name in ("docProps/app.xml", "docProps/core.xml"):
        root = ElementTree.fromstring(part(data, name))
        assert list(root) == [], f"{name} carries {[child.tag for child in root]}"
    everything = b"".join(
        zipfile.ZipFile(io.BytesIO(data)).read(info)
        for info in zipfile.ZipFile(io.BytesIO(data)).infolist()
    ).decode("utf-8", "replace")
    for leftover in ("Microsoft Macintosh Word", "Normal.dotm", "python-docx", "w:rsid"):
        assert leftover not in everything
    properties = docx.Document(io.BytesIO(data)).core_properties
    assert properties.author == "" and properties.last_modified_by == ""


def address_blocks(data: bytes) -> list[str]:
    """The paragraphs that hold a postal address (a role line, then address lines)."""
    addresses = [
        item["address"].splitlines()[0] for item in FILE["addressees"] if "address" in item
    ]
    return [text for text in texts(data) if any(line in text for line in addresses)]


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_the_letter_to_the_primary_addressee(
    emulator: Emulator, bot: Any, language: str
) -> None:
    user = emulator.user(31, first_name="Ada", last_name="Lovelace", language_code=language)
    await user.send("/start")
    await user.receive()
    (card,) = await published(emulator, [user])
    own = {"en": "English", "de": "Deutsch", "fr": "Français"}[language]
    message = await write(user, card, lambda label: own in label, PRIMARY)
    assert message.document is not None
    data = message.document.data

    lines = texts(data)
    assert lines[0] == f"Ada Lovelace\n{PLACE}"
    assert lines[1] == DATE_PREFIX[language] + format_letter_date(TODAY, letter_locale(language))
    assert lines[2].split("\n")[:2] == [
        PRIMARY["role"][language],
        PRIMARY["address"].splitlines()[0],
    ]
    assert lines[3] == SUBJECT[language]
    assert lines[4] == PRIMARY["salutation"][language]  # its own, not the letter's general one
    assert FILE["letter"][language]["salutation"] not in lines
    assert "Free him now." in lines
    assert lines[-3:] == [
        PRIMARY["closing"][language],  # its own closing
        "Ada Lovelace",
        COPIES_TO_PRIMARY[language],
    ]
    blocks = address_blocks(data)
    assert len(blocks) == 1 and not COPY_WORDS.search(blocks[0])

    xml = part(data, "word/document.xml")
    assert set(languages_of_runs(xml)) == {TAG[language]}
    assert languages_of_runs(part(data, "word/styles.xml")) == [TAG[language]]
    check_clean_metadata(data)


async def test_a_copy_addressee_and_an_email_only_addressee_get_their_own_letters(
    emulator: Emulator, bot: Any
) -> None:
    german = emulator.user(32, first_name="Ada", language_code="de")
    french = emulator.user(33, first_name="Ada", language_code="fr")
    for user in (german, french):
        await user.send("/start")
        await user.receive()
    to_ambassador, to_commissioner = await published(emulator, [german, french])

    message = await write(german, to_ambassador, lambda label: "Deutsch" in label, AMBASSADOR)
    assert message.document is not None
    lines = texts(message.document.data)
    assert lines[2].startswith("Botschafter Kasachstans\nEmbassy of the Republic of Kazakhstan\n")
    assert lines[4] == "Exzellenz,"
    # Listed: the other copy addressee; not itself, not the (non-copy) addressee.
    assert lines[-1] == "Kopie an: Menschenrechtsbeauftragte"
    assert not any(COPY_WORDS.search(block) for block in address_blocks(message.document.data))

    message = await write(french, to_commissioner, lambda label: "Français" in label, COMMISSIONER)
    assert message.document is not None
    lines = texts(message.document.data)
    # Reached by e-mail only: no postal block, not even a bare role; straight to the subject.
    assert lines[2] == SUBJECT["fr"]
    assert not any("Commissaire aux droits" in line for line in lines[:-1])
    assert lines[3] == "Madame la Commissaire,"
    assert lines[-1] == "Copie à\u00a0: Ambassadeur du Kazakhstan"


async def test_a_letter_in_the_targets_language_has_a_translation_page(
    emulator: Emulator, bot: Any
) -> None:
    user = emulator.user(34, first_name="Ada", language_code="de")
    await user.send("/start")
    await user.receive()
    (card,) = await published(emulator, [user])
    message = await write(user, card, lambda label: label.startswith("Русский"), PRIMARY)
    assert message.document is not None
    data = message.document.data

    found = paragraphs(data)
    heading = next(
        index
        for index, paragraph in enumerate(found)
        if paragraph.paragraph_format.page_break_before
    )
    letter, translation = [p.text for p in found[:heading]], [p.text for p in found[heading + 1 :]]
    assert found[heading].text.startswith("Übersetzung für dich (Deutsch)")
    assert "Seite 1" not in found[heading].text and "Seiten davor" in found[heading].text
    assert "Russisch" in found[heading].text
    # Page 1: the letter to send, in Russian (dates and names from CLDR).
    assert letter[1] == "Zürich, " + format_letter_date(TODAY, letter_locale("ru"))
    assert letter[2].startswith("Генеральный прокурор\n")
    assert letter[3] == "Тема: Айдос Серикбаев, Казахстан"  # the file's subject_prefix
    assert letter[4] == "Уважаемый господин Генеральный прокурор!"
    assert letter[-1] == "Копия: Посол Казахстана и Уполномоченный по правам человека"
    # Page 2: the same letter in the supporter's language, for them.
    assert translation[4] == "Sehr geehrter Herr Generalstaatsanwalt,"
    assert "Free him now." in letter and "Free him now." in translation
    assert translation[-1] == COPIES_TO_PRIMARY["de"]

    xml = part(data, "word/document.xml")
    cut = xml.index("<w:pageBreakBefore/>")
    assert set(languages_of_runs(xml[:cut])) == {"ru-RU"}
    assert set(languages_of_runs(xml[cut:])) == {"de-DE"}
    assert languages_of_runs(part(data, "word/styles.xml")) == ["ru-RU"]
    check_clean_metadata(data)


async def test_read_more_names_the_roles_in_the_readers_language(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 35, "de")
    (card,) = await published(emulator, [user])
    await user.tap(card, card.buttons[0][1].text)  # 📖 read more
    details = await user.receive()
    assert "Generalstaatsanwalt" in details.text
    assert "Botschafter Kasachstans (Kopie)" in details.text
    assert "Prosecutor General" not in details.text.splitlines()


async def test_the_upload_preview_warns_about_salutation_fallbacks(
    emulator: Emulator, bot: Any
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    preview = await upload(admin, "ua-012-26-1.toml")
    assert "⚠️ 9 warnings (it can be published as it is):" in preview.text
    assert "no salutation for the letter in German" in preview.text
    assert "📣 Publish" in [item.text for row in preview.buttons for item in row]
    clean = await upload(admin, CASE)
    assert "warning" not in clean.text
    assert "Letters: English, German, French, Russian" in clean.text
    assert "Recommended: Russian, English" in clean.text


def test_uabot_check_warns_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = str(FIXTURES / "ua-012-26-1.toml"), str(FIXTURES / CASE)
    assert main(["check", old, new]) == 0
    captured = capsys.readouterr()
    assert "ok: UA 012/26" in captured.out and "ok: UA 014/26" in captured.out
    warnings = captured.err.splitlines()
    assert len(warnings) == 9
    assert (
        f"warning: {old}: addressees[2].salutation.fr: Federal Prosecutor (copy): "
        "no salutation for the letter in French; "
        'its letters open with [letter.fr].salutation, "Madame, Monsieur le Ministre,"'
    ) in warnings
    assert new not in captured.err


def test_check_reports_the_new_keys_problems() -> None:
    broken = (
        (FIXTURES / CASE)
        .read_text("utf-8")
        .replace('preferred_languages = ["ru", "en"]', 'preferred_languages = ["ru", "xx", "ru"]')
        .replace(
            'copy = true\n[addressees.salutation]\nen = "Your',
            'copy = "yes"\n[addressees.salutation]\nen = "Your',
            1,
        )
        .replace('role = { en = "Prosecutor General", ', "role = { ", 1)
        .replace("[letter.ru]", "[letter.zz]")
    )
    with pytest.raises(Exception) as raised:
        check_action(broken, source="x", languages=("en", "de", "fr"), default_language="en")
    found = {problem.key: problem.message for problem in raised.value.problems}  # type: ignore[attr-defined]
    assert found["preferred_languages[2]"].startswith('unknown language code "xx"')
    assert found["preferred_languages[3]"].startswith('"ru" is listed twice')
    assert found["addressees[2].copy"].startswith("wrong type: got a string")
    assert found["addressees[1].role.en"].startswith("missing required key")
    assert found["letter.zz"].startswith('unknown language code "zz"')


def test_warnings_for_unused_salutations_and_preferred_languages_without_a_letter() -> None:
    text = (
        (FIXTURES / CASE)
        .read_text("utf-8")
        .replace('preferred_languages = ["ru", "en"]', 'preferred_languages = ["kk", "ru"]')
        .replace('fr = "Excellence,"\n', 'fr = "Excellence,"\nit = "Eccellenza,"\n')
    )
    checked = check_action(text, source="x", languages=("en", "de", "fr"), default_language="en")
    assert checked.revision.recommended_languages == ("ru",)
    keys = [warning.key for warning in checked.warnings]
    assert keys == ["addressees[2].salutation.it", "preferred_languages[1]"]


def test_old_stored_revisions_load_and_keep_their_fingerprint() -> None:
    """A file valid before per-language roles stays valid, unchanged in its canonical JSON."""
    data = (FIXTURES / "ua-012-26-1.toml").read_bytes()
    data = data.replace(b'Herr Minister,"', b'Herr Minister"')  # as it was before the comma
    data = data.replace(b'"""ich bin', b'"""Ich bin')  # and before "ich"
    old = parse_action(data, source="x", languages=("en", "de", "fr"), default_language="en")
    # The fingerprint this file had before roles, copies and salutations existed.
    assert old.fingerprint == "5d28051260f0fd36b9b44b235fb3e3d9f7a4d20cdfe1b3c0dc128bb9b1bf2f2c"
    assert '"role":"Minister of Justice"' in old.to_json()
    assert ActionRevision.from_json(old.to_json()) == old
    new = revision()
    assert ActionRevision.from_json(new.to_json()) == new
    assert new.addressees[1].copy and new.preferred_languages == ("ru", "en")


def _letter(language: str, place: str | None, on: date, region: str | None = "CH") -> Any:
    return letter_for(
        revision(),
        0,
        language,
        sender_name="A. L.",
        sender_place=place,
        personal=None,
        on=on,
        default_language="en",
        region=region,
    )


@pytest.mark.parametrize(
    ("language", "place", "on", "line", "tag"),
    [
        ("en", None, date(2026, 11, 29), "29 November 2026", "en-GB"),
        ("de", "Zürich, Schweiz", date(2026, 11, 29), "Zürich, 29. November 2026", "de-CH"),
        ("fr", "Lyon", date(2026, 11, 29), "Lyon, le 29 novembre 2026", "fr-CH"),
        ("fr", "Lyon, France", date(2026, 11, 1), "Lyon, le 1er novembre 2026", "fr-CH"),
        ("ru", None, date(2026, 11, 29), "29 ноября 2026\u202fг.", "ru-RU"),
        # Without the writer's town: French opens with "Le"; the organisation's town
        # (letters.place) stands in where it is configured.
        ("fr", None, date(2026, 3, 1), "Le 1er mars 2026", "fr-CH"),
        ("de", "@Bern", date(2026, 3, 3), "Bern, 3. März 2026", "de-CH"),
        ("en", "@Bern", date(2026, 3, 3), "Bern, 3 March 2026", "en-GB"),
    ],
)
def test_date_lines_and_regional_tags(
    language: str, place: str | None, on: date, line: str, tag: str
) -> None:
    """``place`` is the writer's town, or "@town" the organisation's (``letters.place``)."""
    if place is not None and place.startswith("@"):
        letter = replace(_letter(language, None, on), date_place=place[1:])
    else:
        letter = _letter(language, place, on)
    data = compose(letter)
    assert texts(data)[1] == line
    assert set(languages_of_runs(part(data, "word/document.xml"))) == {tag}


def test_room_for_a_handwritten_signature() -> None:
    found = paragraphs(compose(_letter("en", None, date(2026, 11, 29))))
    closing = next(i for i, p in enumerate(found) if p.text == FILE["letter"]["en"]["closing"])
    gap = (found[closing].paragraph_format.space_after or 0) + (
        found[closing + 1].paragraph_format.space_before or 0
    )
    assert gap >= Mm(25)
    assert found[closing].paragraph_format.keep_with_next


def test_letter_text_is_the_letter_for_an_email() -> None:
    text = letter_text(_letter("de", "Bern", date(2026, 11, 29)))
    assert text.startswith("Sehr geehrter Herr Generalstaatsanwalt,\n\nich bin sehr besorgt")
    assert text.endswith(
        "Mit freundlichen Grüssen\nA. L.\n\n"
        "Kopie an: Botschafter Kasachstans und Menschenrechtsbeauftragte"
    )


# The longest personal sentence the wizard takes: the letter must still fit one page.
LONGEST_PERSONAL = ("I think of him and his family every day, and I will keep writing. " * 8)[
    :PERSONAL_MAX
]


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("case", ["ua-012-26-1.toml", CASE])
def test_each_example_letter_prints_on_one_a4_page(tmp_path: Path, case: str) -> None:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdfinfo") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs LibreOffice and poppler: "
                "apt-get install libreoffice-writer-nogui poppler-utils"
            )
        pytest.skip("LibreOffice (soffice) or pdfinfo not installed")
    stored = parse_action(
        (FIXTURES / case).read_bytes(),
        source=case,
        languages=("en", "de", "fr"),
        default_language="en",
    )
    names = []
    for language in ("en", "de", "fr"):
        letter = letter_for(
            stored,
            0,
            language,
            sender_name="Ada Lovelace",
            sender_place="Zürich, Schweiz",
            personal=LONGEST_PERSONAL,
            on=date(2026, 11, 29),
            default_language="en",
            region="CH",
        )
        path = tmp_path / f"{language}.docx"
        path.write_bytes(compose(letter))
        names.append(str(path))
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), *names],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    for language in ("en", "de", "fr"):
        assert _pages(tmp_path / f"{language}.pdf") == 1, language


def test_the_docs_example_is_the_fixture() -> None:
    docs = Path(__file__).parent.parent / "docs" / "examples" / CASE
    assert docs.read_bytes() == (FIXTURES / CASE).read_bytes()


# --- what the reviews of issue 11 found -------------------------------------------------------


def _from(name: str, addressee: int, language: str, **kwargs: Any) -> Any:
    stored = parse_action(
        (LETTERS / name).read_bytes(), source=name, languages=("en", "de", "fr"),
        default_language="en",
    )  # fmt: skip
    arguments: dict[str, Any] = {
        "sender_name": "Anna Muster",
        "sender_place": "Zürich, Schweiz",
        "personal": None,
        "on": date(2026, 11, 29),
        "default_language": "en",
    }
    return letter_for(stored, addressee, language, **{**arguments, **kwargs})


async def test_typed_markers_stay_text_in_the_document(emulator: Emulator, bot: Any) -> None:
    """A name, place or sentence with "§LANG§" (a template marker) is printed as typed; it
    never becomes the document's language tag nor pulls in another part."""
    user = emulator.user(34, first_name="Ada", language_code="de")
    await user.send("/start")
    await user.receive()
    (card,) = await published(emulator, [user])
    personal = "§LANG§ §BODY§ <w:t>§SIGNATURE§</w:t> & §SALUTATION§"
    message = await write(
        user, card, lambda label: "Deutsch" in label, PRIMARY,
        name="Ada §LANG§", place="Bern §DATE§, Schweiz", personal=personal,
    )  # fmt: skip
    assert message.document is not None
    data = message.document.data
    lines = texts(data)
    assert lines[0] == "Ada §LANG§\nBern §DATE§, Schweiz"
    assert personal in lines
    assert lines.count("Ada §LANG§") == 1  # the signature
    document_xml = part(data, "word/document.xml")
    assert set(languages_of_runs(document_xml)) == {"de-DE"}
    assert "§LANG§" not in part(data, "word/styles.xml")


async def test_a_letter_in_an_old_language_code_is_refused_on_upload(
    emulator: Emulator, bot: Any
) -> None:
    """[letter.iw] passed every check, then the letter never came; now the upload says why."""
    admin = await subscriber(emulator, ADMIN_ID, "en")
    text = (FIXTURES / CASE).read_text("utf-8").replace("[letter.ru]", "[letter.iw]")
    await admin.upload(CASE, text.encode(), mime_type="application/toml")
    answer = await admin.receive()
    assert 'letter.iw: "iw" is not the current code of Hebrew; use he, not iw' in answer.text
    assert not answer.buttons or "📣 Publish" not in [b.text for r in answer.buttons for b in r]


def test_a_persian_letter_is_right_to_left() -> None:
    data = compose(_from("ua-032-26-fa.toml", 0, "fa", reader_language="en"))
    body = part(data, "word/document.xml")
    persian, translation = body.split("w:pageBreakBefore")
    paragraphs = re.findall(r"<w:p>.*?</w:p>", persian, re.S)
    persian_script = re.compile(r'<w:t xml:space="preserve">[\u0600-\u06ff]')
    sender, address = paragraphs[0], paragraphs[2]
    written_in_persian = [p for p in paragraphs if persian_script.search(p) and p != address]
    # The salutation, the body's paragraphs, the closing; and the date, subject and copies
    # (lines of the letter's language that start with a Latin word: "Zürich", "Re:")
    assert len(written_in_persian) == 4
    written_in_persian += [paragraphs[1], paragraphs[3], paragraphs[-1]]
    for paragraph in written_in_persian:
        assert "<w:bidi/>" in paragraph and "<w:rtl/><w:lang " in paragraph, paragraph
    # The sender and the Latin address (under a Persian role) keep their order ("06659
    # Ankara", not "Ankara 06659"), on the mirrored side: the right.
    for paragraph in (sender, address):
        assert '<w:jc w:val="right"/>' in paragraph and "<w:rtl/>" not in paragraph
    assert set(re.findall(r'w:bidi="([^"]+)"', persian)) == {"fa-IR"}
    assert re.findall(r'<w:lang [^>]*w:bidi="([^"]+)"', part(data, "word/styles.xml")) == ["fa-IR"]
    # The translation page (English) reads left to right again.
    assert "<w:bidi/>" not in translation.split("</w:p>", 1)[1]
    assert "<w:rtl/>" not in translation.split("</w:p>", 1)[1]
    # python-docx reads the document, and the date keeps its alignment value (the end side).
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[1].text.endswith("2026")


def test_languages_get_the_script_class_word_reads_them_from() -> None:
    text = (LETTERS / "ua-032-26-fa.toml").read_text("utf-8").replace("[letter.tr]", "[letter.ja]")
    stored = parse_action(text, source="x", languages=("en", "de", "fr"), default_language="en")
    letter = letter_for(
        stored, 0, "ja", sender_name="A", sender_place=None, personal=None,
        on=date(2026, 11, 29), default_language="en",
    )  # fmt: skip
    styles = part(compose(letter), "word/styles.xml")
    assert re.search(r'<w:lang w:val="ja-JP" w:eastAsia="ja-JP"/>', styles)
    german = part(compose(_from("ua-031-26-1.toml", 0, "de")), "word/document.xml")
    assert "w:bidi" not in german and "w:eastAsia" not in german and "<w:rtl/>" not in german


def _soffice() -> str:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs LibreOffice and poppler: "
                "apt-get install libreoffice-writer-nogui poppler-utils"
            )
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")
    return soffice


def test_a_persian_letter_prints_from_the_right_margin(tmp_path: Path) -> None:
    """Through LibreOffice: the salutation, a short line, starts at the right margin."""
    soffice = _soffice()
    path = tmp_path / "fa.docx"
    path.write_bytes(compose(_from("ua-032-26-fa.toml", 0, "fa")))
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(tmp_path / "fa.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    page_width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))  # type: ignore[union-attr]
    words = {
        word: (float(x0), float(x1))
        for x0, x1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', boxes
        )
    }
    right_margin = page_width - 25 / 25.4 * 72
    # The sender's short line starts at the right margin; the date goes to the other side.
    assert words["Anna"][0] > page_width / 2 and abs(words["Muster"][1] - right_margin) < 3
    assert words["2026"][0] < page_width / 2


def test_a_letter_longer_than_a_page_is_warned_about(
    capsys: pytest.CaptureFixture[str],
) -> None:
    long, short = str(LETTERS / "ua-033-26-long.toml"), str(FIXTURES / CASE)
    assert main(["check", long, short]) == 0
    err = capsys.readouterr().err
    assert (
        f"warning: {long}: letter.en.body: 3,584 characters with a personal sentence: the "
        "letter will not fit one A4 page (about 1,800 do); expected a shorter body"
    ) in err
    assert "A4" not in "".join(line for line in err.splitlines() if short in line)


async def test_the_upload_preview_warns_about_a_long_letter(emulator: Emulator, bot: Any) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    data = (LETTERS / "ua-033-26-long.toml").read_bytes()
    await admin.upload("ua-033-26-long.toml", data, mime_type="application/toml")
    preview = await admin.receive()
    assert "letter.en.body: 3,584 characters with a personal sentence" in preview.text


def test_the_translation_page_asks_for_every_page_before_it() -> None:
    letter = _from("ua-033-26-long.toml", 0, "en", reader_language="de")
    heading = [p for p in texts(compose(letter)) if p.startswith("Übersetzung")]
    assert heading == [
        "Übersetzung für dich (Deutsch) – diese Seite nicht mitschicken. Schick nur die Seiten "
        "davor, den Brief auf Englisch."
    ]


@pytest.mark.parametrize(
    ("place", "line"),
    [
        ("8001 Zürich, Schweiz", "Zürich, 29. November 2026"),
        ("Zürich 8001, Schweiz", "Zürich, 29. November 2026"),
        ("London SW1A 1AA, UK", "London, 29. November 2026"),
        ("Saint-Ouen-sur-Seine", "Saint-Ouen-sur-Seine, 29. November 2026"),
        ("8001", "8001, 29. November 2026"),  # nothing but a number: kept as typed
    ],
)
def test_the_date_line_names_the_town_without_postcodes(place: str, line: str) -> None:
    assert date_line(_from("ua-031-26-1.toml", 0, "de", sender_place=place)) == line


def test_english_words_in_a_letter_language_the_bot_does_not_speak(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(LETTERS / "ua-031-26-1.toml")
    assert main(["check", path]) == 0
    err = capsys.readouterr().err
    assert (
        f"warning: {path}: letter.tr.subject_prefix: the bot has no Turkish words for the "
        'letter: it writes "Re:" in English; expected subject_prefix in Turkish'
    ) in err
    assert (
        "letter.tr.copies_prefix: the bot has no Turkish words for the letter: "
        'it writes "Copy to:"' in err
    )
    assert "letter.de.subject_prefix" not in err  # the bot speaks German
    text = (LETTERS / "ua-031-26-1.toml").read_text("utf-8")
    fixed = tmp_path / "tr.toml"
    fixed.write_text(
        text.replace(
            "[letter.tr]\n", '[letter.tr]\nsubject_prefix = "Konu:"\ncopies_prefix = "Bilgi:"\n'
        )
    )
    assert main(["check", str(fixed)]) == 0
    assert "letter.tr." not in capsys.readouterr().err
    stored = parse_action(
        fixed.read_bytes(), source="x", languages=("en", "de", "fr"), default_language="en"
    )
    letter = letter_for(
        stored, 0, "tr", sender_name="A", sender_place=None, personal=None,
        on=date(2026, 11, 29), default_language="en",
    )  # fmt: skip
    lines = texts(compose(letter))
    assert not [line for line in lines if line.startswith(("Re:", "Copy to:"))], lines
    assert any(line.startswith("Konu: ") for line in lines)
    assert lines[-1].startswith("Bilgi: ")


def test_an_own_salutation_without_its_closing_is_warned_about() -> None:
    text = (
        (FIXTURES / CASE)
        .read_text("utf-8")
        .replace(
            'fr = "Veuillez agréer, Excellence, l’assurance de ma très haute considération."\n', ""
        )
    )
    checked = check_action(text, source="x", languages=("en", "de", "fr"), default_language="en")
    assert [(w.key, w.message) for w in checked.warnings] == [
        (
            "addressees[2].closing.fr",
            "Ambassador of Kazakhstan: no closing for the letter in French; its letters close "
            'with [letter.fr].closing, "Je vous prie d’agréer l’expression de ma haute '
            'considération."',
        )
    ]
    letter = letter_for(
        checked.revision, 1, "fr", sender_name="A", sender_place=None, personal=None,
        on=date(2026, 11, 29), default_language="en",
    )  # fmt: skip
    assert letter.closing == FILE["letter"]["fr"]["closing"]


def test_check_lists_letter_languages_and_finds_a_file_without_a_main_addressee(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (FIXTURES / CASE).read_text("utf-8")
    copies = tmp_path / "copies.toml"
    email = 'email = "prosecutor.general@example.org"\n'
    copies.write_text(text.replace(email, email + "copy = true\n"))
    assert main(["check", str(FIXTURES / CASE), str(copies)]) == 0
    captured = capsys.readouterr()
    assert "ok: UA 014/26 (texts de, en, fr; letters de, en, fr, ru)" in captured.out
    assert f"warning: {copies}: addressees: every addressee is a copy" in captured.err


@pytest.mark.parametrize(("language", "line"), [("jbo", "2026-11-29"), ("io", "2026-11-29")])
def test_languages_without_month_names_are_dated_in_iso_8601(language: str, line: str) -> None:
    text = (FIXTURES / CASE).read_text("utf-8").replace("[letter.ru]", f"[letter.{language}]")
    stored = parse_action(text, source="x", languages=("en", "de", "fr"), default_language="en")
    letter = letter_for(
        stored, 0, language, sender_name="A", sender_place=None, personal=None,
        on=date(2026, 11, 29), default_language="en",
    )  # fmt: skip
    assert texts(compose(letter))[1] == line


def test_each_addressee_s_letter_has_its_own_ascii_file_name() -> None:
    stored = revision()
    names = {
        letter_file_name(
            stored.case,
            letter_for(
                stored,
                index,
                language,
                sender_name="A",
                sender_place=None,
                personal=None,
                on=date(2026, 11, 29),
                default_language="en",
            ),
        )
        for index in range(3)
        for language in ("de", "fr", "ru")
    }
    assert "UA-014-26-Brief-generalstaatsanwalt-de.docx" in names
    assert "AU-014-26-lettre-procureur-general-fr.docx" in names
    # No Latin letters in the Russian role: the default language's role names the file.
    assert "UA-014-26-letter-prosecutor-general-ru.docx" in names
    assert len(names) == 9 and all(name.isascii() for name in names)

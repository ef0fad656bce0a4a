"""Journeys: a wizard that never trips (step records, stale buttons, double taps, timeouts in
the user's language, /forget mid-letter) and the e-mail route beside the printed letter."""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import replace
from typing import Any

import docx
from journeys import ADMIN_ID, FIXTURES, publish, subscriber

from bot.config import LettersConfig
from bot.emulator import Emulator, SentMessage, SimUser

MINISTER = "Minister of Justice"
QUICK = LettersConfig(timeout_minutes=0.025)  # 1.5 seconds


async def card_of(emulator: Emulator, user: SimUser) -> SentMessage:
    """Publish UA 012/26 (three addressees, letters in en, de, fr); the user's card."""
    admin = emulator.user(ADMIN_ID)
    if not admin.messages:
        await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive_many(2)  # own card, report
    return await user.receive()


async def settled(emulator: Emulator, user: SimUser, message: SentMessage, text: str) -> None:
    """Wait until ``message`` reads ``text`` and has no buttons left."""
    await emulator.wait_until(
        lambda: (
            (current := user.chat.by_id[message.message_id]).text == text and not current.buttons
        )
    )


async def to_review(
    emulator: Emulator, user: SimUser, language: str = "✓ English"
) -> list[SentMessage]:
    """Walk the wizard to the preview; returns every prompt, the preview last."""
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    prompts = [await user.receive()]
    await user.tap(prompts[-1], language)
    prompts.append(await user.receive())
    await user.tap(prompts[-1], MINISTER)
    prompts.append(await user.receive())
    await user.send("Ada Lovelace")
    prompts.append(await user.receive())
    await user.send("Bern")
    prompts.append(await user.receive())
    await user.tap(prompts[-1], "⏭ Skip")
    prompts.append(await user.receive())
    return prompts


async def test_each_answered_step_becomes_a_one_line_record(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 41, "en")
    language, addressee, name, place, personal, review = await to_review(emulator, user, "Deutsch")
    await settled(emulator, user, language, "Language: Deutsch ✓")
    await settled(emulator, user, addressee, f"Addressee: {MINISTER} ✓")
    await settled(emulator, user, name, "Name: Ada Lovelace ✓")
    await settled(emulator, user, place, "City and country: Bern ✓")
    await settled(emulator, user, personal, "Personal sentence: skipped ✓")
    # The preview shows whom the letter is for and the salutation it will open with.
    assert MINISTER in review.text
    assert "Sehr geehrte Frau Ministerin, sehr geehrter Herr Minister" in review.text

    await user.tap(review, "✏️ Edit")
    menu = await user.receive()
    assert not user.chat.by_id[review.message_id].buttons  # the preview's buttons are gone
    labels = [button.text for row in menu.buttons for button in row]
    assert labels == [
        "Addressee",
        "Letter language",
        "Name",
        "City and country",
        "Personal sentence",
    ]
    await user.tap(menu, "Letter language")
    picker = await user.receive()
    await settled(emulator, user, menu, "Change: Letter language ✓")
    assert picker.buttons[0][0].text == "English"  # the reader's own language first …
    assert picker.buttons[1][0].text == "✓ Deutsch"  # … the letter's language ticked
    await user.tap(picker, "Français")
    review = await user.receive()
    assert "Madame, Monsieur le Ministre," in review.text

    await user.tap(review, "✏️ Edit")
    menu = await user.receive()
    await user.tap(menu, "Addressee")
    picker = await user.receive()
    assert picker.buttons[0][0].text == f"✓ {MINISTER}"
    await user.tap(picker, "Federal Prosecutor (copy)")
    review = await user.receive()
    assert "Federal Prosecutor" in review.text and "Madame" in review.text
    await settled(emulator, user, picker, "Addressee: Federal Prosecutor (copy) ✓")


async def test_a_button_of_an_answered_step_is_refused(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 42, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    picker = await user.receive()
    # Telegram may refuse an edit (a message too old, deleted): the old buttons stay visible.
    emulator.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    await user.tap(picker, "✓ English")
    await user.tap(await user.receive(), MINISTER)
    await user.receive()
    await user.send("Ada")
    await user.receive()
    await user.send("Bern")
    await user.tap(await user.receive(), "⏭ Skip")
    review = await user.receive()

    answer = await user.tap(picker, "Deutsch")  # the old language button, at the preview
    assert answer.show_alert and "already answered" in answer.text
    await user.expect_silence(0.3)
    await user.tap(review, "📄 Create the letter")
    document = await user.receive()
    assert document.document is not None
    # still English
    assert document.document.file_name == "UA-012-26-letter-minister-of-justice-en.docx"


async def test_a_double_tap_on_create_makes_one_document(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 43, "en")
    review = (await to_review(emulator, user))[-1]
    answers = await asyncio.gather(
        user.tap(review, "📄 Create the letter"), user.tap(review, "📄 Create the letter")
    )
    assert any("on its way" in (answer.text or "") for answer in answers), answers
    await user.receive_many(3)  # the document, the e-mail route, the text to copy
    await user.expect_silence(0.5)
    assert sum(message.document is not None for message in user.messages) == 1


async def test_timeout_notes_arrive_each_in_its_readers_language(
    emulator: Emulator, restart: Any
) -> None:
    async with restart(letters=QUICK):
        german = await subscriber(emulator, 44, "de")
        english = await subscriber(emulator, 45, "en")
        card = await card_of(emulator, german)
        await english.receive()
        # The German letter's timeout is scheduled first; the English user's update comes
        # last, and its locale must not leak into the German user's job.
        await german.tap(card, "✍️ Brief schreiben")
        german_prompt = await german.receive()
        await english.send("/write UA 012/26")
        await english.receive()
        german_note, english_note = await asyncio.gather(
            german.receive(timeout=10), english.receive(timeout=10)
        )
        # The letter is over: the open step's buttons go with it.
        await emulator.wait_until(lambda: not german.chat.by_id[german_prompt.message_id].buttons)
    assert "Dein Brief" in german_note.text and "0,025 Minuten" in german_note.text
    assert "Your letter was left for 0.025 minutes" in english_note.text


async def test_forget_mid_letter_then_silence(emulator: Emulator, restart: Any) -> None:
    async with restart(letters=QUICK) as app:
        user = await subscriber(emulator, 46, "en")
        card = await card_of(emulator, user)
        await user.tap(card, "✍️ Write a letter")
        await user.tap(await user.receive(), "✓ English")
        await user.tap(await user.receive(), MINISTER)
        await user.receive()  # the name prompt
        await app.update_persistence()
        assert await app.bot_data.storage.conversations.conversations("letter")
        await user.send("/forget")
        await user.tap(await user.receive(), "Yes, delete everything")
        await emulator.wait_until(lambda: "is deleted" in user.messages[-1].text)
        await user.expect_silence(3)  # twice the timeout: no note reaches an erased user
        await app.update_persistence()
        assert not await app.bot_data.storage.conversations.conversations("letter")
        await user.send("Ada")  # no letter takes this as a name any more
        assert "I only understand commands" in (await user.receive()).text


async def test_the_e_mail_route_gives_address_subject_and_text(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 47, "en")
    review = (await to_review(emulator, user))[-1]
    await user.tap(review, "📄 Create the letter")
    document, route, text = await user.receive_many(3)
    assert document.document is not None
    assert "Or send it by e-mail to minister.justice@example.org" in document.text
    assert "To: minister.justice@example.org" in route.text
    assert "Subject: " in route.text
    copies = route.reply_markup["inline_keyboard"][0]  # type: ignore[index]
    assert copies[0]["copy_text"] == {"text": "minister.justice@example.org"}
    assert "text" in copies[1]["copy_text"]
    assert text.text.startswith("Dear Minister,") and text.text.endswith("Ada Lovelace")
    assert [entity["type"] for entity in text.entities] == ["pre"]  # one tap copies it
    # "I sent it" stays under the document and counts as ever.
    await user.tap(document, "✅ I sent it")
    assert await bot.bot_data.storage.tally.count("UA 012/26") == 1


async def test_an_e_mail_only_addressee_is_told_to_send_by_e_mail(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 48, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), "Embassy of Belgium (copy)")
    await user.receive()
    await user.send("Ada")
    await user.tap(await user.receive(), "⏭ Skip")
    await user.tap(await user.receive(), "⏭ Skip")
    await user.tap(await user.receive(), "📄 Create the letter")
    document, route, _text = await user.receive_many(3)
    assert "Send it by e-mail to embassy@example.org" in document.text
    assert "Print it" not in document.text
    assert "To: embassy@example.org" in route.text


def reordered(name: str) -> bytes:
    """The action file with its first addressee moved last: a copy addressee comes first."""
    text = (FIXTURES / name).read_text()
    head, *blocks = text.split("[[addressees]]")
    last, rest = blocks[-1].split("\n[text.", 1)
    blocks[-1] = last + "\n"
    blocks = [*blocks[1:], blocks[0]]
    return ("[[addressees]]".join([head, *blocks]) + "[text." + rest).encode()


async def test_the_targets_language_is_recommended_beside_the_readers_own(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 49, "de")
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await admin.upload("ua-014-26-1.toml", reordered("ua-014-26-1.toml"))
    await admin.tap(await admin.receive(), "📣 Publish")
    card = await user.receive()
    await user.tap(card, "✍️ Brief schreiben")
    picker = await user.receive()
    labels = [row[0].text for row in picker.buttons]
    assert labels == ["✓ Deutsch", "Русский (empfohlen)", "English (empfohlen)", "Français"]
    await user.tap(picker, "Русский (empfohlen)")
    addressees = await user.receive()
    # Roles in the reader's language; the one the letter is for first, though the file
    # lists it last; the copies after it.
    assert [row[0].text for row in addressees.buttons] == [
        "Generalstaatsanwalt",
        "Botschafter Kasachstans",
        "Menschenrechtsbeauftragte",
    ]
    await settled(emulator, user, picker, "Sprache: Русский ✓")
    await user.tap(addressees, "Generalstaatsanwalt")
    await user.receive()
    await user.send("Ada")
    await user.tap(await user.receive(), "⏭ Überspringen")
    await user.tap(await user.receive(), "⏭ Überspringen")
    review = await user.receive()
    assert "Генеральный прокурор" in review.text
    assert "Уважаемый господин Генеральный прокурор!" in review.text  # its own salutation
    await user.tap(review, "📄 Brief erstellen")
    document, route, text = await user.receive_many(3)
    assert document.document is not None
    assert document.document.file_name == "UA-014-26-letter-prosecutor-general-ru.docx"
    letter = docx.Document(io.BytesIO(document.document.data))
    paragraphs = [paragraph.text for paragraph in letter.paragraphs]
    assert "Уважаемый господин Генеральный прокурор!" in paragraphs
    # A second page in the reader's language, for them: not to be sent.
    assert "Sehr geehrter Herr Generalstaatsanwalt," in paragraphs
    assert "<code>prosecutor.general@example.org</code>" in route.html
    assert "Айдос Серикбаев, Казахстан" in route.text  # the Russian letter's subject
    assert text.text.startswith("Уважаемый господин Генеральный прокурор!")


async def test_the_organisations_region_reaches_the_document(
    emulator: Emulator, restart: Any, config: Any
) -> None:
    async with restart(i18n=replace(config.i18n, region="CH")):
        user = await subscriber(emulator, 50, "en")
        review = (await to_review(emulator, user, "Deutsch"))[-1]
        await user.tap(review, "📄 Create the letter")
        document = await user.receive()
    assert document.document is not None
    with zipfile.ZipFile(io.BytesIO(document.document.data)) as docx_zip:
        xml = docx_zip.read("word/document.xml").decode()
    assert 'w:val="de-CH"' in xml

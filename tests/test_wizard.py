"""Journeys: a wizard that never trips (step records, stale buttons, double taps, timeouts in
the user's language, /forget mid-letter) and the e-mail route beside the printed letter."""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import replace
from typing import Any

import docx
import pytest
from journeys import (
    ADMIN_ID,
    FIXTURES,
    pending_timeout,
    publish,
    subscriber,
    time_out,
    timeout_jobs,
)

from bot.emulator import Emulator, SentMessage, SimUser
from bot.letters.draft import shorten
from bot.text_input import InvalidInput, check_text

MINISTER = "Minister of Justice"


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
    emulator: Emulator,
    user: SimUser,
    language: str = "✓ English",
    *,
    addressee: str = MINISTER,
    place: str | None = "Bern",
) -> list[SentMessage]:
    """Walk the wizard to the preview (``place`` None: skipped; no personal sentence);
    returns every prompt, the preview last."""
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    prompts = [await user.receive()]
    await user.tap(prompts[-1], language)
    prompts.append(await user.receive())
    await user.tap(prompts[-1], addressee)
    prompts.append(await user.receive())
    await user.send("Ada Lovelace")
    prompts.append(await user.receive())
    if place is None:
        await user.tap(prompts[-1], "⏭ Skip")
    else:
        await user.send(place)
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
    async with restart() as app:
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
        await time_out(app, "letter", 44)
        await time_out(app, "letter", 45)
        german_note, english_note = await asyncio.gather(
            german.receive(timeout=10), english.receive(timeout=10)
        )
        # The letter is over: the open step's buttons go with it.
        await emulator.wait_until(lambda: not german.chat.by_id[german_prompt.message_id].buttons)
    assert "Dein Brief" in german_note.text and "30 Minuten" in german_note.text
    assert "Your letter was left for 30 minutes" in english_note.text


async def test_forget_mid_letter_then_silence(emulator: Emulator, restart: Any) -> None:
    async with restart() as app:
        user = await subscriber(emulator, 46, "en")
        card = await card_of(emulator, user)
        await user.tap(card, "✍️ Write a letter")
        await user.tap(await user.receive(), "✓ English")
        await user.tap(await user.receive(), MINISTER)
        await user.receive()  # the name prompt
        await pending_timeout(app, "letter", 46)
        await app.update_persistence()
        assert await app.bot_data.storage.conversations.conversations("letter")
        await user.send("/forget")
        await user.tap(await user.receive(), "Yes, delete everything")
        await emulator.wait_until(lambda: "is deleted" in user.messages[-1].text)
        assert not timeout_jobs(app, "letter", 46)  # no note will reach an erased user
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


# --- the reviewers' findings (issue 11) ---------------------------------------------------------


async def test_an_error_after_a_tap_was_answered_is_told_in_the_chat(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 51, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    picker = await user.receive()
    # The tap is acknowledged, then the next step's message fails: the alert can no longer
    # show, so the apology comes as a message.
    emulator.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await user.tap(picker, "✓ English")
    assert "something went wrong" in (await user.receive()).text


async def test_a_crafted_non_ascii_digit_asks_again(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 52, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    picker = await user.receive()
    button = picker.find_button(MINISTER)
    assert button is not None and button.callback_data is not None
    crafted = button.callback_data.rsplit(":", 1)[0] + ":²"  # "²".isdigit(), yet not int()
    await user.tap(picker, MINISTER, crafted=crafted)
    again = await user.receive()
    assert again.text == "To whom do you want to write?"
    await user.tap(again, MINISTER)
    assert "signed" in (await user.receive()).text


async def _at_addressee_with_forget_asked(
    emulator: Emulator, user: SimUser
) -> tuple[SentMessage, SentMessage]:
    """A letter at its addressee step and, beside it, /forget asking for confirmation."""
    await user.tap(await card_of(emulator, user), "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    addressee = await user.receive()
    await user.send("/forget")
    return addressee, await user.receive()


async def test_forget_while_a_step_runs_leaves_the_user_in_peace(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        user = await subscriber(emulator, 53, "en")
        addressee, confirm = await _at_addressee_with_forget_asked(emulator, user)
        # The step is held in its first edit while /forget erases the user.
        emulator.delay("editMessageText", 3)
        await user.tap(addressee, MINISTER)
        await user.tap(confirm, "Yes, delete everything")
        await emulator.wait_until(
            lambda: "is deleted" in (user.chat.by_id[confirm.message_id].text or ""), timeout=20
        )
        emulator.delay("editMessageText", 0)
        assert not timeout_jobs(app, "letter", 53)  # no note will reach an erased user
        await user.expect_silence(3)  # and the step that ran meanwhile sent nothing more
        await app.update_persistence()
        assert not await app.bot_data.storage.conversations.conversations("letter")
        assert 53 not in await app.persistence.get_user_data()
        await user.send("Ada")  # no letter takes this as a name
        assert "I only understand commands" in (await user.receive()).text


async def test_forget_tapped_together_with_a_step_leaves_nothing_after_it(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        user = await subscriber(emulator, 68, "en")
        addressee, confirm = await _at_addressee_with_forget_asked(emulator, user)
        await asyncio.gather(
            user.tap(addressee, MINISTER), user.tap(confirm, "Yes, delete everything")
        )
        await emulator.wait_until(
            lambda: "is deleted" in (user.chat.by_id[confirm.message_id].text or "")
        )
        assert not timeout_jobs(app, "letter", 68)  # no note will reach an erased user
        await user.expect_silence(3)  # and the step that ran meanwhile sent nothing more
        late = [
            message
            for message in user.chat.bot_messages
            if message.message_id > confirm.message_id and not message.deleted
        ]
        assert not late, late
        await app.update_persistence()
        assert not await app.bot_data.storage.conversations.conversations("letter")


async def test_a_double_tap_on_a_language_asks_the_addressee_once(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 54, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    picker = await user.receive()
    answers = await asyncio.gather(user.tap(picker, "Deutsch"), user.tap(picker, "Deutsch"))
    assert any("on its way" in (answer.text or "") for answer in answers), answers
    await user.receive()
    await user.expect_silence(0.5)


async def test_a_double_tap_on_skip_makes_one_preview(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 55, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), MINISTER)
    await user.receive()
    await user.send("Ada")
    await user.tap(await user.receive(), "⏭ Skip")
    personal = await user.receive()
    assert "write it in" not in personal.text  # a letter in the reader's own language
    await asyncio.gather(user.tap(personal, "⏭ Skip"), user.tap(personal, "⏭ Skip"))
    assert "Your letter" in (await user.receive()).text
    await user.expect_silence(0.5)


async def test_a_double_tap_on_edit_opens_one_menu(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 56, "en")
    review = (await to_review(emulator, user))[-1]
    await asyncio.gather(user.tap(review, "✏️ Edit"), user.tap(review, "✏️ Edit"))
    assert (await user.receive()).text == "What do you want to change?"
    await user.expect_silence(0.5)


async def test_edit_and_create_together_do_one_of_them(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 57, "en")
    review = (await to_review(emulator, user))[-1]
    answers = await asyncio.gather(
        user.tap(review, "✏️ Edit"), user.tap(review, "📄 Create the letter")
    )
    assert any("on its way" in (answer.text or "") for answer in answers), answers
    first = await user.receive()
    if first.document is None:  # Edit won: a menu, no document
        assert first.text == "What do you want to change?"
        await user.expect_silence(0.5)
    else:  # Create won: the document and its e-mail route, no menu
        await user.receive_many(2)
        await user.expect_silence(0.5)
    assert sum(message.document is not None for message in user.messages) <= 1


async def test_a_follow_up_published_mid_letter_moves_the_draft(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 58, "en")
    embassy = "Embassy of Belgium (copy)"
    review = (await to_review(emulator, user, addressee=embassy, place=None))[-1]
    await publish(emulator.user(ADMIN_ID), "ua-012-26-2.toml")  # the embassy is gone
    assert "Write a letter" in str((await user.receive()).buttons)  # the follow-up's card
    await user.tap(review, "📄 Create the letter")
    note = await user.receive()
    assert "UA 012/26 was updated while you were writing" in note.text
    picker = await user.receive()  # the embassy is gone: whom to write to, again
    assert [row[0].text for row in picker.buttons] == [MINISTER, "Investigating Judge (copy)"]
    await user.tap(picker, MINISTER)
    review = await user.receive()  # name, place and sentence stay as they were
    assert f"{MINISTER}\nMinistry of Justice" in review.text and "Ada" in review.text
    await user.tap(review, "📄 Create the letter")
    document = await user.receive()
    assert document.document is not None
    sent = document.find_button("✅ I sent it")
    assert sent is not None and sent.callback_data == "v1:sent:012/26:2:en"  # revision 2


async def test_a_second_letter_takes_the_first_ones_buttons_away(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 59, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    first = await user.receive()
    await user.tap(card, "✍️ Write a letter")
    await user.receive()
    await emulator.wait_until(lambda: not user.chat.by_id[first.message_id].buttons)


async def test_the_personal_sentence_prompt_names_a_foreign_letter_language(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 60, "en")
    prompts = await to_review(emulator, user, "Deutsch")
    asked = prompts[4].history[0]  # the prompt as sent, before it became a record
    assert asked.endswith("It goes into the letter as you type it: write it in Deutsch, or skip.")


async def document_with_copies(
    emulator: Emulator, user_id: int, language: str, labels: dict[str, str]
) -> tuple[list[SentMessage], SentMessage]:
    """A letter to UA 014/26's Prosecutor General (two copy addressees): the prompts, the
    document."""
    user = await subscriber(emulator, user_id, language)
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, "ua-014-26-1.toml")
    card = await user.receive()
    await user.tap(card, labels["write"])
    prompts = [await user.receive()]
    await user.tap(prompts[-1], labels["language"])
    prompts.append(await user.receive())
    await user.tap(prompts[-1], labels["addressee"])
    prompts.append(await user.receive())
    await user.send("Ada")
    for _step in range(2):
        prompts.append(await user.receive())
        await user.tap(prompts[-1], labels["skip"])
    prompts.append(await user.receive())
    await user.tap(prompts[-1], labels["create"])
    return prompts, await user.receive()


async def test_the_document_message_says_where_the_copies_go(emulator: Emulator, bot: Any) -> None:
    labels = {
        "write": "✍️ Write a letter",
        "language": "✓ English (recommended)",
        "addressee": "Prosecutor General",
        "skip": "⏭ Skip",
        "create": "📄 Create the letter",
    }
    _prompts, document = await document_with_copies(emulator, 62, "en", labels)
    assert document.text.splitlines()[:1] + document.text.splitlines()[-4:] == [
        "✉️ Your letter goes to: Prosecutor General.",
        "Send a copy of the same letter to each of:",
        "• Ambassador of Kazakhstan: by post to Embassy of the Republic of Kazakhstan, "
        "(placeholder street) 3, 3000 Bern, Switzerland",
        "• Human Rights Commissioner: by e-mail to ombudsman@example.org",
        "Then tap “I sent it”: every letter is counted.",
    ]


async def test_german_wording_of_the_wizard(emulator: Emulator, bot: Any) -> None:
    labels = {
        "write": "✍️ Brief schreiben",
        "language": "✓ Deutsch",
        "addressee": "Generalstaatsanwalt",
        "skip": "⏭ Überspringen",
        "create": "📄 Brief erstellen",
    }
    prompts, document = await document_with_copies(emulator, 63, "de", labels)
    place, personal = prompts[3].history[0], prompts[4].history[0]
    assert "(optional)" in place and "(optional," in personal
    assert document.text.startswith("✉️ Dein Brief geht an: Generalstaatsanwalt.\n")
    assert "• Menschenrechtsbeauftragte: per E-Mail an ombudsman@example.org" in document.text


async def test_the_preview_of_an_e_mail_only_letter_shows_the_address(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 64, "en")
    embassy = "Embassy of Belgium (copy)"
    review = (await to_review(emulator, user, addressee=embassy, place=None))[-1]
    assert "Embassy of Belgium (copy)\nby e-mail: embassy@example.org" in review.text


async def test_lone_surrogates_and_noncharacters_are_refused(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 65, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), MINISTER)
    await user.receive()
    # What a modified client can send (a lone surrogate cannot even be encoded as UTF-8, so
    # the emulator cannot carry one: check_text_refuses_lone_surrogates covers it).
    for text in ("Ada\ufffe", "Ad\uffffa"):
        await user.send(text)
        assert "invisible control characters" in (await user.receive()).text
    await user.send("Ada")
    assert "city and country" in (await user.receive()).text


def test_check_text_refuses_lone_surrogates() -> None:
    for text in ("a\ud800b", "\udfffab", "ab\ufffe"):
        with pytest.raises(InvalidInput, match="invisible control characters"):
            check_text(text, 100)
    assert check_text(" Zoë 😀 ", 100) == "Zoë 😀"  # a real pair is a character like any


def test_a_long_role_is_cut_at_a_word() -> None:
    role = "Special Rapporteur on the situation of human rights defenders of the United Nations"
    assert shorten(role, 60) == "Special Rapporteur on the situation of human rights…"
    assert shorten("Minister of Justice", 60) == "Minister of Justice"
    assert shorten("x" * 70, 60) == "x" * 59 + "…"  # one long word: cut where it must be


async def test_an_addressee_button_cuts_a_long_role_at_a_word(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 66, "en")
    admin = await subscriber(emulator, ADMIN_ID, "en")
    long_role = "Special Rapporteur on the situation of human rights defenders (copy)"
    text = (FIXTURES / "ua-012-26-1.toml").read_text()
    await admin.upload(
        "ua-012-26-1.toml", text.replace("Federal Prosecutor (copy)", long_role).encode()
    )
    await admin.tap(await admin.receive(), "📣 Publish")
    await user.tap(await user.receive(), "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    picker = await user.receive()
    assert picker.buttons[1][0].text == "Special Rapporteur on the situation of human rights…"


async def test_french_wording_of_the_wizard(emulator: Emulator, bot: Any) -> None:
    labels = {
        "write": "✍️ Écrire une lettre",
        "language": "✓ Français",
        "addressee": "Procureur général",
        "skip": "⏭ Passer",
        "create": "📄 Créer la lettre",
    }
    prompts, document = await document_with_copies(emulator, 67, "fr", labels)
    assert "(facultative," in prompts[4].history[0]
    assert "Touchez ensuite «\u202fJe l’ai envoyée\u202f»" in document.text
    assert document.find_button("✅ Je l’ai envoyée") is not None
    route = await emulator.user(67).receive()
    assert "Touchez le texte ci-dessous pour le copier, collez-le" in route.text

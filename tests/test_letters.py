"""Journeys: a supporter is walked through a letter, gets a .docx, and is counted once."""

from __future__ import annotations

import asyncio
import io
import tomllib
from datetime import date
from typing import Any

import docx
import pytest
from journeys import ADMIN_ID, FIXTURES, TODAY, publish, subscriber, time_out

from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import format_date, format_letter_date, letter_locale

WIZARD = {
    # language: (own language button, addressee, place, personal, salutation, closing)
    "en": ("✓ English", "Dear Minister,", "Yours sincerely,"),
    "de": (
        "✓ Deutsch",
        "Sehr geehrte Frau Ministerin, sehr geehrter Herr Minister,",
        "Mit freundlichen Grüssen",
    ),
    "fr": (
        "✓ Français",
        "Madame, Monsieur le Ministre,",
        # The file's "l'expression", in French typography (bot/actions/typography.py).
        "Veuillez agréer, Madame, Monsieur le Ministre, l’expression de ma haute considération.",
    ),
}


async def published_card(
    emulator: Emulator, user: SimUser, name: str = "ua-012-26-1.toml"
) -> SentMessage:
    admin = emulator.user(ADMIN_ID)
    if not admin.messages:
        await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, name)
    await admin.receive_many(2)  # own card, report
    return await user.receive()


async def next_prompt(user: SimUser) -> SentMessage:
    return await user.receive()


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_the_whole_wizard_gives_a_complete_docx(
    emulator: Emulator, bot: Any, language: str
) -> None:
    user = emulator.user(21, first_name="Ada", last_name="Lovelace", language_code=language)
    await user.send("/start")
    await user.receive()
    card = await published_card(emulator, user)

    await user.tap(card, card.buttons[0][0].text)  # write a letter
    prompt = await user.receive()
    own, salutation, closing = WIZARD[language]
    assert prompt.buttons[0][0].text == own  # the user's language first, preselected
    await user.tap(prompt, own)

    prompt = await user.receive()  # three addressees: choose one
    assert prompt.buttons[0][0].text == "Minister of Justice"
    await user.tap(prompt, "Minister of Justice")

    prompt = await user.receive()
    initials_button = prompt.buttons[0][0].text
    assert "A. L." in initials_button
    await user.send("Ada Lovelace")
    await user.receive()  # place
    await user.send("Bern, Switzerland")
    await user.receive()  # personal sentence
    await user.send("I think of Nadia & her family <every day>.")

    review = await user.receive()
    assert salutation in review.text
    assert "I think of Nadia & her family <every day>." in review.text
    assert "Ada Lovelace" in review.text
    await user.tap(review, review.buttons[0][1].text)  # create

    document = await user.receive()
    assert document.document is not None
    # Named by addressee, so several letters do not download as "(1)", "(2)"; "letter" in
    # the letter's language, as is the case's label (French: AU, action urgente).
    label, word = {"en": ("UA", "letter"), "de": ("UA", "Brief"), "fr": ("AU", "lettre")}[language]
    name = f"{label}-012-26-{word}-minister-of-justice-{language}.docx"
    assert document.document.file_name == name
    assert "minister.justice@example.org" in document.text
    assert document.buttons[0][0].text.startswith("✅")
    letter = docx.Document(io.BytesIO(document.document.data))
    texts = [p.text for p in letter.paragraphs]
    assert texts[0] == "Ada Lovelace\nBern, Switzerland"
    assert texts[1].startswith("Bern, ")  # the town, not the country
    assert texts[1].endswith(format_letter_date(TODAY, letter_locale(language)))
    assert texts[2].startswith("Minister of Justice\nMinistry of Justice\n")
    title = tomllib.loads((FIXTURES / "ua-012-26-1.toml").read_text())["text"][language]["title"]
    # The subject line: the case title, after "Re:" / "Objet :"; German letters name no "Betreff".
    assert texts[3] == {"en": "Re: ", "de": "", "fr": "Objet\u00a0: "}[language] + title
    assert texts[4] == salutation
    assert "Nadia Berger" in texts[5]
    assert "I think of Nadia & her family <every day>." in texts
    assert texts[-2] == closing and texts[-1] == "Ada Lovelace"
    assert letter.core_properties.author == "" and letter.core_properties.last_modified_by == ""
    assert round(letter.sections[0].page_width.mm) == 210
    assert round(letter.sections[0].page_height.mm) == 297
    email = await user.receive()  # the minister has an e-mail address: the e-mail route
    assert "minister.justice@example.org" in email.text
    copied = await user.receive()
    assert "I think of Nadia & her family <every day>." in copied.text
    await user.tap(document, document.buttons[0][0].text)  # "I sent it" under the letter
    await emulator.wait_until(
        lambda: user.chat.by_id[document.message_id].buttons[0][0].text.startswith("✅ 1 ")
    )
    # Nothing of the letter is kept once it is made.
    await emulator.wait_until(lambda: "letter" not in bot.user_data.get(21, {}))


def test_german_dates_are_german() -> None:
    assert format_date(date(2026, 11, 27), "de") == "27. November 2026"
    assert format_date(date(2026, 11, 27), "fr") == "27 novembre 2026"


async def reach_name_step(emulator: Emulator, user: SimUser) -> None:
    card = await published_card(emulator, user)
    await user.tap(card, card.buttons[0][0].text)
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), "Minister of Justice")
    await user.receive()  # the name prompt


async def test_bad_input_is_asked_again_and_the_step_kept(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 22, "en")
    await reach_name_step(emulator, user)
    for bad, hint in [
        ("   ", "Please send some text."),
        ("😀😀😀", "A name needs letters"),
        ("1234", "A name needs letters"),
        ("Ada\x07", "control characters"),
        ("Ada\ufffe", "control characters"),  # a noncharacter the letter's XML cannot carry
        ("A" * 81, "the limit is 80"),
    ]:
        await user.send(bad)
        assert hint in (await user.receive()).text, bad
    await user.upload("me.jpg", b"\xff\xd8", mime_type="image/jpeg")
    assert "Please send text" in (await user.receive()).text
    await user.send("Ada")
    assert "city and country" in (await user.receive()).text  # the next step at last
    await user.send("Bern")
    await user.receive()
    await user.send("x" * 501)
    assert "501 characters long; the limit is 500" in (await user.receive()).text
    await user.tap(user.messages[-2], "⏭ Skip")  # under the personal-sentence prompt
    review = await user.receive()
    assert "Dear Minister," in review.text


async def test_a_restart_in_the_middle_of_a_letter_resumes_it(
    emulator: Emulator, restart: Any
) -> None:
    async with restart():
        user = await subscriber(emulator, 23, "en")
        await reach_name_step(emulator, user)
    async with restart():
        await user.send("Ada")
        assert "city and country" in (await user.receive()).text


async def test_cancel_ends_the_letter_and_keeps_nothing(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 24, "en")
    await reach_name_step(emulator, user)
    await user.send("/cancel")
    assert "Letter cancelled" in (await user.receive()).text
    await user.send("Ada")
    assert "I only understand commands" in (await user.receive()).text
    assert "letter" not in bot.user_data.get(24, {})


async def test_remembered_details_skip_name_and_place_until_forget(
    emulator: Emulator, bot: Any
) -> None:
    user = emulator.user(25, first_name="Ada", language_code="en")
    await user.send("/start")
    await user.receive()
    card = await published_card(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), "Minister of Justice")
    await user.receive()
    await user.send("A. L.")
    await user.receive()
    await user.send("Bern")
    await user.receive()
    await user.tap(user.messages[-1], "⏭ Skip")
    review = await user.receive()
    answer = await user.tap(review, "☐ Remember my name and place")
    assert "will be remembered" in answer.text
    await user.tap(review, "📄 Create the letter")
    await user.receive_many(3)  # the document, the e-mail route and the text to copy

    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), "Federal Prosecutor (copy)")
    assert "sentence of your own" in (await user.receive()).text  # name and place skipped

    await user.send("/forget")
    await user.tap(await user.receive(), "Yes, delete everything")
    await emulator.wait_until(lambda: "is deleted" in user.messages[-1].text)
    assert 25 not in bot.user_data or "sender" not in bot.user_data[25]


async def test_a_closed_case_refuses_new_letters(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 26, "en")
    card = await published_card(emulator, user)
    await published_card(emulator, user, "ua-012-26-2.toml")
    await published_card(emulator, user, "ua-012-26-3.toml")
    await user.tap(card, "✍️ Write a letter")
    assert "is closed: it takes no more letters" in (await user.receive()).text
    await user.send("/write UA 012/26")
    assert "is closed" in (await user.receive()).text


async def test_i_sent_it_counts_once_and_updates_the_card(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 27, "de")
    card = await published_card(emulator, user)
    assert "0 Briefe verschickt" in card.text
    first = await user.tap(card, card.buttons[1][0].text)
    assert first.text
    await emulator.wait_until(lambda: "1 Brief verschickt" in user.messages[-1].text)
    second = await user.tap(card, card.buttons[1][0].text)
    assert second.text != first.text
    assert await bot.bot_data.storage.tally.count("UA 012/26") == 1

    await user.send("/mine")
    mine = await user.receive()
    assert "UA 012/26" in mine.text and "1 Brief verschickt" in mine.text


async def test_fifty_supporters_tapping_twice_at_once_count_fifty(
    emulator: Emulator, bot: Any
) -> None:
    users = [await subscriber(emulator, 100 + n, "en") for n in range(50)]
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, "ua-012-26-1.toml")
    cards = [await user.receive() for user in users]
    # A hundred taps at once: on PostgreSQL under CI's load the last answers took over 5 s
    # (each tap is a few transactions); what this counts is the tally, not the speed.
    answers = await asyncio.gather(
        *(
            user.tap(card, "✅ I sent it", timeout=30)
            for user, card in zip(users, cards, strict=True)
            for _ in range(2)
        )
    )
    assert await bot.bot_data.storage.tally.count("UA 012/26") == 50
    assert sum("Already counted" in a.text for a in answers) == 50
    await user_sees(emulator, users[-1], "letters sent")


async def user_sees(emulator: Emulator, user: SimUser, text: str) -> None:
    await emulator.wait_until(lambda: any(text in m.text for m in user.messages))


async def test_forget_keeps_the_count_but_not_the_link(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 28, "en")
    card = await published_card(emulator, user)
    await user.tap(card, "✅ I sent it")
    await user.send("/forget")
    await user.tap(await user.receive(), "Yes, delete everything")
    await emulator.wait_until(lambda: "is deleted" in user.messages[-1].text)
    storage = bot.bot_data.storage
    assert await storage.tally.count("UA 012/26") == 1
    assert await storage.tally.cases_of(28) == []


async def test_a_letter_left_alone_ends_with_a_note(emulator: Emulator, restart: Any) -> None:
    async with restart() as app:
        user = await subscriber(emulator, 29, "en")
        await reach_name_step(emulator, user)
        await app.update_persistence()  # the draft is in the database now
        assert "letter" in (await app.bot_data.storage.conversations.user_data())[29]
        await time_out(app, "letter", 29)
        note = await user.receive(timeout=10)
        assert "Your letter was left for 30 minutes" in note.text
        await emulator.wait_until(lambda: "letter" not in app.user_data.get(29, {}))
        await app.update_persistence()  # what PTB does every few seconds
        stored = await app.bot_data.storage.conversations.user_data()
        assert "letter" not in stored.get(29, {})  # the draft is gone from the database too
        await user.send("Ada")
        assert "I only understand commands" in (await user.receive()).text


async def test_a_late_i_sent_it_on_a_closed_case_still_counts(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 30, "en")
    card = await published_card(emulator, user)
    await published_card(emulator, user, "ua-012-26-2.toml")
    await published_card(emulator, user, "ua-012-26-3.toml")
    answer = await user.tap(card, "✅ I sent it")
    assert "Thank you" in answer.text
    assert await bot.bot_data.storage.tally.count("UA 012/26") == 1


async def test_a_case_closed_while_writing_gives_no_document(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 32, "en")
    await reach_name_step(emulator, user)
    admin = emulator.user(ADMIN_ID)
    for name in ("ua-012-26-2.toml", "ua-012-26-3.toml"):
        await publish(admin, name)
        await admin.receive_many(2)
    await user.receive_many(2)  # the follow-up and the closure
    await user.send("Ada")
    assert "can no longer be written" in (await user.receive()).text
    assert not [m for m in user.messages if m.document]


async def test_an_abandoned_draft_is_deleted_even_across_a_restart(
    emulator: Emulator, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from bot.services import scheduling

    async with restart():
        user = await subscriber(emulator, 33, "en")
        await reach_name_step(emulator, user)
        await user.send("Ada Lovelace")
        await user.receive()  # the place prompt: the draft now holds a name
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 30 * 60 + 60)
    async with restart() as app:  # no timeout job survives a restart: dropped while loading
        assert "letter" not in app.user_data.get(33, {})
        (sweep,) = app.job_queue.get_jobs_by_name(scheduling.SWEEP_JOB)
        await sweep.run(app)  # nothing left for it
        rows = await app.bot_data.storage.conversations.user_data()
        assert "Ada Lovelace" not in str(rows)
        await user.send("Bern")  # the conversation ended with the draft
        assert "I only understand commands" in (await user.receive()).text


async def test_mine_splits_a_long_list(emulator: Emulator, bot: Any) -> None:
    storage = bot.bot_data.storage
    user = await subscriber(emulator, 34, "en")
    await user.send("/unsubscribe")  # no 40 cards in the way
    await user.receive()
    template = (FIXTURES / "ua-013-26-1.toml").read_text()
    admin = emulator.user(ADMIN_ID)
    long_title = "A very long title about a case " * 6
    for number in range(40):
        text = template.replace("UA 013/26", f"UA {100 + number}/26").replace(
            "Climate activists fined for a peaceful sit-in", long_title.strip()[:199]
        )
        await admin.upload(f"ua-{number}.toml", text.encode())
        await admin.tap(await admin.receive(), "📣 Publish")
        await admin.receive()  # the report
        await storage.tally.confirm(f"UA {100 + number}/26", 1, 34, "en", TODAY)
    await user.send("/mine")
    parts = await user.receive_many(3, timeout=10)  # about 10,000 characters
    assert "Your letters" in parts[0].text
    assert sum(part.text.count("UA 1") for part in parts) == 40


async def test_cancel_outside_a_letter_and_bad_write_arguments(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 35, "fr")
    await user.send("/cancel")
    assert "rien à annuler" in (await user.receive()).text.lower()
    await user.send("/write " + "x" * 4000)
    assert "/write AU 012/26" in (await user.receive()).text  # French: action urgente
    await user.send("/write ua 999/26")
    assert "AU 999/26" in (await user.receive()).text


async def test_a_button_of_an_earlier_letter_does_not_act_on_this_one(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 36, "en")
    card = await published_card(emulator, user)
    await published_card(emulator, user, "ua-013-26-1.toml")
    await user.tap(card, "✍️ Write a letter")
    first = await user.receive()  # UA 012/26: which letter language?
    old = first.find_button("✓ English")
    assert old is not None and old.callback_data is not None
    await user.send("/write UA 013/26")
    second = await user.receive()  # UA 013/26 asks the same question: the current letter
    # The first letter's picker loses its buttons; a client that still sends one is refused.
    await emulator.wait_until(lambda: not user.chat.by_id[first.message_id].buttons)
    answer = await user.tap(second, "✓ English", crafted=old.callback_data)
    assert answer.show_alert and "earlier letter" in answer.text
    await user.expect_silence(0.2)
    await user.tap(second, "✓ English")
    assert "signed" in (await user.receive()).text  # UA 013/26 has one addressee: the name

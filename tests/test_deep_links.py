"""Journeys: people arrive through a case's link, share cases, see the open cases when they
subscribe, and are asked to write again when a case they wrote for changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from journeys import ADMIN_ID, FIXTURES, subscriber
from test_topics import follow_topic, with_topics

from bot.actions.links import deep_link
from bot.emulator import BOT_USER, Emulator, SentMessage, SimUser
from bot.ptb.context import BotData
from bot.storage import Storage

BOT = BOT_USER["username"]
CASE = "UA 012/26"
LANGUAGE_PROMPT = "In which language do you want to write the letter?"


def admin_of(emulator: Emulator) -> SimUser:
    return emulator.user(ADMIN_ID, first_name="Admin", language_code="en")


async def publish_data(emulator: Emulator, name: str, data: bytes) -> None:
    """The admin uploads an action file and publishes it; returns once the broadcast's report
    is in (every subscriber has their card)."""
    admin = admin_of(emulator)
    await admin.upload(name, data, mime_type="application/toml")
    preview = await admin.receive()
    assert "Publish" in str(preview.buttons), preview
    await admin.tap(preview, "📣 Publish")
    report = await admin.receive(timeout=10)
    assert "Broadcast finished" in report.text, report


async def publish(emulator: Emulator, name: str) -> None:
    await publish_data(emulator, name, (FIXTURES / name).read_bytes())


async def publish_copy(emulator: Emulator, number: str) -> None:
    """Another open case, UA ``number``, made from the fixture of UA 013/26."""
    data = (FIXTURES / "ua-013-26-1.toml").read_text(encoding="utf-8")
    data = data.replace('case = "UA 013/26"', f'case = "UA {number}"')
    await publish_data(emulator, f"ua-{number.replace('/', '-')}-1.toml", data.encode())


def buttons(message: SentMessage) -> list[str]:
    return [button.text for row in message.buttons for button in row]


def share_target(message: SentMessage) -> tuple[str, str]:
    """The link and the text a card's Share button hands to Telegram's share dialog."""
    (share,) = [b for row in message.buttons for b in row if b.url]
    assert share.url is not None and share.callback_data is None
    parts = urlsplit(share.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "t.me", "/share/url")
    query = parse_qs(parts.query, strict_parsing=True)
    return query["url"][0], query["text"][0]


# -- 1. deep links --------------------------------------------------------------------------------


async def test_a_new_user_is_welcomed_then_sees_the_case(emulator: Emulator, bot: Any) -> None:
    await publish(emulator, "ua-012-26-1.toml")
    user = emulator.user(31, first_name="Dora", language_code="de-AT")
    await user.send("/start ua-012-26")
    welcome, card = await user.receive_many(2)
    assert "Willkommen!" in welcome.text
    assert "Journalistin nach Recherchen über Haftzentren inhaftiert" in card.text
    assert "UA 012/26" in card.text
    await user.expect_silence()  # the card, not the list of open cases as well
    stored = await bot.bot_data.storage.users.get(31)
    assert stored is not None and stored.subscribed and stored.language == "de"


async def test_a_known_user_sees_the_case_at_once(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 32, "en")
    await publish(emulator, "ua-012-26-1.toml")
    pushed = await user.receive()
    await user.send("/unsubscribe")
    await user.receive()

    await user.send("/start ua-012-26")
    card = await user.receive()
    assert "Welcome" not in card.text
    assert card.text == pushed.text
    assert "✍️ Write a letter" in buttons(card)
    await user.expect_silence()
    stored = await bot.bot_data.storage.users.get(32)
    assert stored is not None and not stored.subscribed  # a link leaves the alerts alone


async def test_a_write_link_starts_the_letter(emulator: Emulator, bot: Any) -> None:
    known = await subscriber(emulator, 33, "en")
    await publish(emulator, "ua-012-26-1.toml")
    await known.receive()  # the pushed card
    await known.send("/start write-ua-012-26")
    prompt = await known.receive()
    assert prompt.text == LANGUAGE_PROMPT
    # The link's letter is the wizard's: its next step takes the supporter's answer.
    await known.tap(prompt, "✓ English")
    assert (await known.receive()).text == "To whom do you want to write?"

    newcomer = emulator.user(34, first_name="Eli", language_code="fr")
    await newcomer.send("/start write-UA-012-26")
    welcome, prompt = await newcomer.receive_many(2)
    assert "Bienvenue\u202f!" in welcome.text
    assert prompt.text == "Dans quelle langue voulez-vous écrire la lettre\u202f?"
    await newcomer.expect_silence()


async def test_a_link_to_no_case_says_so_and_lists_the_open_ones(
    emulator: Emulator, bot: Any
) -> None:
    await publish(emulator, "ua-013-26-1.toml")
    user = await subscriber(emulator, 36, "en")
    await user.receive()  # the newest open cases after the welcome
    for payload, line in [
        ("hello", "This link names no case."),
        ("ua-999-26", "There is no case UA 999/26."),
        ("write-ua-999-26", "There is no case UA 999/26."),
    ]:
        await user.send(f"/start {payload}")
        polite, listing = await user.receive_many(2)
        assert polite.text == line
        assert "Open actions" in listing.text
        (only,) = buttons(listing)
        assert only.startswith("UA 013/26 · Climate activists fined")
    # A payload Telegram never sends (a space, other characters) is a plain /start.
    await user.send("/start ua 013/26!")
    assert "Welcome!" in (await user.receive()).text
    await user.expect_silence()


async def test_a_link_to_a_closed_case_shows_how_it_ended(emulator: Emulator, bot: Any) -> None:
    """A friend who follows a shared link after the case closed sees its closure card (the
    outcome, the letters), is pointed to /archive and sees the open cases."""
    for name in ("ua-012-26-1.toml", "ua-012-26-3.toml", "ua-013-26-1.toml"):
        await publish(emulator, name)
    user = emulator.user(37, first_name="Fay", language_code="de")
    await user.send("/start ua-012-26")
    welcome, closure, polite, listing = await user.receive_many(4)
    assert "Willkommen!" in welcome.text
    assert "Fall abgeschlossen" in closure.text and "Am 3. März 2026 freigelassen" in closure.text
    assert "0 Briefe verschickt" in closure.text
    assert "UA 012/26" in polite.text and "geschlossen" in polite.text
    assert "/archive" in polite.text
    (only,) = buttons(listing)
    assert only.startswith("UA 013/26 · Klimaaktivistinnen")
    await user.tap(listing, buttons(listing)[0])
    assert "UA 013/26" in (await user.receive()).text

    friend = emulator.user(137, first_name="Gus", language_code="en")
    await friend.send("/start ua-012-26")
    _welcome, closure, polite, _listing = await friend.receive_many(4)
    assert "Case closed" in closure.text and "Released on 3 March 2026" in closure.text
    assert "/archive shows the cases that ended, and how." in polite.text


async def test_a_case_is_found_by_its_link_its_follow_ups_and_as_typed(
    emulator: Emulator, bot: Any
) -> None:
    """The link's form after /write, a follow-up's label (FI 012/26-2 -> fi-012-26-2) in a
    link, and a case number typed after /start all name the case."""
    await publish(emulator, "ua-012-26-1.toml")
    user = await subscriber(emulator, 43, "en")
    await user.receive()  # the newest open cases
    await user.send("/write ua-012-26")
    assert (await user.receive()).text == LANGUAGE_PROMPT
    await user.send("/cancel")
    await user.receive()
    for text in ("/start ua-012-26-2", "/start fi-012-26-2", "/start UA 012/26"):
        await user.send(text)
        card = await user.receive()
        assert "Journalist detained for reporting on detention centres" in card.text, text
        assert "Welcome" not in card.text
        await user.expect_silence()
    newcomer = emulator.user(44, first_name="Ida", language_code="en")
    await newcomer.send("/start UA 012/26")
    welcome, card = await newcomer.receive_many(2)
    assert "Welcome!" in welcome.text
    assert "Journalist detained for reporting on detention centres" in card.text


async def test_a_case_opened_while_alerts_are_paused_is_remembered(
    emulator: Emulator, bot: Any
) -> None:
    """Someone who paused alerts opens a case by its link, then subscribes again: the case's
    follow-up reaches them although they follow another topic."""
    user = await subscriber(emulator, 45, "en")
    await follow_topic(emulator, user, "death-penalty", "Death penalty")
    await user.send("/unsubscribe")
    await user.receive()
    await publish_data(
        emulator, "ua-012-26-1.toml", with_topics("ua-012-26-1.toml", '["torture"]')
    )
    await user.send("/start ua-012-26")
    assert "Journalist detained" in (await user.receive()).text
    await user.send("/subscribe")
    await user.receive()
    await publish_data(
        emulator, "ua-012-26-2.toml", with_topics("ua-012-26-2.toml", '["torture"]')
    )
    follow_up = await user.receive()
    assert "Follow-up" in follow_up.text and "extended by two months" in follow_up.text


# -- 2. the Share button --------------------------------------------------------------------------


async def test_every_card_can_be_shared_with_its_link(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 38, "fr")
    await publish(emulator, "ua-012-26-1.toml")
    pushed = await user.receive()
    url, text = share_target(pushed)
    assert url == deep_link(BOT, "ua-012-26") == f"https://t.me/{BOT}?start=ua-012-26"
    assert text == (
        "AU 012/26 · Une journaliste détenue pour avoir enquêté sur des centres de rétention\n"
        "✍️ Écrivez une lettre avec moi\u202f!"
    )

    await user.send("/actions")
    listing = await user.receive()
    await user.tap(listing, buttons(listing)[0])
    card = await user.receive()
    assert share_target(card) == (url, text)

    # The shared link brings a friend to the same card.
    friend = emulator.user(39, first_name="Gil", language_code="en")
    await friend.send("/start " + url.split("start=")[1])
    _welcome, seen = await friend.receive_many(2)
    assert "Journalist detained for reporting on detention centres" in seen.text

    await publish(emulator, "ua-012-26-3.toml")
    closure = await user.receive()
    assert share_target(closure)[0] == url


# -- 3. a new subscriber sees the open cases -----------------------------------------------------


async def test_a_new_subscriber_sees_the_newest_three_and_a_way_to_all(
    emulator: Emulator, bot: Any
) -> None:
    await publish(emulator, "ua-012-26-1.toml")
    await publish(emulator, "ua-013-26-1.toml")
    await publish(emulator, "ua-014-26-1.toml")
    await publish_copy(emulator, "015/26")
    user = emulator.user(40, first_name="Hal", language_code="en")
    await user.send("/start")
    welcome, newest = await user.receive_many(2)
    assert "Welcome!" in welcome.text
    assert newest.text.startswith("Open actions")
    # Newest first (by the date issued): 014 (November), then 015 and 013 (February). The
    # bullets hold the titles and deadlines; the buttons only the numbers, in one row.
    bullets = [line for line in newest.text.split("\n") if line.startswith("• ")]
    assert bullets == [
        "• UA 014/26 · Activist held for speaking about camps",
        "• UA 015/26 · Climate activists fined for a peaceful sit-in",
        "• UA 013/26 · Climate activists fined for a peaceful sit-in",
    ]
    assert "UA 012/26" not in newest.text
    assert "Please write before December 31, 2026." in newest.text
    assert [[b.text for b in row] for row in newest.buttons] == [
        ["UA 014/26", "UA 015/26", "UA 013/26"],
        ["📋 All 4 open actions"],
    ]

    await user.tap(newest, "UA 014/26")
    assert "Activist held for speaking about camps" in (await user.receive()).text
    await user.tap(newest, "📋 All 4 open actions")
    await emulator.wait_until(lambda: "UA 012/26" in str(user.chat.by_id[newest.message_id]))

    # Known and subscribed: /start greets again, without the list.
    await user.send("/start")
    assert "Welcome!" in (await user.receive()).text
    await user.expect_silence()


# -- 4. a follow-up asks those who wrote to write again -------------------------------------------


async def test_a_follow_up_asks_those_who_wrote_to_write_again(
    emulator: Emulator, bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrote = await subscriber(emulator, 41, "de")
    other = await subscriber(emulator, 42, "en")
    await publish(emulator, "ua-012-26-1.toml")
    card = await wrote.receive()
    await other.receive()
    # The day of the letter is the bot's today (its one clock), not SQLite's.
    monkeypatch.setattr(BotData, "today", staticmethod(lambda: date(2026, 2, 3)))
    assert "Danke" in (await wrote.tap(card, "✅ Ich habe ihn verschickt")).text

    await publish(emulator, "ua-012-26-2.toml")
    follow_up = await wrote.receive()
    normal = await other.receive()
    assert (
        "Du hast am 3. Februar für diesen Fall geschrieben. Die Lage hat sich geändert: "
        "Bitte schreib noch einmal." in follow_up.text
    )
    assert "Folgeaktion" in follow_up.text
    assert "Follow-up" in normal.text and "You wrote for this case" not in normal.text


async def test_a_follow_up_without_letters_asks_no_one_to_write(
    emulator: Emulator, bot: Any
) -> None:
    """A follow-up that brings no new appeal (no [letter.*]) neither asks earlier writers to
    write again nor offers a letter it does not have."""
    wrote = await subscriber(emulator, 46, "en")
    await publish(emulator, "ua-012-26-1.toml")
    card = await wrote.receive()
    await wrote.tap(card, "✅ I sent it")
    data = (FIXTURES / "ua-012-26-2.toml").read_text(encoding="utf-8")
    await publish_data(emulator, "ua-012-26-2.toml", data[: data.index("[letter.en]")].encode())
    follow_up = await wrote.receive()
    assert "extended by two months" in follow_up.text
    assert "You wrote for this case" not in follow_up.text
    assert buttons(follow_up) == ["📖 Read more", "✅ I sent it", "📤 Share"]


async def test_recipients_carry_the_day_they_last_wrote_for_an_earlier_revision(
    tmp_path: Path,
) -> None:
    """Who gets which variant: the day of their latest letter for an earlier revision; none
    for a reader who already confirmed the revision being sent (they need no "write again")."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        for user_id in (1, 2, 3):
            await storage.users.subscribe(user_id, "en")
        for revision, user_id, day in [
            (1, 1, "2026-03-12"),
            (2, 1, "2026-03-20"),
            (1, 2, "2026-03-12"),
            (3, 2, "2026-04-01"),
        ]:
            await storage.tally.confirm(CASE, revision, user_id, "en", date.fromisoformat(day))
        # Any broadcast's outbox will do: pending() is told the case and the revision sent.
        broadcast = await storage.broadcasts.create(kind="announcement")

        async def wrote_on(revision: int | None) -> dict[int, date | None]:
            found = await storage.broadcasts.pending(broadcast, 0, 10, CASE, revision)
            return {recipient.user_id: recipient.wrote_on for recipient in found}

        assert await wrote_on(3) == {1: date(2026, 3, 20), 2: None, 3: None}
        assert await wrote_on(4) == {1: date(2026, 3, 20), 2: date(2026, 4, 1), 3: None}
        assert await wrote_on(None) == {1: None, 2: None, 3: None}  # not a case's broadcast
    finally:
        await storage.close()

"""Journeys: members of a group follow its writing session's "✍️ Write my letter" link into the
private chat, write the session's letter and confirm it there; it counts in the session.

The first journey drives it all through the group: the admin's /session, the link on the
session message, the message's counts after a private "I sent it". The others start the
session through the domain (``sessions.start``, as /session does) and assert on what the
members receive and what the session counts (``live.changed`` recorded).
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from journeys import subscriber
from test_deep_links import buttons, publish

from bot.actions.links import deep_link, session_payload
from bot.emulator import BOT_USER, Emulator, SentMessage, SimGroup, SimUser
from bot.services import sessions
from bot.services.sessions import live
from bot.storage import StoredSession

CASE = "UA 012/26"


@pytest.fixture
def changed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sessions whose message was asked to change (``live.changed``), in order."""
    calls: list[int] = []

    async def record(app: Any, session_id: int) -> None:
        calls.append(session_id)

    monkeypatch.setattr(live, "changed", record)
    return calls


def local_group(emulator: Emulator) -> tuple[SimGroup, SimUser, list[SimUser]]:
    """A group admin and three members who never wrote to the bot, the bot added."""
    admin = emulator.user(501, "Gina", language_code="en")
    members = [
        emulator.user(502, "Hanna", language_code="de-CH"),
        emulator.user(503, "Inès", language_code="fr"),
        emulator.user(504, "Jo", language_code="en-GB"),
    ]
    group = emulator.group("Local group", members=members, admins=[admin])
    group.add_bot(by=admin)
    return group, admin, members


async def running_session(bot: Any, group: SimGroup, minutes: int = 60) -> StoredSession:
    """The group's session, started as /session would (the group known to the bot)."""
    storage = bot.bot_data.storage
    config = bot.bot_data.config.sessions
    await sessions.add_group(storage, group.id, "en")
    started = await sessions.start(storage, config, group.id, time.time(), CASE, minutes)
    assert started.session is not None, started
    return started.session


def session_link(session: StoredSession) -> str:
    return "/start " + session_payload(session.token)


async def write_letter(user: SimUser, prompt: SentMessage) -> SentMessage:
    """Walk the wizard from its language prompt to the document (the e-mail route, which
    follows it for this case's first addressee, is read too); returns the document."""
    await user.tap(prompt, prompt.buttons[0][0].text)  # the reader's language, first
    addressee = await user.receive()
    await user.tap(addressee, addressee.buttons[0][0].text)
    await user.receive()  # name
    await user.send("Hanna Muster")
    await user.receive()  # place
    await user.send("Bern, Switzerland")
    await user.receive()  # personal sentence
    await user.send("Thinking of you.")
    review = await user.receive()
    await user.tap(review, review.buttons[0][1].text)  # create
    document = await user.receive()
    assert document.document is not None, document
    await user.receive_many(2)  # the e-mail route: address and text
    return document


def write_my_letter(message: SentMessage) -> str:
    """What a Telegram app sends when "✍️ Write my letter" is tapped: ``/start <payload>`` of
    the button's t.me link, in the private chat with the bot."""
    (button,) = [b for row in message.buttons for b in row if b.text == "✍️ Write my letter"]
    assert button.url is not None and button.callback_data is None
    parts = urlsplit(button.url)
    assert (parts.netloc, parts.path) == ("t.me", "/" + BOT_USER["username"])
    return "/start " + parse_qs(parts.query)["start"][0]


def group_counts(message: SentMessage) -> tuple[int, int]:
    """(the group's letters, the case's) from the session message's counts line."""
    match = re.search(r"(\d+) letters? from this group · (\d+) in all", message.text)
    assert match, message.text
    return int(match.group(1)), int(match.group(2))


async def test_through_the_group_a_newcomer_writes_and_the_session_message_counts_it(
    emulator: Emulator, bot: Any
) -> None:
    """/session in the group; a member who never started the bot taps "Write my letter":
    their private chat in their language, the letter, "I sent it"; the group's message
    counts it, and the group sees no name."""
    await publish(emulator, "ua-012-26-1.toml")
    group, admin, (hanna, *_rest) = local_group(emulator)
    await group.send(admin, f"/session {CASE} 60")
    await emulator.wait_until(
        lambda: any("✍️ Write my letter" in buttons(m) for m in group.messages), timeout=30
    )
    (message,) = [m for m in group.messages if "✍️ Write my letter" in buttons(m)]
    assert group_counts(message) == (0, 0)

    await hanna.send(write_my_letter(message))
    welcome, prompt = await hanna.receive_many(2)
    assert "Willkommen!" in welcome.text
    assert "nicht für Benachrichtigungen angemeldet" in welcome.text
    assert prompt.text == "In welcher Sprache möchtest du den Brief schreiben?"
    document = await write_letter(hanna, prompt)
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert (
        thanks.text == "Danke! Dein Brief zählt für das Schreibtreffen der Gruppe: bisher 1 Brief."
    )

    def shown() -> SentMessage:
        return next(m for m in group.messages if m.message_id == message.message_id)

    await emulator.wait_until(lambda: group_counts(shown()) == (1, 1), timeout=30)
    assert "Hanna" not in shown().text and "Muster" not in shown().text
    stored = await bot.bot_data.storage.users.get(hanna.id)
    assert stored is not None and not stored.subscribed


async def test_a_member_new_to_the_bot_writes_for_the_session(
    emulator: Emulator, bot: Any, changed: list[int]
) -> None:
    """Brought in by the link: greeted in their language, not subscribed (alerts offered),
    the session's letter at once; "I sent it" counts in the session and asks for an edit."""
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (hanna, *_rest) = local_group(emulator)
    session = await running_session(bot, group)
    # The link is the session message's button: a deep link into the private chat, naming
    # the session by its token (22 random URL-safe characters), not its guessable row id.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", session.token)
    assert deep_link(BOT_USER["username"], session_payload(session.token)).endswith(
        f"?start=session-{session.token}"
    )

    await hanna.send(session_link(session))
    welcome, prompt = await hanna.receive_many(2)
    assert "Willkommen!" in welcome.text
    assert "nicht für Benachrichtigungen angemeldet" in welcome.text
    assert "Du bist angemeldet" not in welcome.text  # not the subscriber's greeting
    assert buttons(welcome)[0] == "🔔 Benachrichtigungen erhalten"
    assert prompt.text == "In welcher Sprache möchtest du den Brief schreiben?"
    stored = await bot.bot_data.storage.users.get(hanna.id)
    assert stored is not None and stored.language == "de" and not stored.subscribed

    document = await write_letter(hanna, prompt)
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert "Schreibtreffen" in thanks.text and "1 Brief" in thanks.text, thanks.text
    current = await bot.bot_data.storage.sessions.get(session.id)
    assert current is not None and current.letters == 1
    assert await bot.bot_data.storage.tally.count(CASE) == 1
    assert changed == [session.id]
    await emulator.wait_until(
        lambda: hanna.chat.by_id[document.message_id].buttons[0][0].text.startswith("✅ 1 ")
    )
    # A second tap counts nothing more, and asks for no edit.
    again = await hanna.tap(document, document.buttons[0][0].text)
    assert "Schon gezählt" in again.text, again.text
    assert changed == [session.id]
    stored = await bot.bot_data.storage.users.get(hanna.id)
    assert stored is not None and not stored.subscribed  # writing subscribed nobody

    # The offer stands: one tap subscribes.
    await hanna.tap(welcome, "🔔 Benachrichtigungen erhalten")
    await emulator.wait_until(lambda: "Du bist angemeldet" in hanna.messages[-1].text)
    stored = await bot.bot_data.storage.users.get(hanna.id)
    assert stored is not None and stored.subscribed


async def test_a_subscriber_and_a_second_member_write_for_the_session(
    emulator: Emulator, bot: Any, changed: list[int]
) -> None:
    """A subscriber goes straight to the letter (no greeting, alerts untouched); two members
    make two letters in the session."""
    group, _admin, (_hanna, ines, jo) = local_group(emulator)
    await subscriber(emulator, jo.id, "en-GB")
    await publish(emulator, "ua-012-26-1.toml")
    await jo.receive()  # the pushed card
    await jo.send("/unsubscribe")
    await jo.receive()
    session = await running_session(bot, group)

    await jo.send(session_link(session))
    prompt = await jo.receive()
    assert prompt.text == "In which language do you want to write the letter?"
    document = await write_letter(jo, prompt)
    thanks = await jo.tap(document, document.buttons[0][0].text)
    assert thanks.text == (
        "Thank you! Your letter counts for the group's writing session: 1 letter there so far."
    )
    stored = await bot.bot_data.storage.users.get(jo.id)
    assert stored is not None and not stored.subscribed  # a link leaves the alerts alone

    await ines.send(session_link(session))
    welcome, prompt = await ines.receive_many(2)
    assert "Bienvenue" in welcome.text
    document = await write_letter(ines, prompt)
    thanks = await ines.tap(document, document.buttons[0][0].text)
    assert "2 lettres" in thanks.text, thanks.text
    current = await bot.bot_data.storage.sessions.get(session.id)
    assert current is not None and current.letters == 2
    assert changed == [session.id, session.id]


async def test_a_letter_confirmed_after_the_session_counts_for_the_case_only(
    emulator: Emulator, bot: Any, changed: list[int]
) -> None:
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (hanna, *_rest) = local_group(emulator)
    session = await running_session(bot, group)
    await hanna.send(session_link(session))
    _welcome, prompt = await hanna.receive_many(2)
    document = await write_letter(hanna, prompt)
    await sessions.end(bot.bot_data.storage, session.id, time.time())

    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert "Schreibtreffen" not in thanks.text and "Danke" in thanks.text, thanks.text
    assert await bot.bot_data.storage.tally.count(CASE) == 1
    ended = await bot.bot_data.storage.sessions.get(session.id)
    assert ended is not None and ended.letters == 0 and not ended.running
    assert changed == []


async def test_a_link_to_an_ended_or_unknown_session(
    emulator: Emulator, bot: Any, changed: list[int]
) -> None:
    """An ended session's link still leads to its case's letter, with a note (and counts for
    the case alone); an unknown one says so politely and lists the open cases; a closed
    case's shows its closure."""
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (_hanna, _ines, jo) = local_group(emulator)
    session = await running_session(bot, group)
    await sessions.end(bot.bot_data.storage, session.id, time.time())

    await jo.send(session_link(session))
    _welcome, note, prompt = await jo.receive_many(3)
    assert note.text == (
        "This group's writing session has ended. Your letter is still welcome: it counts "
        "for UA 012/26."
    )
    document = await write_letter(jo, prompt)
    thanks = await jo.tap(document, document.buttons[0][0].text)
    assert "writing session" not in thanks.text and "Thank you" in thanks.text
    assert await bot.bot_data.storage.tally.count(CASE) == 1
    assert changed == []

    await jo.send("/start session-999999")
    polite, listing = await jo.receive_many(2)
    assert polite.text == "This writing session is over, or the link is not one of mine."
    assert "Open actions" in listing.text

    await publish(emulator, "ua-012-26-3.toml")  # the closure
    await jo.send(session_link(session))
    closure, closed = await jo.receive_many(2)
    assert "Case closed" in closure.text
    assert "UA 012/26 is closed" in closed.text


async def test_privacy_tells_of_group_sessions(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 601, "en")
    await user.send("/privacy")
    text = (await user.receive()).text
    assert "group's writing session" in text and "never who wrote" in text


async def test_crafted_session_data_counts_no_session_letter(
    emulator: Emulator, bot: Any, changed: list[int]
) -> None:
    """A modified client's "I sent it" naming a session: a session id that is no number is
    refused; a running session of another case counts nothing there (only the case's letter,
    as any "I sent it" under a letter)."""
    await publish(emulator, "ua-012-26-1.toml")
    await publish(emulator, "ua-013-26-1.toml")
    group, _admin, (_hanna, _ines, jo) = local_group(emulator)
    session = await running_session(bot, group)  # for UA 012/26
    await subscriber(emulator, jo.id, "en")
    assert "Open actions" in (await jo.receive()).text  # a new subscriber's first look
    await jo.send("/start ua-013-26")
    other_case = await jo.receive()

    refused = await jo.tap(other_case, "✅ I sent it", crafted="v1:sent:012/26:1:en:x1")
    assert refused.text == "This button no longer works. /help lists what I can do."
    answer = await jo.tap(other_case, "✅ I sent it", crafted=f"v1:sent:013/26:1:en:{session.id}")
    assert "writing session" not in answer.text and "Thank you" in answer.text, answer.text
    current = await bot.bot_data.storage.sessions.get(session.id)
    assert current is not None and current.letters == 0
    assert await bot.bot_data.storage.tally.count("UA 013/26") == 1
    assert changed == []

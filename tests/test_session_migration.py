"""Group sessions across a group's life (issue 15): the bot removed from a group in the middle
of a session, and a group that becomes a supergroup during one, whose session message then
goes on updating in the new chat. The real Application against the emulator's groups, the
session's minutes compressed by ``[sessions] minute_seconds``."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from journeys import ADMIN_ID, FIXTURES, subscriber
from test_session_links import write_letter, write_my_letter

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
from bot.config import Config
from bot.emulator import Emulator, SentMessage, SimGroup, SimUser

CASE = "UA 012/26"
MINUTE = 0.5  # real seconds per session minute
WAIT = 30.0  # generous: what the bot does "at once", on a slow, shared machine
SENT = "✅ I sent it"


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    """Session minutes of half a second, and Telegram's group limit in the same time scale
    (20 messages per session minute), so countdown edits come every half second."""
    emulator.set_group_limit(20, MINUTE)
    return make_config(emulator, tmp_path / "uabot.sqlite3", sessions={"minute_seconds": MINUTE})


async def open_case(app: Any) -> None:
    """The case the sessions write for, published (no subscriber yet: no broadcast)."""
    config = app.bot_data.config
    name = "ua-012-26-1.toml"
    revision = parse_action(
        (FIXTURES / name).read_bytes(),
        source=name,
        languages=config.i18n.languages,
        default_language=config.i18n.default_language,
    )
    await import_revision(app.bot_data.storage, revision, by=None)
    assert await publish(app.bot_data.storage, revision.case, revision.revision, None)


async def local_group(emulator: Emulator, app: Any) -> tuple[SimGroup, SimUser, list[SimUser]]:
    """A group admin, two members who started the bot and one who never did; the admin adds
    the bot as an admin that may pin, and it introduces itself."""
    await open_case(app)
    emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    gaby = emulator.user(70, first_name="Gaby", language_code="en")
    members = [await subscriber(emulator, uid, "en") for uid in (71, 72)]
    members.append(emulator.user(73, first_name="Cem", language_code="en"))  # a newcomer
    group = emulator.group("Local group Bern", members=members, admins=[gaby])
    group.add_bot(by=gaby, admin=True, rights=("can_pin_messages",))
    await introduced(emulator, group, 0)
    return group, gaby, members


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` (a look into the database) is true."""
    deadline = time.monotonic() + WAIT
    while not await check():
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        await asyncio.sleep(0.02)


async def introduced(emulator: Emulator, group: SimGroup, before: int) -> SentMessage:
    """The bot's introduction, among its messages after the first ``before``."""

    def intro() -> SentMessage | None:
        return next((m for m in group.messages[before:] if "/session" in m.text), None)

    await emulator.wait_until(lambda: intro() is not None, WAIT, "the introduction")
    found = intro()
    assert found is not None
    return found


def thank_you(group: SimGroup, after: SentMessage) -> SentMessage | None:
    """The thank-you posted after the session message ``after``."""
    return next(
        (m for m in group.messages if m.message_id > after.message_id and "thank you" in m.text),
        None,
    )


def session_message(group: SimGroup) -> SentMessage | None:
    """The bot's newest message in the group's current chat with the "I sent it" button."""
    return next((m for m in reversed(group.messages) if m.find_button(SENT)), None)


def minutes_left(message: SentMessage) -> int:
    found = re.search(r"(\d+) minutes? left", message.text)
    assert found is not None, message
    return int(found.group(1))


async def start_session(emulator: Emulator, group: SimGroup, admin: SimUser) -> SentMessage:
    """The group admin types /session: a new session message, pinned."""
    before = len(group.messages)

    def posted() -> SentMessage | None:
        return next((m for m in group.messages[before:] if m.find_button(SENT)), None)

    await group.send(admin, f"/session {CASE} 600")
    await emulator.wait_until(
        lambda: (found := posted()) is not None and group.pinned is found,
        WAIT,
        "the session message, pinned",
    )
    message = posted()
    assert message is not None
    assert "0 letters from this group" in message.text, message
    return message


async def shows(emulator: Emulator, group: SimGroup, text: str) -> SentMessage:
    """Wait until the group's current session message shows ``text``."""

    def showing() -> bool:
        message = session_message(group)
        return message is not None and text in message.text

    await emulator.wait_until(showing, WAIT, f"the session message shows {text!r}")
    message = session_message(group)
    assert message is not None
    return message


async def test_a_migration_during_a_session_moves_the_message_to_the_supergroup(
    emulator: Emulator, bot: Any
) -> None:
    storage = bot.bot_data.storage
    group, gaby, (ana, ben, cem) = await local_group(emulator, bot)
    old_id = group.id
    old_message = await start_session(emulator, group, gaby)
    answer = await group.tap(ana, old_message, SENT, timeout=WAIT)
    assert "Counted" in (answer.text or ""), answer
    await shows(emulator, group, "1 letter from this group · 1 in all")

    new_id = group.migrate(by=gaby)

    # The bot follows the group: its row and the running session take the new id, the
    # language stays, and the session message is posted (and pinned) in the supergroup.
    def moved() -> bool:
        return group.id == new_id and session_message(group) is not None

    await emulator.wait_until(moved, WAIT, "the session message in the supergroup")
    moved_message = session_message(group)
    assert moved_message is not None and moved_message.chat_id == new_id
    assert "1 letter from this group · 1 in all" in moved_message.text, moved_message
    await emulator.wait_until(lambda: group.pinned is moved_message, WAIT, "pinned there")
    assert await storage.groups.get(old_id) is None
    stored_group = await storage.groups.get(new_id)
    assert stored_group is not None and stored_group.language == "en"
    running = await storage.sessions.running(new_id)
    assert running is not None and running.message_id == moved_message.message_id

    # The message keeps updating there: the countdown, and a confirmation under it.
    first = minutes_left(moved_message)
    await emulator.wait_until(
        lambda: minutes_left(session_message(group) or moved_message) < first,
        WAIT,
        "a countdown edit in the supergroup",
    )
    answer = await group.tap(ben, moved_message, SENT, timeout=WAIT)
    assert "Counted" in (answer.text or ""), answer
    await shows(emulator, group, "2 letters from this group · 2 in all")
    assert session_message(group) is moved_message  # edited, not posted again

    # A member new to the bot writes through the new message's "Write my letter": counted
    # there too (the private side finds the session by its id, wherever the group went).
    await cem.send(write_my_letter(moved_message))
    _welcome, prompt = await cem.receive_many(2, timeout=WAIT)
    document = await write_letter(cem, prompt)
    counted = await cem.tap(document, document.buttons[0][0].text, timeout=WAIT)
    assert "3 letters there so far" in (counted.text or ""), counted
    await shows(emulator, group, "3 letters from this group · 3 in all")

    # The end in the new chat: the result, unpinned, the thank-you.
    await group.send(gaby, "/session_end")
    await emulator.wait_until(
        lambda: "Session ended" in moved_message.text and group.pinned is None,
        WAIT,
        "the session ended in the supergroup",
    )
    assert "3 letters from this group · 3 in all" in moved_message.text
    assert not moved_message.find_button(SENT)
    await emulator.wait_until(lambda: thank_you(group, moved_message), WAIT, "thank-you")
    thanks = thank_you(group, moved_message)
    assert thanks is not None and "3 letters in" in thanks.text, thanks
    ended = await storage.sessions.get(running.id)
    assert ended is not None and not ended.running and ended.group_id == new_id
    assert ended.letters == 3
    # Nothing went to the old chat after the migration but what was there before it.
    old_chat = group.old_chats[0]
    assert [m.message_id for m in old_chat.bot_messages][-1] == old_message.message_id


async def test_the_bot_removed_during_a_session_and_added_again(
    emulator: Emulator, bot: Any
) -> None:
    storage = bot.bot_data.storage
    group, gaby, (ana, *_others) = await local_group(emulator, bot)
    message = await start_session(emulator, group, gaby)
    await group.tap(ana, message, SENT, timeout=WAIT)
    await shows(emulator, group, "1 letter from this group")
    session = await storage.sessions.running(group.id)
    assert session is not None

    group.remove_bot(by=gaby)

    async def forgotten() -> bool:
        return await storage.groups.get(group.id) is None

    # The bot forgets the group; its session ends with its count and no writers, and the
    # session's jobs are gone (nothing more is tried in a chat the bot is no member of).
    await eventually(forgotten, "the group forgotten")
    ended = await storage.sessions.get(session.id)
    assert ended is not None and not ended.running and ended.letters == 1
    prefix = f"session-{session.id}-"
    assert not [j.name for j in bot.job_queue.jobs() if (j.name or "").startswith(prefix)]
    errors_before = emulator.stats.errors_by_code[403]
    edits_before, messages_before = message.edits, len(group.messages)
    await asyncio.sleep(MINUTE * 4)  # four session minutes: no countdown edit, nothing tried
    assert (message.edits, len(group.messages)) == (edits_before, messages_before)
    assert emulator.stats.errors_by_code[403] == errors_before

    # /stats counts no group with the bot.
    admin = emulator.user(ADMIN_ID)
    await admin.send("/stats")
    stats = await admin.receive(timeout=WAIT)
    assert "groups with the bot: 0" in stats.text, stats

    # Added again: a new introduction, a new row, and a session may start.
    before = len(group.messages)
    group.add_bot(by=gaby, admin=True, rights=("can_pin_messages",))
    await introduced(emulator, group, before)
    assert await storage.groups.get(group.id) is not None
    again = await start_session(emulator, group, gaby)
    assert again.message_id != message.message_id

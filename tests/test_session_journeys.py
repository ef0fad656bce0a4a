"""Writing sessions in a group, end to end (issue 15 §2): a group admin's /session, the
session message (content, pin, buttons), members confirming through its button, the paced
countdown, /session_end and time-up ends, a restart in the middle, two groups at once.

Time is compressed through ``[sessions] minute_seconds`` (a session minute lasts a second or
less) and the emulator's per-group limit with it (``set_group_limit``): waits are on
conditions with generous timeouts, never on the machine's speed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from journeys import ADMIN_ID, publish, subscriber

from bot.config import Config
from bot.emulator import Emulator, SentMessage, SimGroup, SimUser
from bot.ptb import callbacks

CASE = "UA 012/26"
# A session minute in the tests: long enough that a journey's steps fit in one, short enough
# that the countdown and a time-up end come within seconds.
MINUTE = 1.0
WAIT = 30.0  # generous: conditions, not speed
REFUSAL = "Nur wer die Gruppe verwaltet, kann ein Schreibtreffen starten oder beenden."
COUNTED = "Gezählt, danke! Dein Brief zählt für dieses Schreibtreffen."


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    # The group's budget compressed with the session minute: 20 per (compressed) minute.
    emulator.set_group_limit(20, 60 * MINUTE / 60)
    return make_config(emulator, tmp_path / "uabot.sqlite3", sessions={"minute_seconds": MINUTE})


async def local_group(
    emulator: Emulator, *, admin_bot: bool = True
) -> tuple[SimGroup, list[SimUser]]:
    """A group admin and three members who started the bot, all German, and the bot in the group
    (an admin that may pin, unless ``admin_bot`` is False)."""
    ada = emulator.user(1, "Ada", language_code="de")
    members = [await subscriber(emulator, uid, "de") for uid in (2, 3, 4)]
    group = emulator.group("Local group", members=members, admins=[ada])
    group.add_bot(admin=admin_bot)
    return group, members


async def published_case(emulator: Emulator) -> None:
    await publish(emulator.user(ADMIN_ID), "ua-012-26-1.toml")


async def session_message(group: SimGroup) -> SentMessage:
    """The session message: the first bot message with the "I sent it" button."""
    await _wait(group, lambda: _session_messages(group), "no session message")
    return _session_messages(group)[0]


def _session_messages(group: SimGroup) -> list[SentMessage]:
    return [
        m
        for m in group.messages
        if any(
            b.callback_data == callbacks.SESSION_SENT.data(session)
            for row in m.buttons
            for b in row
            for session in range(1, 100)
        )
    ]


async def _wait(group: SimGroup, predicate: Any, what: str) -> None:
    emulator_state = group._state  # the emulator's change signal: woken at every send or edit
    import time

    deadline = time.monotonic() + WAIT
    while not predicate():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{what}\n{group.dump()}"
        await emulator_state.changed.wait(min(remaining, 0.5))


def current(group: SimGroup, message: SentMessage) -> SentMessage:
    """A bot message in the group as it reads now (edits applied)."""
    return next(m for m in group.messages if m.message_id == message.message_id)


def counts(message: SentMessage) -> tuple[int, int]:
    """(the group's letters, the case's) from the counts line, in German."""
    match = re.search(r"(\d+) Briefe? aus dieser Gruppe · (\d+) insgesamt", message.text)
    assert match, message.text
    return int(match.group(1)), int(match.group(2))


async def test_a_group_admin_runs_a_session_members_confirm_it_ends_with_thanks(
    emulator: Emulator, bot: Any
) -> None:
    await published_case(emulator)
    group, (bo, cy, _di) = await local_group(emulator)
    ada = emulator.user(1)

    await group.send(bo, "/session")  # a member: refused, nothing starts
    refusal = await group.receive(timeout=WAIT)
    assert refusal.text == REFUSAL and not refusal.buttons
    assert group.pinned is None

    await group.send(ada, f"/session {CASE} 60")
    message = await session_message(group)
    # In the group's language (its admin's, German): the case, the summary, whom to write
    # to, the deadline, the counts and the countdown; the two buttons.
    text = message.text
    assert "Schreibtreffen · UA 012/26" in text
    assert "Journalistin nach Recherchen über Haftzentren inhaftiert" in text
    assert "Nadia Berger sitzt seit dem 14. Januar" in text
    assert "Briefe an:" in text
    assert "3. März 2026" in text
    assert counts(message) == (0, 0)
    assert "Noch 60 Minuten" in text
    [[write, sent]] = message.buttons
    assert write.text == "✍️ Meinen Brief schreiben" and write.url is not None
    assert write.url.endswith(f"?start=session-{write.url.rsplit('-', 1)[1]}")
    assert sent.text == "✅ Ich habe ihn verschickt" and sent.callback_data
    await _wait(group, lambda: group.pinned is not None, "not pinned")
    assert group.pinned is not None and group.pinned.message_id == message.message_id

    # Two members confirm through the group's button: each hears it alone (a toast); the
    # group sees the counts.
    first = await group.tap(bo, message, sent.text)
    second = await group.tap(cy, message, sent.text)
    again = await group.tap(bo, message, sent.text)
    assert first.text == second.text == COUNTED and not first.show_alert
    assert again.text == "Schon gezählt, danke!"
    await _wait(group, lambda: counts(current(group, message)) == (2, 2), "counts not shown")
    assert not any("Bo" in m.text or "Cy" in m.text for m in group.messages)

    # The countdown: a minute later (compressed) the message says one minute less.
    await _wait(group, lambda: "Noch 59 Minuten" in current(group, message).text, "no countdown")

    await group.send(bo, "/session_end")  # not an admin
    await _wait(group, lambda: group.messages[-1].text == REFUSAL, "no refusal")
    await group.send(ada, "/session_end")
    ended = "Schreibtreffen beendet"
    await _wait(group, lambda: ended in current(group, message).text, "not ended")
    final = current(group, message)
    assert counts(final) == (2, 2)
    assert re.search(r"2 Briefe in \d+ Minuten? – danke!", final.text), final.text
    assert "Noch" not in final.text
    assert [b.text for row in final.buttons for b in row] == ["📖 Der Fall"]
    await _wait(group, lambda: group.pinned is None, "still pinned")
    await _wait(group, lambda: "🙏" in group.messages[-1].text, "no thank-you")
    assert re.search(r"^🙏 2 Briefe in \d+ Minuten? – danke!$", group.messages[-1].text)

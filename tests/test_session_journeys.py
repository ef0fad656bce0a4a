"""Writing sessions in a group, end to end (issue 15 §2): a group admin's /session, the
session message (content, pin, buttons), members confirming through its button, the paced
countdown, /session_end and time-up ends, a restart in the middle, two groups at once.

Time is compressed through ``[sessions] minute_seconds`` (a session minute lasts a second)
and the emulator's per-group limit with it (``set_group_limit``). Waits are on conditions
with generous timeouts; where a step must come before a session's end whatever the
machine's speed, the session is long and its end job is moved to now (as PTB's scheduler
would run it), instead of a short session racing the test.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from journeys import ADMIN_ID, publish, subscriber

from bot.config import Config
from bot.emulator import Emulator, SentMessage, SimGroup, SimUser
from bot.ptb import callbacks
from bot.services import sessions
from bot.services.sessions import live

CASE = "UA 012/26"
MINUTE = 1.0  # a session minute, in seconds
WAIT = 30.0  # generous: conditions, not speed
SENT = "✅ Ich habe ihn verschickt"
REFUSAL = "Nur wer die Gruppe verwaltet, kann ein Schreibtreffen starten oder beenden."
COUNTED = "Gezählt, danke! Dein Brief zählt für dieses Schreibtreffen."
ENDED = "Schreibtreffen beendet"


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    # Telegram's 20 per minute in a group, compressed like the session's minute.
    emulator.set_group_limit(20, 60 * MINUTE / 60)
    return make_config(emulator, tmp_path / "uabot.sqlite3", sessions={"minute_seconds": MINUTE})


async def local_group(
    emulator: Emulator, title: str = "Local group", first_id: int = 1, *, admin_bot: bool = True
) -> tuple[SimGroup, SimUser, list[SimUser]]:
    """A group admin and three members who started the bot, all German, and the bot in the
    group (an admin that may pin, unless ``admin_bot`` is False)."""
    admin = emulator.user(first_id, f"Admin{first_id}", language_code="de")
    members = [await subscriber(emulator, first_id + n, "de") for n in (1, 2, 3)]
    group = emulator.group(title, members=members, admins=[admin])
    group.add_bot(admin=admin_bot)
    intro = await group.receive(timeout=WAIT)  # the bot introduces itself, in German
    assert intro.text.startswith("👋"), intro.text
    return group, admin, members


async def published(emulator: Emulator, *names: str) -> None:
    """The organisation's admin publishes these action files (and reads each report)."""
    admin = emulator.user(ADMIN_ID)
    for name in names:
        await publish(admin, name)
        await admin.receive(timeout=WAIT)  # the broadcast's report


async def wait(emulator: Emulator, predicate: Callable[[], Any], what: str) -> None:
    await emulator.wait_until(predicate, WAIT, what)


def session_messages(group: SimGroup) -> list[SentMessage]:
    """The bot's messages in the group that carry a session's "I sent it"."""
    prefix = callbacks.SESSION_SENT.data(0).removesuffix("0")
    return [
        m
        for m in group.messages
        if any((b.callback_data or "").startswith(prefix) for row in m.buttons for b in row)
    ]


async def started(emulator: Emulator, group: SimGroup, admin: SimUser, args: str) -> SentMessage:
    """``/session <args>`` by the admin; the session message once it is there and pinned
    (where the bot may pin)."""
    await group.send(admin, f"/session {args}".strip())
    await wait(emulator, lambda: session_messages(group), "no session message")
    (message,) = session_messages(group)
    if group.bot_status == "administrator":
        await wait(emulator, lambda: group.pinned is not None, "not pinned")
    return message


def current(group: SimGroup, message: SentMessage) -> SentMessage:
    """A bot message in the group as it reads now (edits applied)."""
    return next(m for m in group.messages if m.message_id == message.message_id)


def counts(message: SentMessage) -> tuple[int, int]:
    """(the group's letters, the case's) from the counts line, in German."""
    match = re.search(r"(\d+) Briefe? aus dieser Gruppe · (\d+) insgesamt", message.text)
    assert match, message.text
    return int(match.group(1)), int(match.group(2))


def session_id(message: SentMessage) -> int:
    sent = message.find_button(SENT)
    assert sent is not None
    args = callbacks.SESSION_SENT.parse(sent.callback_data, int)
    assert args is not None
    return args.integer(0)


def end_now(app: Any, session: int) -> None:
    """The session's end job runs now, through PTB's scheduler (its time is up)."""
    (job,) = app.job_queue.get_jobs_by_name(live.job_name(session, live.Job.END))
    job.job.modify(next_run_time=datetime.now(UTC))


async def test_a_group_admin_runs_a_session_members_confirm_it_ends_with_thanks(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, cy, _di) = await local_group(emulator)

    await group.send(bo, "/session")  # a member: refused, nothing starts
    refusal = await group.receive(timeout=WAIT)
    assert refusal.text == REFUSAL and not refusal.buttons
    assert group.pinned is None

    message = await started(emulator, group, ada, f"{CASE} 60")
    # In the group's language (its admin's, German): the case, the summary, whom to write
    # to, the deadline, the counts and the countdown; the two buttons.
    text = message.text
    assert text.startswith("✍️ Schreibtreffen · UA 012/26\n")
    assert "Journalistin nach Recherchen über Haftzentren inhaftiert" in text
    assert "Nadia Berger sitzt seit dem 14. Januar" in text
    assert "Briefe an:" in text
    assert "3. März 2026" in text
    assert counts(message) == (0, 0)
    assert "Noch 60 Minuten" in text
    [[write, sent]] = message.buttons
    assert write.text == "✍️ Meinen Brief schreiben"
    token = (await bot.bot_data.storage.sessions.get(session_id(message))).token
    assert write.url == f"https://t.me/{bot.bot.username}?start=session-{token}"
    assert sent.text == SENT
    assert group.pinned is not None and group.pinned.message_id == message.message_id

    # Two members confirm through the group's button: each hears it alone (a toast); the
    # group sees the counts only.
    first = await group.tap(bo, message, SENT)
    second = await group.tap(cy, message, SENT)
    again = await group.tap(bo, message, SENT)
    assert first.text == second.text == COUNTED and not first.show_alert
    assert again.text == "Schon in diesem Schreibtreffen gezählt, danke!"
    await wait(emulator, lambda: counts(current(group, message)) == (2, 2), "counts not shown")
    assert not any(name in m.text for m in group.messages for name in ("User2", "User3"))

    # The countdown: a (compressed) minute later the message says one minute less.
    await wait(emulator, lambda: "Noch 59 Minuten" in current(group, message).text, "no tick")

    await group.send(bo, "/session_end")  # not an admin
    await wait(emulator, lambda: group.messages[-1].text == REFUSAL, "no refusal")
    await group.send(ada, "/session_end")
    await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
    final = current(group, message)
    assert counts(final) == (2, 2)
    assert re.search(r"2 Briefe in \d+ Minuten? – danke!", final.text), final.text
    assert "Noch" not in final.text and "Nadia Berger sitzt" not in final.text
    [[case]] = final.buttons  # no "I sent it" any more: a link to the case
    assert case.text == "📖 Der Fall" and case.url is not None and case.url.endswith("ua-012-26")
    await wait(emulator, lambda: group.pinned is None, "still pinned")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    assert re.fullmatch(r"🙏 2 Briefe in \d+ Minuten? – danke!", group.messages[-1].text)
    await group.send(ada, "/session_end")  # nothing runs any more
    await wait(emulator, lambda: "kein Schreibtreffen" in group.messages[-1].text, "no answer")
    assert len(session_messages(group)) == 0 and emulator.stats.too_many_requests == 0


async def test_what_session_refuses_and_one_session_per_group(
    emulator: Emulator, bot: Any
) -> None:
    group, ada, _members = await local_group(emulator)

    async def ask(args: str) -> str:
        before = len(group.messages)
        await group.send(ada, f"/session {args}".strip())
        await wait(emulator, lambda: len(group.messages) > before, f"no answer to {args!r}")
        return group.messages[before].text

    assert await ask("") == "Gerade ist kein Fall offen, für den Briefe gebraucht werden."
    await published(
        emulator, "ua-012-26-1.toml", "ua-012-26-2.toml", "ua-012-26-3.toml", "ua-013-26-1.toml"
    )
    assert await ask("0") == "Ein Schreibtreffen dauert 1 bis 1.440 Minuten."
    assert await ask("UA 013/26 1441") == "Ein Schreibtreffen dauert 1 bis 1.440 Minuten."
    assert (await ask("30 60")).startswith("Ein Schreibtreffen startest du mit /session")
    assert await ask("hello") == "„hello“ ist keine Fallnummer (z. B. UA 046/19)."
    closed = "Für UA 012/26 werden keine Briefe gesammelt."
    assert (await ask("UA 012/26")).startswith(closed)  # closed by its third revision
    assert (await ask("UA 999/26")).startswith(
        "Kein veröffentlichter Fall hat die Nummer UA 999/26."
    )
    assert not session_messages(group) and emulator.stats.too_many_requests == 0

    # Minutes first, then the case (and the short case number): both read.
    message = await started(emulator, group, ada, "30 013/26")
    assert "Schreibtreffen · UA 013/26" in message.text and "Noch 30 Minuten" in message.text
    running = "In dieser Gruppe läuft schon ein Schreibtreffen: /session_end beendet es."
    assert await ask(CASE) == running
    assert len(session_messages(group)) == 1


async def test_time_up_a_bot_that_may_not_pin_and_a_member_who_never_started_it(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, _cy, _di) = await local_group(emulator, admin_bot=False)
    eve = emulator.user(50, "Eve", language_code="fr")  # in the group; never wrote to the bot
    group.join(eve)

    message = await started(emulator, group, ada, "2")  # the newest open case, 2 minutes
    assert "Noch 2 Minuten" in message.text and group.pinned is None  # no right to pin

    stranger = await group.tap(eve, message, SENT)  # in her language, with the way in
    assert stranger.text is not None and stranger.text.startswith("Écrivez d’abord votre lettre")
    token = (await bot.bot_data.storage.sessions.get(session_id(message))).token
    assert stranger.url == f"https://t.me/{bot.bot.username}?start=session-{token}"
    assert (await group.tap(bo, message, SENT)).text == COUNTED

    # Its time runs out by itself: the countdown, then the end, the thank-you.
    await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
    final = current(group, message)
    assert any(old.endswith("Noch 1 Minute") for old in final.history), final.history
    assert counts(final) == (1, 1)
    assert "1 Brief in 2 Minuten – danke!" in final.text
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    assert group.messages[-1].text == "🙏 1 Brief in 2 Minuten – danke!"
    assert final.find_button(SENT) is None  # nothing left to tap
    assert emulator.stats.too_many_requests == 0


async def test_a_restart_in_the_middle_keeps_the_message_and_its_end(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, (bo, cy, di) = await local_group(emulator)
        message = await started(emulator, group, ada, f"{CASE} 600")
        assert (await group.tap(bo, message, SENT)).text == COUNTED
        await wait(emulator, lambda: counts(current(group, message)) == (1, 1), "not counted")
    # While the bot is down, Cy confirms: Telegram keeps the tap for the bot's return.
    tap = asyncio.ensure_future(group.tap(cy, message, SENT, timeout=WAIT))
    async with restart() as app:
        assert (await tap).text == COUNTED
        # The same message is edited (not a new one), the end job is there again at the
        # session's end.
        await wait(emulator, lambda: counts(current(group, message)) == (2, 2), "not edited")
        session = await app.bot_data.storage.sessions.get(session_id(message))
        (end,) = app.job_queue.get_jobs_by_name(live.job_name(session.id, live.Job.END))
        assert abs(end.next_t.timestamp() - session.ends_at) < 1.0
        assert app.job_queue.get_jobs_by_name(live.job_name(session.id, live.Job.TICK))
        assert (await group.tap(di, message, SENT)).text == COUNTED
        end_now(app, session.id)
        await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
        await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
        assert counts(current(group, message)) == (3, 3)
        assert len([m for m in group.messages if m.text.startswith("✍️")]) == 1
        assert group.pinned is None
    seen = [(m.message_id, m.edits) for m in group.messages]
    async with restart() as app:  # ended: nothing is scheduled again, nothing is posted
        assert not [j for j in app.job_queue.jobs() if j.name.startswith("session-")]
        await asyncio.sleep(0.3)
        assert [(m.message_id, m.edits) for m in group.messages] == seen


async def test_a_session_whose_time_ran_out_while_the_bot_was_down_ends_at_start(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, (bo, _cy, _di) = await local_group(emulator)
        message = await started(emulator, group, ada, "5")
        assert (await group.tap(bo, message, SENT)).text == COUNTED
        stored = await app.bot_data.storage.sessions.get(session_id(message))
        # Stop before the end job runs (whatever the machine's speed): it is cancelled.
        for job in app.job_queue.get_jobs_by_name(live.job_name(stored.id, live.Job.END)):
            job.schedule_removal()
    # The bot stays down past the session's end.
    await asyncio.sleep(max(0.0, stored.ends_at - time.time()) + 0.1)
    async with restart():
        await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
        await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
        assert counts(current(group, message)) == (1, 1)
        assert group.messages[-1].text == "🙏 1 Brief in 5 Minuten – danke!"


async def test_two_groups_hold_sessions_at_once_each_with_its_own_count(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml", "ua-013-26-1.toml")
    north, ada, north_members = await local_group(emulator, "North", 1)
    south, sam, south_members = await local_group(emulator, "South", 11)
    first = await started(emulator, north, ada, f"{CASE} 60")
    second = await started(emulator, south, sam, "UA 013/26 60")
    taps = [north.tap(m, first, SENT) for m in north_members]
    taps += [south.tap(m, second, SENT) for m in south_members[:2]]
    answers = await asyncio.gather(*taps)
    assert {a.text for a in answers} == {COUNTED}
    await wait(emulator, lambda: counts(current(north, first)) == (3, 3), "north")
    await wait(emulator, lambda: counts(current(south, second)) == (2, 2), "south")
    assert "UA 012/26" in current(north, first).text and "UA 013/26" in current(south, second).text
    await south.send(sam, "/session_end")
    await wait(emulator, lambda: ENDED in current(south, second).text, "south not ended")
    assert "Noch" in current(north, first).text  # the north's session runs on
    assert emulator.stats.too_many_requests == 0


async def test_a_429_in_a_group_moves_its_edit_and_loses_no_count(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, cy, _di) = await local_group(emulator)
    message = await started(emulator, group, ada, f"{CASE} 600")
    emulator.fail_next("editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1)
    assert (await group.tap(bo, message, SENT)).text == COUNTED
    assert (await group.tap(cy, message, SENT)).text == COUNTED
    # A private reply meanwhile is not held: the 429 was the group's, not the bot's.
    await bo.send("/mine")
    assert "UA 012/26" in (await bo.receive(timeout=WAIT)).text
    await wait(emulator, lambda: counts(current(group, message)) == (2, 2), "count lost")
    assert emulator.stats.requests["editMessageText"] >= 2
    assert bot.bot.rate_limiter.retries_after_429 == 0  # nothing waited bot-wide


async def test_a_session_ended_just_before_a_stop_shows_its_result_after_the_start(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, (bo, _cy, _di) = await local_group(emulator)
        message = await started(emulator, group, ada, f"{CASE} 600")
        assert (await group.tap(bo, message, SENT)).text == COUNTED
        await wait(emulator, lambda: counts(current(group, message)) == (1, 1), "not counted")
        # The session ends (as /session_end does) and the bot stops before its message
        # could show it: no job is left to do it.
        storage = app.bot_data.storage
        assert await sessions.end(storage, session_id(message), time.time()) is not None
        live.stop(app, session_id(message))
    assert "Noch" in current(group, message).text and group.pinned is not None
    async with restart() as app:
        await wait(emulator, lambda: ENDED in current(group, message).text, "not closed")
        await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
        await wait(emulator, lambda: group.pinned is None, "still pinned")
        assert counts(current(group, message)) == (1, 1)
        # The close is recorded once the thank-you is out: a further start closes nothing.
        storage = app.bot_data.storage
        deadline = time.monotonic() + WAIT
        while await sessions.closing(storage):
            assert time.monotonic() < deadline, "the close not recorded"
            await asyncio.sleep(0.02)
    thanks = len([m for m in group.messages if m.text.startswith("🙏")])
    async with restart():
        await asyncio.sleep(0.3)
    assert len([m for m in group.messages if m.text.startswith("🙏")]) == thanks == 1

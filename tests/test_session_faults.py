"""A group and its session when the world misbehaves (the review of issue 15): a member
flooding the group with commands, the bot removed mid-session and added again, Telegram's
429 on the pin and the unpin. The real Application against the emulator, with time
compressed as in tests/test_session_journeys.py (a session minute lasts a second)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from test_session_journeys import (  # noqa: F401  (config: compressed session minutes)
    CASE,
    ENDED,
    REFUSAL,
    SENT,
    WAIT,
    config,
    current,
    local_group,
    published,
    session_messages,
    started,
    wait,
)

from bot.config import Config
from bot.emulator import Emulator, SentMessage, SimGroup
from bot.services import sessions

HELP = "Was ich in dieser Gruppe mache"
LANGUAGE_REFUSED = "Nur wer die Gruppe verwaltet, kann ihre Sprache ändern."


def replies(group: SimGroup, start: str) -> list[SentMessage]:
    return [m for m in group.messages if m.text.startswith(start)]


def personal(group: SimGroup) -> list[SentMessage]:
    """The answers to personal commands: a button to the private chat, nothing else."""
    return [
        m
        for m in group.messages
        if m.buttons and not m.text.startswith(("👋", HELP)) and m not in session_messages(group)
    ]


async def polled(predicate: Callable[[], object], what: str) -> None:
    """Wait for what the emulator records as no change (an error it answered)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)


async def settled(emulator: Emulator, app: Any) -> None:
    """Every update the emulator queued was taken and handled, and no reply waits."""

    def idle() -> bool:
        stats = emulator.stats
        waiting = [j for j in app.job_queue.jobs() if j.name.startswith("group-reply-")]
        return (
            stats.updates_delivered >= stats.updates_enqueued
            and not app.bot_data.running.tasks
            and not waiting
        )

    await wait(emulator, idle, "updates or replies still on their way")


async def test_a_member_flooding_a_group_with_commands_stalls_nobody(
    emulator: Emulator,
    config: Config,  # noqa: F811  (the compressed one, made real time here)
    restart: Any,
) -> None:
    """Thirty /help and ten /mine from one member: each answer reaches the group once or
    twice (one waits for the group's budget, the rest are dropped), Telegram's limit for the
    group is never reached, and a private chat meanwhile is answered at once."""
    emulator.set_group_limit(20, 60.0)  # Telegram's 20 a minute in one group, real time
    async with restart(sessions=replace(config.sessions, minute_seconds=60.0)) as app:
        group, _ada, (bo, *_rest) = await local_group(emulator)
        outsider = emulator.user(777, "Outsider", language_code="en")
        for _ in range(30):
            await group.send(bo, "/help")
        for _ in range(10):
            await group.send(bo, "/mine")
        await outsider.send("/start")
        assert (await outsider.receive(timeout=WAIT)).text
        await wait(emulator, lambda: replies(group, HELP), "no /help answered")
        await settled(emulator, app)
        assert 1 <= len(replies(group, HELP)) <= 2
        assert 1 <= len(personal(group)) <= 2
        assert emulator.stats.too_many_requests == 0
        assert app.bot.rate_limiter.retries_after_429 == 0


async def test_a_429_for_a_group_holds_that_group_only(emulator: Emulator, bot: Any) -> None:
    """Telegram answers a group's reply with 429: the reply goes after its retry_after, and
    nothing else waits for it (a private chat is answered meanwhile)."""
    group, _ada, (bo, *_rest) = await local_group(emulator)
    outsider = emulator.user(777, "Outsider", language_code="en")
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    await group.send(bo, "/help")
    await polled(lambda: emulator.stats.errors_by_code[429] >= 1, "no 429")  # not a change
    await outsider.send("/start")
    answered = await outsider.receive(timeout=WAIT)
    await wait(emulator, lambda: replies(group, HELP), "the held /help never came")
    (held,) = replies(group, HELP)
    assert answered.sent_at < held.sent_at  # the private chat did not wait for the group
    assert bot.bot.rate_limiter.retries_after_429 == 0  # nothing waited bot-wide


async def test_a_flood_of_commands_during_a_session_leaves_its_edits_their_place(
    emulator: Emulator,
    config: Config,  # noqa: F811  (the compressed one, made real time here)
    restart: Any,
) -> None:
    """Four commands five times each while a session runs: each answer reaches the group at
    most twice, the session message still shows each letter, and the group's limit holds."""
    emulator.set_group_limit(20, 60.0)
    async with restart(sessions=replace(config.sessions, minute_seconds=60.0)) as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, (bo, cy, di) = await local_group(emulator)
        message = await started(emulator, group, ada, f"{CASE} 600")
        for _ in range(5):
            for command in ("help", "mine", "write", "privacy"):
                await group.send(di, f"/{command}")
        for member in (bo, cy):
            await group.tap(member, message, SENT)
        shown = "2 Briefe aus dieser Gruppe"
        await wait(emulator, lambda: shown in current(group, message).text, "a letter not shown")
        await settled(emulator, app)
        assert len(replies(group, HELP)) <= 2
        assert len(personal(group)) <= 6
        assert emulator.stats.too_many_requests == 0


async def test_different_answers_to_one_command_all_reach_a_group_whose_budget_is_full(
    emulator: Emulator,
    config: Config,  # noqa: F811  (the compressed one, made slower here)
    restart: Any,
) -> None:
    """While the group's replies wait for its budget, only identical answers merge: a
    second member's own /write link, the admin's /language picker after a member's refusal
    and the admin's mistyped /session after a member's refusal all reach the group (were
    dropped: replies were keyed by the command word)."""
    emulator.set_group_limit(20, 10.0)  # a minute of ten seconds: the budget stays full
    async with restart(sessions=replace(config.sessions, minute_seconds=10.0)) as app:
        group, ada, (bo, cy, di) = await local_group(emulator)
        for command in ("help", "actions", "archive", "privacy"):
            await group.send(bo, f"/{command}")
        for number in range(1, 11):  # ten different links: the replies' budget is spent
            await group.send(bo, f"/write UA {number:03d}/25")
        before = len(group.messages)
        await group.send(bo, "/write UA 011/26")  # waits for a place
        await group.send(cy, "/write UA 012/26")  # Cy's own case: another answer
        await group.send(di, "/language")  # a member: refused, waits
        await group.send(ada, "/language")  # the admin: the picker
        await group.send(di, "/session")  # a member: refused, waits
        await group.send(ada, "/session Amnesty")  # the admin mistyped the case

        def urls() -> list[str]:
            return [b.url or "" for m in group.messages[before:] for r in m.buttons for b in r]

        def texts() -> list[str]:
            return [m.text for m in group.messages[before:]]

        await settled(emulator, app)
        await wait(emulator, lambda: any("ua-012-26" in url for url in urls()), "Cy's link lost")
        assert any("ua-011-26" in url for url in urls()), urls()
        assert "Wähle die Sprache der Gruppe:" in texts(), texts()  # the admin's picker
        assert "„Amnesty“ ist keine Fallnummer (z. B. UA 046/19)." in texts(), texts()
        assert REFUSAL in texts() and LANGUAGE_REFUSED in texts(), texts()
        assert emulator.stats.too_many_requests == 0


async def test_a_bot_removed_mid_session_closes_its_message_when_added_again(
    emulator: Emulator, bot: Any
) -> None:
    """Removed mid-session, the bot can change nothing in the group; added again, the old
    message shows its result and is unpinned before anything else, without a late
    thank-you, and a new session is the group's only running one."""
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, _cy, _di) = await local_group(emulator)
    message = await started(emulator, group, ada, f"{CASE} 600")
    assert (await group.tap(bo, message, SENT)).text.startswith("Gezählt")
    group.remove_bot(by=ada)
    storage = bot.bot_data.storage
    deadline = asyncio.get_running_loop().time() + WAIT
    while await storage.sessions.running(group.id) is not None:
        assert asyncio.get_running_loop().time() < deadline, "not ended by the removal"
        await asyncio.sleep(0.02)
    assert group.pinned is not None  # nothing can be changed there now
    group.add_bot(admin=True)
    await wait(emulator, lambda: len(replies(group, "👋")) == 2, "no intro again")
    intro = replies(group, "👋")[-1]
    old = current(group, message)
    assert ENDED in old.text and not old.find_button(SENT), old.text
    assert group.pinned is None
    assert old.edited_at is not None and old.edited_at <= intro.sent_at  # closed first
    await group.send(ada, f"/session {CASE} 600")
    await wait(emulator, lambda: len(session_messages(group)) == 1, "no new session")
    await closed(emulator, bot)
    assert not replies(group, "🙏")  # no late thank-you


async def test_a_429_on_the_pin_and_on_the_unpin_is_tried_again(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, _members = await local_group(emulator)
    emulator.fail_next("pinChatMessage", 429, "Too Many Requests: retry after 1", 1)
    message = await started(emulator, group, ada, f"{CASE} 600")  # waits for the pin
    assert group.pinned is not None and group.pinned.message_id == message.message_id
    emulator.fail_next("unpinChatMessage", 429, "Too Many Requests: retry after 1", 1)
    await group.send(ada, "/session_end")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    assert group.pinned is None  # the unpin went before the thank-you
    assert emulator.stats.requests["unpinChatMessage"] == 2
    await closed(emulator, bot)


async def closed(emulator: Emulator, app: Any) -> None:
    """Every ended session's message is closed (the thank-you is out, or not to come)."""
    storage = app.bot_data.storage
    deadline = asyncio.get_running_loop().time() + WAIT
    while await sessions.closing(storage):
        assert asyncio.get_running_loop().time() < deadline, "a session not closed"
        await asyncio.sleep(0.02)


async def test_an_unpin_still_to_come_at_a_stop_is_done_after_the_start(
    emulator: Emulator, restart: Any
) -> None:
    """Telegram asks the bot to wait long before the unpin, and the bot stops meanwhile: the
    start unpins the ended message, and the thank-you follows once."""
    async with restart() as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, _members = await local_group(emulator)
        message = await started(emulator, group, ada, f"{CASE} 600")
        emulator.fail_next("unpinChatMessage", 429, "Too Many Requests: retry after 600", 600)
        await group.send(ada, "/session_end")
        await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
        await polled(lambda: emulator.stats.requests["unpinChatMessage"] == 1, "no unpin")
        await asyncio.sleep(0.5)  # ten of the group's spacings: no thank-you before the unpin
        assert group.pinned is not None and not replies(group, "🙏")
    async with restart() as app:
        await wait(emulator, lambda: replies(group, "🙏"), "no thank-you")
        assert group.pinned is None
        await closed(emulator, app)
    assert len(replies(group, "🙏")) == 1


async def test_a_stop_while_the_bot_is_out_of_the_group_leaves_its_message_to_close(
    emulator: Emulator, restart: Any
) -> None:
    """Removed mid-session, then a restart: nothing is tried in a group the bot is not in,
    and the message still closes (quietly) when it is added again."""
    async with restart() as app:
        await published(emulator, "ua-012-26-1.toml")
        group, ada, _members = await local_group(emulator)
        message = await started(emulator, group, ada, f"{CASE} 600")
        group.remove_bot(by=ada)
        storage = app.bot_data.storage
        deadline = asyncio.get_running_loop().time() + WAIT
        while await storage.groups.get(group.id) is not None:
            assert asyncio.get_running_loop().time() < deadline, "the removal not handled"
            await asyncio.sleep(0.02)
    async with restart() as app:
        await asyncio.sleep(0.3)
        assert await sessions.closing(app.bot_data.storage) != []
        group.add_bot(admin=True)
        await wait(emulator, lambda: len(replies(group, "👋")) == 2, "no intro again")
        assert ENDED in current(group, message).text and group.pinned is None
        await closed(emulator, app)
    assert not replies(group, "🙏")

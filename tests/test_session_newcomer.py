"""Journeys after a newcomer's walk through a group session (review rev15n): who counts in a
later session, a letter confirmed after its session, the commands a coordinator tries in
the group and in private, the newest case that is still in time, the wording of refusals."""

from __future__ import annotations

import time
from typing import Any

from test_session_journeys import (  # noqa: F401  (config: compressed session minutes)
    CASE,
    SENT,
    WAIT,
    config,
    counts,
    current,
    end_now,
    local_group,
    published,
    session_id,
    started,
    wait,
)
from test_session_links import running_session, session_link, write_letter

from bot.emulator import Emulator
from bot.services import sessions


async def test_a_member_who_wrote_for_the_case_before_counts_in_tonights_session(
    emulator: Emulator, bot: Any
) -> None:
    """Bo confirmed a letter for the case at an earlier session; tonight he writes again and
    taps "I sent it": he counts for tonight's session (the case's total stays once per
    revision), and a second tap is "already counted in this session"."""
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, _cy, _di) = await local_group(emulator)
    first = await started(emulator, group, ada, f"{CASE} 60")
    assert (await group.tap(bo, first, SENT)).text.startswith("Gezählt")
    await group.send(ada, "/session_end")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")

    tonight = await started(emulator, group, ada, f"{CASE} 60")
    toast = await group.tap(bo, tonight, SENT)
    assert toast.text == "Gezählt, danke! Dein Brief zählt für dieses Schreibtreffen."
    await wait(emulator, lambda: counts(current(group, tonight)) == (1, 1), "not counted tonight")
    again = await group.tap(bo, tonight, SENT)
    assert again.text == "Schon in diesem Schreibtreffen gezählt, danke!"
    assert counts(current(group, tonight)) == (1, 1)


async def test_a_letter_begun_in_a_session_and_confirmed_after_its_end_is_told_so(
    emulator: Emulator, bot: Any
) -> None:
    """Hanna opens the session's link and writes her letter; the session ends before she
    taps "I sent it": her toast says it counts for the case, not the group's session. The
    session message tells members to tap once their letter is written, before the end."""
    await published(emulator, "ua-012-26-1.toml")
    group, _ada, _members = await local_group(emulator, admin_bot=False)
    session = await running_session(bot, group)
    hanna = emulator.user(601, "Hanna", language_code="en")
    await hanna.send(session_link(session))
    _welcome, prompt = await hanna.receive_many(2)
    document = await write_letter(hanna, prompt)
    storage = bot.bot_data.storage
    assert await sessions.end(storage, session.id, time.time()) is not None
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert thanks.text == (
        "The group's session has ended; your letter counts for the case. Thank you!"
    )
    assert await storage.tally.count("UA 012/26") == 1


async def test_the_session_message_says_when_to_tap_i_sent_it(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, _members = await local_group(emulator)
    message = await started(emulator, group, ada, f"{CASE} 60")
    assert (
        "Tippe auf „✅ Ich habe ihn verschickt“, sobald dein Brief geschrieben ist, "
        "bevor das Schreibtreffen endet." in message.text
    ), message.text

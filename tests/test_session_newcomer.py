"""Journeys after a newcomer's walk through a group session (review rev15n): who counts in a
later session, a letter confirmed after its session, the commands a coordinator tries in
the group and in private, the newest case that is still in time, the wording of refusals."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

from journeys import ADMIN_ID, FIXTURES, subscriber
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

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
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
        "Tippt auf „✅ Ich habe ihn verschickt“, sobald euer Brief geschrieben ist, "
        "bevor das Schreibtreffen endet." in message.text
    ), message.text


async def test_in_a_group_actions_lists_the_open_cases_and_start_introduces_the_bot(
    emulator: Emulator, bot: Any
) -> None:
    """A coordinator preparing a session: /actions in the group lists the open cases by
    number and title (to choose one for /session), /start there is the introduction, and
    /help shows how to name a case and the minutes."""
    await published(emulator, "ua-012-26-1.toml", "ua-013-26-1.toml")
    group, ada, _members = await local_group(emulator)
    await group.send(ada, "/actions")
    listing = await group.receive(timeout=WAIT)
    assert "persönlich" not in listing.text
    lines = listing.text.splitlines()
    assert lines[0] == "Offene Aktionen"
    assert lines[1].startswith("UA 013/26 · ") and lines[2].startswith("UA 012/26 · "), lines
    # The example names the first case listed, as the group reads it (was UA 046/19).
    assert lines[-1] == (
        "Wer die Gruppe verwaltet, startet für eine davon ein Schreibtreffen: "
        "/session UA 013/26 60"
    ), lines

    await group.send(ada, "/start")
    intro = await group.receive(timeout=WAIT)
    assert intro.text.startswith("👋 Hallo!"), intro.text
    await group.send(ada, "/start sessions")  # what Telegram's "add to group" link sends
    assert (await group.receive(timeout=WAIT)).text.startswith("👋 Hallo!")

    await group.send(ada, "/help")
    help_text = (await group.receive(timeout=WAIT)).text
    assert "/session UA 046/19 60" in help_text, help_text

    await group.send(ada, "/privacy")
    privacy = (await group.receive(timeout=WAIT)).text
    assert "persönlich" not in privacy.splitlines()[0] or "Personal" in privacy
    assert "jede Nachricht der Gruppe" in privacy, privacy


async def test_in_private_session_and_help_tell_how_a_group_gets_a_session(
    emulator: Emulator, bot: Any
) -> None:
    noor = await subscriber(emulator, 80, "en")
    await noor.send("/session")
    answer = await noor.receive(timeout=WAIT)
    assert "group" in answer.text and "/session UA 046/19 60" in answer.text, answer.text
    [[add]] = answer.buttons
    assert add.text == "➕ Add me to your group"
    assert add.url == f"https://t.me/{bot.bot.username}?startgroup=sessions&admin=pin_messages"
    await noor.send("/help")
    help_message = await noor.receive(timeout=WAIT)
    assert "writing session there with /session" in help_message.text
    assert help_message.buttons[-1][0].url == add.url
    await noor.send("/start")
    welcome = await noor.receive(timeout=WAIT)
    assert "writing session there with /session" in welcome.text
    assert welcome.buttons[-1][0].url == add.url


async def test_a_bot_that_may_not_pin_says_how_to_let_it(emulator: Emulator, bot: Any) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, _members = await local_group(emulator, admin_bot=False)
    await started(emulator, group, ada, f"{CASE} 60")
    hint = (
        "Ich konnte die Nachricht des Schreibtreffens nicht anheften. Damit ich sie nächstes "
        "Mal anhefte, mach mich zum Admin, nur mit dem Recht, Nachrichten anzuheften."
    )
    await wait(emulator, lambda: any(m.text == hint for m in group.messages), "no hint")
    assert sum(m.text == hint for m in group.messages) == 1
    assert group.pinned is None


async def test_session_alone_skips_cases_past_their_deadline(
    emulator: Emulator, bot: Any, monkeypatch: Any
) -> None:
    """/session with no case takes the newest case still in time (013/26 passed its deadline,
    though issued after 012/26); named, a case past its deadline starts, and its message
    says the deadline passed."""
    storage = bot.bot_data.storage
    for name, deadline in (("ua-012-26-1.toml", "2026-04-30"), ("ua-013-26-1.toml", "2026-03-01")):
        text = (FIXTURES / name).read_text(encoding="utf-8")
        text = re.sub(r"(?m)^deadline = \S+", f"deadline = {deadline}", text)
        revision = parse_action(
            text.encode(), source=name, languages=("en", "de", "fr"), default_language="en"
        )
        await import_revision(storage, revision, by=None)
        assert await publish(storage, revision.case, revision.revision, None)
    monkeypatch.setattr(bot.bot_data, "today", lambda: date(2026, 3, 10))
    group, ada, _members = await local_group(emulator)
    message = await started(emulator, group, ada, "60")
    assert "Schreibtreffen · UA 012/26" in message.text, message.text
    await group.send(ada, "/session_end")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    named = await started(emulator, group, ada, "UA 013/26 60")
    assert "⌛ Frist am 1. März 2026 abgelaufen." in named.text, named.text


async def test_what_session_says_to_a_word_or_an_unknown_number(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada, _members = await local_group(emulator)
    await group.send(ada, "/session kasachstan")
    assert (await group.receive(timeout=WAIT)).text == (
        "„kasachstan“ ist keine Fallnummer (z. B. UA 046/19)."
    )
    await group.send(ada, "/session UA 999/26")
    assert (await group.receive(timeout=WAIT)).text == (
        "Kein veröffentlichter Fall hat die Nummer UA 999/26. /actions listet die offenen auf."
    )


async def test_stats_tell_who_came_only_through_a_session_from_who_paused(
    emulator: Emulator, bot: Any
) -> None:
    """Hanna came through a session's link and never subscribed: not "paused" in /stats
    (which counts those who turned alerts off), but on a line of her own."""
    await published(emulator, "ua-012-26-1.toml")
    group, _ada, _members = await local_group(emulator, admin_bot=False)
    session = await running_session(bot, group)
    hanna = emulator.user(601, "Hanna", language_code="en")
    await hanna.send(session_link(session))
    await hanna.receive_many(2)
    admin = emulator.user(ADMIN_ID)
    await admin.send("/stats")
    report = (await admin.receive(timeout=WAIT)).text
    assert "active: 3" in report and "paused: 0" in report, report
    assert "never subscribed (e.g. came through a group's session): 1" in report, report

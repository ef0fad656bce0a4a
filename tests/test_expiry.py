"""Journeys: deadlines pass. The card says so, /actions lists the case under "recently expired"
for ``actions.expired_days`` (14) days and then leaves it to /archive, a late letter comes with
a note, no reminder goes out, and `uabot check` and the upload preview warn."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, TODAY, publish, subscriber, upload

from bot.cli import main
from bot.config import ActionsConfig
from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import format_date
from bot.services.scheduling import REMINDERS_JOB

DEADLINE = date(2026, 3, 3)  # of ua-012-26-1.toml
LATE_NOTE = "check with the organisation before sending a late letter"


def admin_of(emulator: Emulator) -> SimUser:
    """The admin, not subscribed: their chat holds the reports only."""
    return emulator.user(ADMIN_ID, first_name="Admin", language_code="en")


async def publish_quietly(admin: SimUser, name: str) -> None:
    await publish(admin, name)
    while "Broadcast finished" not in (await admin.receive(timeout=10)).text:
        pass


async def actions(user: SimUser) -> SentMessage:
    await user.send("/actions")
    return await user.receive()


def labels(message: SentMessage) -> list[str]:
    return [button.text for row in message.buttons for button in row]


async def test_an_expired_case_is_recently_expired_then_only_in_the_archive(
    emulator: Emulator, bot: Any
) -> None:
    reader, german = await subscriber(emulator, 1, "en"), await subscriber(emulator, 2, "de")
    admin = admin_of(emulator)
    await publish_quietly(admin, "ua-012-26-1.toml")  # deadline March 3
    await publish_quietly(admin, "ua-013-26-1.toml")  # deadline March 16
    pushed = (await reader.receive_many(2))[0]
    await german.receive_many(2)
    assert "⏰ Please write before March 3, 2026." in pushed.text  # on TODAY, February 1
    listing = await actions(reader)
    assert "Recently expired" not in listing.text
    assert not [label for label in labels(listing) if label.startswith("⌛")]

    bot.bot_data.today = lambda: date(2026, 3, 10)  # a week past UA 012/26's deadline
    listing = await actions(reader)
    assert listing.text == (
        "Open actions\n"
        "⌛ Recently expired: the deadline has passed; a late letter may still help, check with"
        " the organisation first.\n"
        "Tap a case to see it."
    )
    assert labels(listing)[0].startswith("UA 013/26 · ")  # in time first
    assert labels(listing)[1].startswith("⌛ UA 012/26 · ")
    await reader.tap(listing, labels(listing)[1])
    card = await reader.receive()
    assert "⌛ Deadline passed on March 3, 2026." in card.text
    assert "Please write before" not in card.text
    assert "✍️ Write a letter" in labels(card)  # letters stay possible
    listing = await actions(german)
    await german.tap(listing, labels(listing)[1])
    german_card = await german.receive()
    passed = format_date(DEADLINE, "de")
    assert f"⌛ Frist am {passed} abgelaufen." in german_card.text, german_card.text

    bot.bot_data.today = lambda: date(2026, 3, 17)  # 14 days past: the last day listed
    assert "⌛ UA 012/26 · " in labels(await actions(reader))[1]

    bot.bot_data.today = lambda: date(2026, 3, 18)  # 15 days past: archive only
    listing = await actions(reader)
    assert not [label for label in labels(listing) if "UA 012/26" in label]
    assert labels(listing)[0].startswith("⌛ UA 013/26 · ")  # past by two days now
    # One heading, what it means, then what to do.
    assert listing.text == (
        "Recently expired\n"
        "There are no open actions right now.\n"
        "⌛ Their deadline has passed; a late letter may still help, check with the"
        " organisation first.\n"
        "Tap a case to see it."
    )
    await reader.send("/archive")
    archive = await reader.receive()
    assert "UA 012/26" in archive.text and "UA 013/26" not in archive.text
    assert "⌛ Deadline passed on March 3, 2026." in archive.text
    assert "Letters helped" not in archive.text  # no good outcome yet


async def test_expired_days_comes_from_the_config(emulator: Emulator, restart: Any) -> None:
    async with restart(actions=ActionsConfig(expired_days=0)) as app:
        reader = await subscriber(emulator, 3, "en")
        await publish_quietly(admin_of(emulator), "ua-012-26-1.toml")
        await reader.receive()
        app.bot_data.today = lambda: DEADLINE  # on the day: still in time
        assert "⌛" not in " ".join(labels(await actions(reader)))
        app.bot_data.today = lambda: date(2026, 3, 4)  # one day past, with expired_days = 0
        assert "no open actions" in (await actions(reader)).text


async def test_a_late_letter_gets_a_note_first(emulator: Emulator, bot: Any) -> None:
    reader = await subscriber(emulator, 4, "en")
    await publish_quietly(admin_of(emulator), "ua-012-26-1.toml")
    card = await reader.receive()
    await reader.tap(card, "✍️ Write a letter")
    first = await reader.receive()
    assert "In which language" in first.text  # in time: no note
    await reader.send("/cancel")
    await reader.receive()

    bot.bot_data.today = lambda: date(2026, 3, 4)
    await reader.tap(card, "✍️ Write a letter")
    note = await reader.receive()
    assert "⌛ The deadline of UA 012/26 passed on March 3, 2026." in note.text
    assert LATE_NOTE in note.text
    assert "In which language" in (await reader.receive()).text  # the letter goes on
    await reader.send("/cancel")
    await reader.receive()
    french = await subscriber(emulator, 5, "fr")
    assert "Délai échu le 3 mars 2026" in (await french.receive()).text  # the open cases
    await french.send("/write UA 012/26")
    note = await french.receive()
    assert "3 mars 2026" in note.text and "vérifiez auprès de l’organisation" in note.text


async def test_no_reminder_for_an_expired_case(emulator: Emulator, bot: Any) -> None:
    reader = await subscriber(emulator, 6, "en")
    await publish_quietly(admin_of(emulator), "ua-012-26-1.toml")
    await reader.receive()
    listing = await actions(reader)
    await reader.tap(listing, labels(listing)[0])  # opening the card asks for a reminder
    await reader.receive()
    (job,) = bot.job_queue.get_jobs_by_name(REMINDERS_JOB)
    for day in (date(2026, 3, 4), date(2026, 3, 10)):  # past the deadline: never
        bot.bot_data.today = lambda day=day: day
        await job.run(bot)
        await reader.expect_silence(0.2)
    bot.bot_data.today = lambda: DEADLINE  # the control: on the day it would go
    await job.run(bot)
    assert "Reminder: letters for UA 012/26 are needed by" in (await reader.receive()).text


def past_file(tmp_path: Path, deadline: str) -> Path:
    text = (FIXTURES / "ua-012-26-1.toml").read_text("utf-8")
    path = tmp_path / f"deadline-{deadline}.toml"
    path.write_text(text.replace("deadline = 2026-03-03", f"deadline = {deadline}"), "utf-8")
    return path


def test_uabot_check_warns_of_a_past_deadline_and_refuses_one_before_issued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    past = past_file(tmp_path, "2026-01-25")  # after issued (January 20), before TODAY
    assert main(["check", str(past)]) == 0  # a warning, not a problem
    captured = capsys.readouterr()
    assert (
        f"warning: {past}: deadline: 2026-01-25 is already past (today is "
        f"{TODAY.isoformat()}): the case will show"
    ) in captured.err
    assert "ok: UA 012/26" in captured.out

    current = FIXTURES / "ua-012-26-1.toml"
    assert main(["check", str(current)]) == 0
    assert "deadline:" not in capsys.readouterr().err

    before = past_file(tmp_path, "2026-01-10")
    assert main(["check", str(before)]) == 1
    assert (
        f"{before}: deadline: 2026-01-10 is before issued (2026-01-20)" in capsys.readouterr().err
    )


async def test_the_upload_preview_warns_of_a_past_deadline(
    emulator: Emulator, bot: Any, tmp_path: Path
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    past = past_file(tmp_path, "2026-01-25")
    await admin.upload("late.toml", past.read_bytes(), mime_type="application/toml")
    preview = await admin.receive()
    assert "• deadline: 2026-01-25 is already past (today is 2026-02-01)" in preview.text
    assert "⌛ Deadline passed on January 25, 2026." in preview.text  # the card as it will look
    assert "📣 Publish" in labels(preview)
    before = past_file(tmp_path, "2026-01-10")
    await admin.upload("typo.toml", before.read_bytes(), mime_type="application/toml")
    refusal = await admin.receive()
    assert "deadline: 2026-01-10 is before issued (2026-01-20)" in refusal.text
    assert not refusal.buttons
    fine = await upload(admin, "ua-013-26-1.toml")
    assert "already past" not in fine.text and "Please write before" in fine.text

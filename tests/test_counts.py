"""Every count stays exact and honest: who is reminded, what a tap counts, how people are
counted, what the CSV lets a spreadsheet do, how long texts are cut, when dialogues end."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, publish, subscriber, time_out, upload
from telegram.error import BadRequest

from bot.emulator import Emulator, SentMessage, SimUser
from bot.ptb.text import MESSAGE_LIMIT, chunk_plain, truncate, utf16_length, visible_length
from bot.services.reports import letters_csv
from bot.services.scheduling import REMINDER_LEASE, REMINDERS_JOB
from bot.storage import LetterCount, Storage

CASE = "UA 012/26"
STALE = "This button no longer works"


def admin_of(emulator: Emulator) -> SimUser:
    return emulator.user(ADMIN_ID, first_name="Admin", language_code="en")


async def published(emulator: Emulator, name: str, *readers: SimUser) -> list[SentMessage]:
    """The admin publishes a fixture; returns each reader's pushed card."""
    admin = admin_of(emulator)
    await publish(admin, name)
    await admin.receive()  # the report
    return [await reader.receive() for reader in readers]


async def run_job(app: Any, name: str) -> None:
    (job,) = app.job_queue.get_jobs_by_name(name)
    await job.run(app)


async def open_card(user: SimUser) -> None:
    """Open the newest case's card from /actions (this is what makes a reminder due)."""
    await user.send("/actions")
    listing = await user.receive()
    await user.tap(listing, listing.buttons[0][0].text)
    await user.receive()


def reminders_of(user: SimUser) -> list[SentMessage]:
    return [m for m in user.messages if "Reminder:" in (m.text or "")]


# -- 1. reminders: a letter for any revision of the case is a letter for the case -------------


async def test_a_letter_for_an_earlier_revision_means_no_reminder(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        wrote, did_not = await subscriber(emulator, 1, "en"), await subscriber(emulator, 2, "en")
        (card, _other) = await published(emulator, "ua-012-26-1.toml", wrote, did_not)
        for user in (wrote, did_not):
            await open_card(user)
        assert "Thank you" in (await wrote.tap(card, "✅ I sent it")).text
        await published(emulator, "ua-012-26-2.toml", wrote, did_not)  # deadline April 10
        app.bot_data.today = lambda: date(2026, 4, 8)
        await run_job(app, REMINDERS_JOB)
        assert "Reminder: letters for UA 012/26" in (await did_not.receive()).text
        await wrote.expect_silence(0.3)
        assert reminders_of(wrote) == []


# -- 8. a reminder is marked sent only once Telegram accepted it ------------------------------


async def test_a_reminder_that_failed_goes_out_at_the_next_run_and_never_twice(
    emulator: Emulator, restart: Any
) -> None:
    async with restart() as app:
        user = await subscriber(emulator, 3, "en")
        await published(emulator, "ua-012-26-1.toml", user)
        await open_card(user)
        app.bot_data.today = lambda: date(2026, 3, 1)
        emulator.http_error(502, methods=("sendMessage",), chats=(user.id,))
        await run_job(app, REMINDERS_JOB)
        emulator.end_http_error()
        await user.expect_silence(0.3)
        assert reminders_of(user) == []
        await run_job(app, REMINDERS_JOB)  # Telegram answers again: now it goes
        assert "Reminder:" in (await user.receive()).text
        await run_job(app, REMINDERS_JOB)
    async with restart() as app:
        app.bot_data.today = lambda: date(2026, 3, 2)
        await run_job(app, REMINDERS_JOB)
        await user.expect_silence(0.3)
    assert len(reminders_of(user)) == 1


async def test_a_reminder_claimed_by_a_run_that_crashed_is_sent_after_the_lease(
    tmp_path: Path,
) -> None:
    storage = await Storage.open(tmp_path / "lease.sqlite3")
    try:
        reminders = storage.reminders
        await storage.users.subscribe(7, "en")
        await reminders.interested(7, CASE)
        assert [due.user_id for due in await reminders.due(CASE, 1)] == [7]
        assert await reminders.claim(7, CASE, 1, 1000.0, REMINDER_LEASE)
        # The run crashed here, between claiming and sending: nothing was marked sent.
        assert not await reminders.claim(7, CASE, 1, 1000.0 + REMINDER_LEASE - 1, REMINDER_LEASE)
        assert await reminders.claim(7, CASE, 1, 1000.0 + REMINDER_LEASE, REMINDER_LEASE)
        await reminders.mark_reminded(7, CASE, 1)
        assert await reminders.due(CASE, 1) == []
        assert not await reminders.claim(7, CASE, 1, 10**9, REMINDER_LEASE)
        assert [due.user_id for due in await reminders.due(CASE, 2)] == [7]  # a new revision
    finally:
        await storage.db.close()


# -- 2. after /forget an old "I sent it" counts nothing ----------------------------------------


async def test_an_old_i_sent_it_after_forget_counts_nothing_and_recreates_nobody(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 4, "de")
    (card,) = await published(emulator, "ua-012-26-1.toml", user)
    await user.tap(card, card.buttons[1][0].text)
    await user.send("/forget")
    await user.tap(await user.receive(), "Ja, alles löschen")
    await emulator.wait_until(lambda: "gelöscht" in (user.messages[-1].text or ""))
    answer = await user.tap(card, card.buttons[1][0].text)
    assert "/start" in answer.text and "nicht (mehr)" in answer.text
    storage = bot.bot_data.storage
    assert await storage.tally.count(CASE) == 1
    assert await storage.users.get(user.id) is None


# -- 3. only published revisions and the case's letter languages count -----------------------


async def test_crafted_i_sent_it_buttons_count_nothing_and_show_no_draft(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 5, "en")
    (card,) = await published(emulator, "ua-012-26-1.toml", user)
    before = card.text
    draft = await upload(admin_of(emulator), "ua-012-26-2.toml")  # previewed, not published
    assert "Follow-up 2 of case UA 012/26" in draft.text
    crafted = [
        "v1:sent:012/26:2",  # the unpublished draft
        'v1:sent:012/26:1:=HYPERLINK("x")',  # a language the case has no letter in
        "v1:sent:012/26:1:it",
        "v1:sent:012/26:x",  # not a revision number
        "v1:sent:012/26",  # too short
        "v1:sent:999/26:1",  # no such case
    ]
    for data in crafted:
        answer = await user.tap(card, "✅ I sent it", crafted=data)
        assert STALE in answer.text, data
    storage = bot.bot_data.storage
    assert await storage.tally.count(CASE) == 0
    assert await storage.stats.letters() == []
    # The real document button names a language the case has: that one counts.
    answer = await user.tap(card, "✅ I sent it", crafted="v1:sent:012/26:1:de")
    assert "Thank you" in answer.text
    (row,) = await storage.stats.letters()
    assert (row.revision, row.language, row.letters) == (1, "de", 1)
    await emulator.wait_until(lambda: "1 letter sent" in card.text)
    assert card.history == [before]  # only the counted tap edited the card: no draft shown


async def test_a_crafted_button_for_the_closure_counts_nothing(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 6, "en")
    (card,) = await published(emulator, "ua-012-26-1.toml", user)
    for name in ("ua-012-26-2.toml", "ua-012-26-3.toml"):
        await published(emulator, name, user)
    answer = await user.tap(card, "✅ I sent it", crafted="v1:sent:012/26:3")
    assert STALE in answer.text
    assert await bot.bot_data.storage.tally.count(CASE) == 0


# -- 5. people are counted once, whatever the revisions -----------------------------------------


async def test_one_person_for_two_revisions_is_one_person(emulator: Emulator, bot: Any) -> None:
    ada, ben, eve = [await subscriber(emulator, uid, "en") for uid in (11, 12, 13)]
    ada_card, ben_card, _ = await published(emulator, "ua-012-26-1.toml", ada, ben, eve)
    assert "Yours is the first letter" in (await ada.tap(ada_card, "✅ I sent it")).text
    (ada_follow_up, _b, _e) = await published(emulator, "ua-012-26-2.toml", ada, ben, eve)
    second = (await ada.tap(ada_follow_up, "✅ I sent it")).text
    assert "thank you" in second.lower() and "one of" not in second and "2 letters sent" in second
    assert "one of 2 people" in (await ben.tap(ben_card, "✅ I sent it")).text
    storage = bot.bot_data.storage
    assert (await storage.tally.count(CASE), await storage.tally.people(CASE)) == (3, 2)

    closure = await published(emulator, "ua-012-26-3.toml", ada, ben, eve)
    assert "Your letter was one of 2. Thank you!" in closure[0].text
    assert "Your letter was one of 2. Thank you!" in closure[1].text
    assert "3 letters sent" in closure[2].text  # the letters, for those who did not write

    await ada.send("/forget")
    await ada.tap(await ada.receive(), "Yes, delete everything")
    await emulator.wait_until(lambda: "is deleted" in (ada.messages[-1].text or ""))
    assert (await storage.tally.count(CASE), await storage.tally.people(CASE)) == (3, 2)


# -- 4. the CSV export runs no formulas -------------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote() -> None:
    dangerous = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
    rows = [LetterCount(CASE, 1, value, 2) for value in dangerous]
    rows.append(LetterCount(CASE, 2, "de", 3))
    data = letters_csv(rows).decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(data, newline="")))
    assert [row["language"] for row in parsed] == ["'" + value for value in dangerous] + ["de"]
    assert parsed[-1] == {
        "case": CASE,
        "revision": "2",
        "language": "de",
        "letters": "3",
        "groups": "",
        "sessions": "",
        "session_letters": "",
    }


# -- 6. long texts are cut by Telegram's measure: UTF-16 code units ---------------------------


def test_chunks_fit_in_utf16_units() -> None:
    text = "✊🏽 " * 3000  # 3 characters, 4 UTF-16 units each
    pieces = chunk_plain(text, 1000)
    assert all(utf16_length(piece) <= 1000 for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert visible_length("<b>😀</b> &amp;") == 4


async def test_an_emoji_rich_body_arrives_whole_in_read_more(emulator: Emulator, bot: Any) -> None:
    paragraph = " ".join(f"✊🏽 free her {n} 🕊️" for n in range(900))  # ~12,600 characters
    source = (FIXTURES / "ua-013-26-1.toml").read_text("utf-8")
    source = re.sub(
        r'(\[text\.en\][^\[]*?body = """).*?"""',
        rf'\g<1>{paragraph}"""',
        source,
        count=1,
        flags=re.S,
    )
    reader = await subscriber(emulator, 14, "en")
    admin = admin_of(emulator)
    await admin.upload("emoji.toml", source.encode(), mime_type="application/toml")
    await admin.tap(await admin.receive(), "📣 Publish")
    card = await reader.receive()
    await reader.tap(card, "📖 Read more")
    parts = []
    while not parts or "Write to" not in parts[-1].text:
        parts.append(await reader.receive())
    assert len(parts) >= 4
    assert all(utf16_length(part.text) <= MESSAGE_LIMIT for part in parts)
    delivered = " ".join(part.text for part in parts)
    assert all(f"free her {n} " in delivered for n in range(900))


async def test_the_emulator_counts_utf16_units_like_telegram(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 15, "en")
    await bot.bot.send_message(user.id, "😀" * 2048)  # 4,096 units: the limit
    assert (await user.receive()).text == "😀" * 2048
    with pytest.raises(BadRequest, match="too long"):
        await bot.bot.send_message(user.id, "😀" * 2049)  # 2,049 characters, 4,098 units


# -- 7. /close and /announce end when left alone ------------------------------------------------


@pytest.mark.parametrize(
    ("command", "name", "note"),
    [
        ("/close UA 012/26", "close", "Closing the case was left for 30 minutes"),
        ("/announce", "announce", "The announcement was left for 30 minutes"),
    ],
)
async def test_an_admin_dialogue_left_alone_ends_and_takes_no_later_text(
    emulator: Emulator, restart: Any, command: str, name: str, note: str
) -> None:
    async with restart() as app:
        reader = await subscriber(emulator, 16, "en")
        await published(emulator, "ua-012-26-1.toml", reader)
        admin = admin_of(emulator)
        await admin.send(command)
        assert "in English" in (await admin.receive()).text  # the first question
        await time_out(app, name, ADMIN_ID)
        assert note in (await admin.receive(timeout=10)).text
        await admin.send("Best regards, the admin")  # days later, a signature
        assert "I only understand commands" in (await admin.receive()).text
        storage = app.bot_data.storage
        latest = await storage.revisions.latest(CASE)
        assert latest is not None and latest.revision == 1
        assert await storage.broadcasts.unfinished() == []
        await reader.expect_silence(0.3)


async def test_a_close_dialogue_restored_after_a_restart_still_expires(
    emulator: Emulator, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    admin = admin_of(emulator)
    async with restart() as app:
        reader = await subscriber(emulator, 17, "en")
        await published(emulator, "ua-012-26-1.toml", reader)
        await admin.send("/close UA 012/26")
        assert "in English" in (await admin.receive()).text
        await app.update_persistence()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 30 * 60 + 60)
    async with restart() as app:  # PTB restores the state, but not its timeout job
        await admin.send("Kind regards, the admin")
        assert "has expired" in (await admin.receive()).text
        await admin.send("She was released.")
        assert "I only understand commands" in (await admin.receive()).text
        latest = await app.bot_data.storage.revisions.latest(CASE)
        assert latest is not None and latest.revision == 1


def test_truncate_keeps_whole_characters_within_utf16_units() -> None:
    assert truncate("ab😀c", 3) == "ab"  # the emoji would need units 3 and 4
    assert truncate("ab😀c", 4) == "ab😀"
    assert utf16_length(truncate("😀" * 3000, 3500)) == 3500

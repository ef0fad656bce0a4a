"""Journeys: /close records how a case ended, the closure card shows the outcome instead of the
open case's summary, /archive lists the cases that ended (paged), and "Letters helped in N
cases" appears in /start and /archive once a case ended well."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, TODAY, publish, subscriber, upload

from bot.actions.model import ActionRevision
from bot.actions.parse import ActionFileError, check_action, parse_action
from bot.emulator import Emulator, SentMessage, SimUser
from bot.i18n import format_date

SUMMARY = "has not been allowed to see her lawyer"  # UA 012/26's summary while open
OUTCOME = "Nadia Berger was released on 3 March; all charges were dropped."
LANGUAGES = ("en", "de", "fr")
NOTE_EN = "This action is not available in your language"
NOTE_DE = "Diese Aktion gibt es nicht in deiner Sprache; hier ist sie auf Englisch."


def admin_of(emulator: Emulator) -> SimUser:
    return emulator.user(ADMIN_ID, first_name="Admin", language_code="en")


async def finished(admin: SimUser) -> None:
    while "Broadcast finished" not in (await admin.receive(timeout=10)).text:
        pass


def labels(message: SentMessage) -> list[str]:
    return [button.text for row in message.buttons for button in row]


async def close_with(admin: SimUser, case: str, kind: str) -> SentMessage:
    """/close with the English outcome, the others skipped, then ``kind``; returns the preview
    (not yet confirmed)."""
    await admin.send(f"/close {case}")
    await admin.receive()
    await admin.send(OUTCOME)
    question = await admin.receive()
    while "⏭ Skip" in labels(question):  # each other language of the case
        await admin.tap(question, "⏭ Skip")
        question = await admin.receive()
    assert "Was the outcome good, mixed or bad" in question.text
    assert labels(question) == ["🟢 Good outcome", "🟡 Mixed outcome", "🔴 Bad outcome"]
    await admin.tap(question, kind)
    preview = await admin.receive()
    assert question.text == f"{kind} ✓" and not question.buttons  # the answer stays
    return preview


async def test_a_good_closure_through_close_reaches_the_archive_and_start(
    emulator: Emulator, bot: Any
) -> None:
    writer, reader = await subscriber(emulator, 1, "en"), await subscriber(emulator, 2, "de")
    admin = admin_of(emulator)
    await publish(admin, "ua-012-26-1.toml")
    await finished(admin)
    card = await writer.receive()
    await reader.receive()
    await writer.tap(card, "✅ I sent it")
    newcomer = emulator.user(3, first_name="New", language_code="en")
    await newcomer.send("/start")
    assert "Letters helped" not in (await newcomer.receive()).text  # N = 0: no line

    preview = await close_with(admin, "UA 012/26", "🟢 Good outcome")
    assert "Close UA 012/26?" in preview.text
    assert "🟢 Good outcome" in preview.text and OUTCOME in preview.text
    assert SUMMARY not in preview.text  # the closure does not repeat the open case
    await admin.tap(preview, "✅ Close the case")
    await finished(admin)
    closure = await writer.receive()
    assert "✅ Case closed · FI 012/26-2" in closure.text
    assert f"Closed on {format_date(TODAY, 'en')}. {OUTCOME}" in closure.text
    assert SUMMARY not in closure.text
    assert "Yours was the only letter. Thank you!" in closure.text
    assert NOTE_EN not in closure.text
    german = (await reader.receive()).text
    assert "🟢 Guter Ausgang" in german and "darf ihren Anwalt" not in german, german
    # The admin skipped the German outcome: the English one is said to be a stand-in.
    assert f"🟢 Guter Ausgang\nAbgeschlossen am {format_date(TODAY, 'de')}. {OUTCOME}" in german
    assert german.endswith(NOTE_DE), german
    stored = await bot.bot_data.storage.revisions.latest("UA 012/26")
    assert ActionRevision.from_json(stored.content).outcome == "good"

    await writer.send("/archive")
    archive = await writer.receive()
    assert "Letters helped in 1 case." in archive.text
    assert labels(archive) == ["UA 012/26 · Journalist detained for reporting on de…"]
    await writer.tap(archive, labels(archive)[0])
    card = (await writer.receive()).text
    assert card.startswith("✅ Case closed · FI 012/26-2\n") and OUTCOME in card, card
    assert "<b>" not in archive.text  # HTML, rendered
    entry = archive.text.split("UA 012/26 · ", 1)[1]
    assert entry.startswith("Journalist detained for reporting on detention centres\n")
    assert "🟢 Good outcome\nClosed on February 1, 2026. Nadia Berger was released" in entry
    assert "✉️ 1 letter sent" in entry
    await reader.send("/archive")
    assert "Briefe haben in 1 Fall geholfen." in (await reader.receive()).text

    late = emulator.user(4, first_name="Late", language_code="fr")
    await late.send("/start")
    helped = "Les lettres ont contribué à une issue favorable dans 1 cas."
    assert helped in (await late.receive()).text
    await writer.send("/actions")
    assert "/archive shows the cases that ended" in (await writer.receive()).text


async def test_a_good_closure_without_letters_is_not_counted_as_helped(
    emulator: Emulator, bot: Any
) -> None:
    """No confirmed letter, no claim that letters helped; one confirmation makes it count."""
    admin = admin_of(emulator)
    writer = await subscriber(emulator, 7, "en")
    for name in ("ua-012-26-1.toml", "ua-013-26-1.toml"):
        await publish(admin, name)
        await finished(admin)
    written = (await writer.receive_many(2))[1]
    assert "UA 013/26" in written.text
    await writer.tap(written, "✅ I sent it")
    await admin.tap(await close_with(admin, "UA 012/26", "🟢 Good outcome"), "✅ Close the case")
    await finished(admin)
    await writer.receive()
    await writer.send("/archive")
    archive = (await writer.receive()).text
    assert "🟢 Good outcome" in archive and "0 letters sent" in archive
    assert "Letters helped" not in archive
    await admin.tap(await close_with(admin, "UA 013/26", "🟢 Good outcome"), "✅ Close the case")
    await finished(admin)
    await writer.receive()
    await writer.send("/archive")
    assert "Letters helped in 1 case." in (await writer.receive()).text


async def test_news_only_in_english_is_said_to_be_so_to_a_german_reader(
    emulator: Emulator, bot: Any
) -> None:
    """A follow-up whose German text lacks the news shows the English news, with the note."""
    admin = admin_of(emulator)
    reader = await subscriber(emulator, 6, "de")
    await publish(admin, "ua-012-26-1.toml")
    await finished(admin)
    await reader.receive()
    follow_up = (FIXTURES / "ua-012-26-2.toml").read_text("utf-8")
    german_news = 'update = "Am 10. Februar verlängerte'
    assert german_news in follow_up
    follow_up = follow_up.replace(german_news, '# update = "Am 10. Februar verlängerte')
    await admin.upload("ua-012-26-2.toml", follow_up.encode(), mime_type="application/toml")
    await admin.tap(await admin.receive(), "📣 Publish")
    await finished(admin)
    card = (await reader.receive()).text
    assert "Untersuchungshaft der Journalistin" in card  # German, but for the news
    assert "On 10 February a court extended her pre-trial detention" in card, card
    assert card.endswith(NOTE_DE), card


async def test_mixed_and_bad_outcomes_are_archived_but_not_counted_as_helped(
    emulator: Emulator, bot: Any
) -> None:
    admin = admin_of(emulator)
    reader = await subscriber(emulator, 5, "en")
    await publish(admin, "ua-012-26-1.toml")
    await finished(admin)
    await publish(admin, "ua-013-26-1.toml")
    await finished(admin)
    await reader.receive_many(2)
    await admin.tap(await close_with(admin, "UA 012/26", "🟡 Mixed outcome"), "✅ Close the case")
    await finished(admin)
    # A closure by action file says its kind as `outcome = "bad"`.
    closure = (FIXTURES / "ua-012-26-3.toml").read_text("utf-8")
    closure = (
        closure.replace("UA 012/26", "UA 013/26")
        .replace("revision = 3", 'revision = 2\noutcome = "bad"')
        .replace("ua-012-26", "ua-013-26")
    )
    await admin.upload("ua-013-26-2.toml", closure.encode(), mime_type="application/toml")
    preview = await admin.receive()
    assert "🔴 Bad outcome" in preview.text and "warning" not in preview.text
    await admin.tap(preview, "📣 Publish")
    await finished(admin)
    await reader.receive_many(2)  # the two closures
    await reader.send("/archive")
    archive = (await reader.receive()).text
    assert "Letters helped" not in archive
    assert "🟡 Mixed outcome" in archive and "🔴 Bad outcome" in archive
    # Newest first: both closed on TODAY, UA 013/26 was the later activity.
    assert archive.index("UA 013/26") < archive.index("UA 012/26")


async def test_the_archive_is_paged_newest_first(emulator: Emulator, bot: Any) -> None:
    admin = admin_of(emulator)
    reader = await subscriber(emulator, 6, "en")
    await reader.send("/archive")
    assert "No case has ended yet." in (await reader.receive()).text
    template = (FIXTURES / "ua-013-26-1.toml").read_text("utf-8")
    for number in range(1, 8):  # seven cases, deadlines March 1 to 7
        text = template.replace("UA 013/26", f"UA 1{number:02d}/26").replace(
            "deadline = 2026-03-16", f"deadline = 2026-03-0{number}"
        )
        await admin.upload(f"{number}.toml", text.encode(), mime_type="application/toml")
        await admin.tap(await admin.receive(), "📣 Publish")
        await finished(admin)
    await reader.receive_many(7)
    bot.bot_data.today = lambda: date(2026, 6, 1)  # all expired more than 14 days ago
    await reader.send("/archive")
    first = await reader.receive()
    assert "Archive (page 1 of 2)" in first.text
    order = [f"UA 1{number:02d}/26" for number in range(7, 0, -1)]
    assert [case for case in order if case in first.text] == order[:5]
    # Each entry on the page opens its card (⌛: it expired without a closure), then ▶️.
    title = "Climate activists fined for a peaceful …"
    assert labels(first) == [f"⌛ {case} · {title}" for case in order[:5]] + ["▶️"]
    await reader.tap(first, "▶️")
    await emulator.wait_until(lambda: "page 2 of 2" in first.text)  # the same message
    assert [case for case in order if case in first.text] == order[5:]
    assert "⌛ Deadline passed on March 1, 2026." in first.text
    assert labels(first) == [f"⌛ {case} · {title}" for case in order[5:]] + ["◀️"]
    await reader.tap(first, f"⌛ UA 101/26 · {title}")
    card = await reader.receive()
    assert card.text.startswith("🆕 New Urgent Action · UA 101/26\n"), card.text
    assert "⌛ Deadline passed on March 1, 2026." in card.text
    await reader.tap(first, "◀️")
    await emulator.wait_until(lambda: "page 1 of 2" in first.text)
    # A double tap: the second ▶️ asks for the page the first one shows already (Telegram:
    # "message is not modified"), which is no error.
    await asyncio.gather(reader.tap(first, "▶️"), reader.tap(first, "▶️"))
    await emulator.wait_until(lambda: "page 2 of 2" in first.text)
    await reader.expect_silence(0.2)  # paging edits, it sends nothing new


def closure_text(extra: str) -> str:
    return (
        (FIXTURES / "ua-012-26-3.toml")
        .read_text("utf-8")
        .replace('status = "closed"', f'status = "closed"\n{extra}')
    )


def test_the_outcome_kind_in_action_files() -> None:
    good = parse_action(
        closure_text('outcome = "good"'), source="x", languages=LANGUAGES, default_language="en"
    )
    assert good.outcome == "good" and '"outcome":"good"' in good.to_json()
    assert ActionRevision.from_json(good.to_json()) == good
    # Without the kind: valid (closures before it existed), warned about, and its JSON (so
    # its fingerprint) is what it was.
    plain = check_action(closure_text(""), source="x", languages=LANGUAGES, default_language="en")
    assert plain.revision.outcome is None and "outcome" not in json.loads(plain.revision.to_json())
    assert [w.key for w in plain.warnings] == ["outcome"]
    with pytest.raises(ActionFileError) as typo:
        parse_action(
            closure_text('outcome = "goood"'), source="x", languages=LANGUAGES,
            default_language="en",
        )  # fmt: skip
    assert [(p.key, p.message) for p in typo.value.problems] == [
        ("outcome", 'unknown outcome "goood"; did you mean "good"?')
    ]
    opened = (FIXTURES / "ua-012-26-1.toml").read_text("utf-8")
    opened = opened.replace('status = "open"', 'status = "open"\noutcome = "good"')
    with pytest.raises(ActionFileError) as early:
        parse_action(opened, source="x", languages=LANGUAGES, default_language="en")
    assert [p.key for p in early.value.problems] == ["outcome"]


async def test_an_uploaded_closure_without_a_kind_is_warned_about(
    emulator: Emulator, bot: Any
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    for name in ("ua-012-26-1.toml", "ua-012-26-2.toml"):
        await publish(admin, name)
        await admin.receive_many(2)
    preview = await upload(admin, "ua-012-26-3.toml")
    assert "• outcome: no outcome kind: the archive cannot count it" in preview.text

"""Writing sessions in groups, below Telegram: storage, the session service, its texts and the
edit pacing (issue 15). Handlers and the emulator's groups come on top of these."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
from bot.config import ConfigError, SessionsConfig, parse_config
from bot.emulator import Emulator
from bot.services import sessions
from bot.services.reports import letters_csv, stats_lines
from bot.services.sessions import Counted, StartRefused
from bot.services.sessions.pacing import GROUP_MESSAGES_PER_MINUTE, EditPacer
from bot.services.sessions.text import minutes_left, status_lines, thank_you
from bot.storage import SessionCounts, Storage, SubscriberCounts

CASE = "UA 012/26"
OTHER = "UA 013/26"
GROUP = -100200
OTHER_GROUP = -100300
TODAY = date(2026, 1, 12)
T0 = 1_768_240_800.0  # a session's start, Unix seconds
CONFIG = SessionsConfig()


async def published(storage: Storage, name: str) -> None:
    revision = parse_action(
        (FIXTURES / name).read_bytes(),
        source=name,
        languages=("en", "de", "fr"),
        default_language="en",
    )
    await import_revision(storage, revision, by=None)
    assert await publish(storage, revision.case, revision.revision, None)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        await published(storage, "ua-012-26-1.toml")
        await sessions.add_group(storage, GROUP, "de")
        yield storage
    finally:
        await storage.close()


async def people(storage: Storage, *ids: int) -> None:
    for uid in ids:
        await storage.users.subscribe(uid, "en")


async def started(storage: Storage, **kwargs: Any) -> int:
    result = await sessions.start(storage, CONFIG, GROUP, T0, **kwargs)
    assert result.session is not None, result.refused
    return result.session.id


# -- starting: defaults, one per group -------------------------------------------------------


async def test_a_session_defaults_to_45_minutes_and_the_newest_open_case(
    storage: Storage,
) -> None:
    await published(storage, "ua-013-26-1.toml")
    newest = (await storage.revisions.published_cases(status="open"))[0].case_number
    result = await sessions.start(storage, CONFIG, GROUP, T0)
    assert result.session is not None
    assert (result.session.case_number, result.session.minutes) == (newest, 45)
    assert result.session.ends_at == T0 + 45 * 60
    assert result.session.running and result.session.letters == 0


async def test_a_group_holds_one_session_at_a_time_even_when_two_admins_start_at_once(
    storage: Storage,
) -> None:
    results = await asyncio.gather(
        *(sessions.start(storage, CONFIG, GROUP, T0, CASE, 60) for _ in range(5))
    )
    assert sum(r.session is not None for r in results) == 1
    refused = [r for r in results if r.session is None]
    assert {r.refused for r in refused} == {StartRefused.RUNNING}
    assert all(r.running is not None and r.running.minutes == 60 for r in refused)
    # Another group may hold its own meanwhile.
    await sessions.add_group(storage, GROUP - 1, "en")
    other = await sessions.start(storage, CONFIG, GROUP - 1, T0, CASE)
    assert other.session is not None


async def test_the_schema_itself_refuses_a_second_running_session(storage: Storage) -> None:
    await started(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await storage.db.execute(
            "INSERT INTO sessions (group_id, case_number, started_at, minutes, ends_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (GROUP, CASE, T0, 10, T0 + 600),
        )


async def test_a_group_may_start_again_once_its_session_ended(storage: Storage) -> None:
    first = await started(storage)
    assert await sessions.end(storage, first, T0 + 60) is not None
    second = await started(storage, minutes=10)
    assert second != first


@pytest.mark.parametrize(
    ("case", "minutes", "group", "refused"),
    [
        (CASE, 0, GROUP, StartRefused.BAD_MINUTES),
        (CASE, CONFIG.max_minutes + 1, GROUP, StartRefused.BAD_MINUTES),
        ("UA 999/26", 30, GROUP, StartRefused.NO_CASE),
        (CASE, 30, 12345, StartRefused.UNKNOWN_GROUP),
    ],
)
async def test_what_cannot_start(
    storage: Storage, case: str, minutes: int, group: int, refused: StartRefused
) -> None:
    result = await sessions.start(storage, CONFIG, group, T0, case, minutes)
    assert (result.session, result.refused) == (None, refused)


async def test_a_closed_case_or_none_open_cannot_hold_a_session(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        await sessions.add_group(storage, GROUP, "en")
        nothing = await sessions.start(storage, CONFIG, GROUP, T0)
        assert nothing.refused is StartRefused.NO_CASE
        for name in ("ua-012-26-1.toml", "ua-012-26-2.toml", "ua-012-26-3.toml"):
            await published(storage, name)  # the third closes it
        closed = await sessions.start(storage, CONFIG, GROUP, T0, CASE)
        assert closed.refused is StartRefused.NO_CASE
    finally:
        await storage.close()


# -- counting: exact under concurrency, once per person --------------------------------------


async def test_twenty_writers_confirming_at_once_are_counted_exactly(storage: Storage) -> None:
    session_id = await started(storage)
    writers = list(range(1, 21))
    await people(storage, *writers)
    # Each taps twice, all at once, in a shuffled order.
    taps = [uid for uid in writers for _ in range(2)]
    random.Random(15).shuffle(taps)
    results = await asyncio.gather(
        *(sessions.confirm(storage, session_id, uid, "en", TODAY) for uid in taps)
    )
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Counted.COUNTED) == 20
    assert outcomes.count(Counted.ALREADY) == 20
    session = await storage.sessions.get(session_id)
    assert session is not None and session.letters == 20
    assert await storage.tally.count(CASE) == 20
    assert max(r.case_letters for r in results) == 20
    # Each answer saw a consistent state: the counted ones saw 1..20, each once.
    counted = sorted(
        r.session.letters for r in results if r.outcome is Counted.COUNTED and r.session
    )
    assert counted == list(range(1, 21))


async def test_a_letter_confirmed_before_the_session_is_not_the_sessions(
    storage: Storage,
) -> None:
    await people(storage, 1, 2)
    await storage.tally.confirm(CASE, 1, 1, "en", TODAY)  # wrote at home, before
    session_id = await started(storage)
    before = await sessions.confirm(storage, session_id, 1, "en", TODAY)
    assert (before.outcome, before.case_letters) == (Counted.ALREADY, 1)
    new = await sessions.confirm(storage, session_id, 2, "de", TODAY)
    assert new.outcome is Counted.COUNTED and new.session is not None
    assert (new.session.letters, new.case_letters) == (1, 2)
    (row,) = [r for r in await storage.stats.letters() if r.language == "de"]
    assert row.letters == 1  # the letter's language is recorded as in a private chat


async def test_a_follow_up_during_the_session_counts_for_the_case_not_twice_for_the_session(
    storage: Storage,
) -> None:
    await people(storage, 1)
    session_id = await started(storage)
    assert (await sessions.confirm(storage, session_id, 1, "en", TODAY)).outcome is Counted.COUNTED
    await published(storage, "ua-012-26-2.toml")
    again = await sessions.confirm(storage, session_id, 1, "en", TODAY)
    assert again.outcome is Counted.CASE_ONLY and again.session is not None
    assert (again.session.letters, again.case_letters) == (1, 2)


async def test_nothing_counts_for_unknown_people_or_ended_sessions(storage: Storage) -> None:
    session_id = await started(storage)
    unknown = await sessions.confirm(storage, session_id, 99, "en", TODAY)
    assert unknown.outcome is Counted.UNKNOWN_PERSON
    await people(storage, 1)
    await sessions.end(storage, session_id, T0 + 10)
    late = await sessions.confirm(storage, session_id, 1, "en", TODAY)
    assert late.outcome is Counted.ENDED
    assert await storage.tally.count(CASE) == 0
    assert (await sessions.confirm(storage, 12345, 1, "en", TODAY)).outcome is Counted.ENDED


# -- ending: privacy ----------------------------------------------------------------------------


async def user_ids_beside_sessions(storage: Storage) -> list[Any]:
    """Every value in the session tables that could name a person."""
    writers = await storage.db.fetch_all("SELECT * FROM session_writers")
    columns = [row[1] for row in await storage.db.fetch_all("PRAGMA table_info(sessions)")]
    return [tuple(row) for row in writers] + [c for c in columns if "user" in c]


async def test_after_the_end_only_counts_remain_no_user_id(storage: Storage) -> None:
    session_id = await started(storage, minutes=60)
    await people(storage, 1, 2, 3)
    for uid in (1, 2, 3):
        await sessions.confirm(storage, session_id, uid, "en", TODAY)
    assert len(await user_ids_beside_sessions(storage)) == 3  # while it runs: to count once
    ended = await sessions.end(storage, session_id, T0 + 3600)
    assert ended is not None and not ended.running
    assert await user_ids_beside_sessions(storage) == []
    row = await storage.db.fetch_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
    assert row is not None
    kept = dict(row)
    assert (kept["group_id"], kept["case_number"], kept["started_at"]) == (GROUP, CASE, T0)
    assert (kept["minutes"], kept["letters"]) == (60, 3)
    # The end job and /session_end racing: one ends it, the other learns it had ended.
    assert await sessions.end(storage, session_id, T0 + 3601) is None
    assert await sessions.end_in_group(storage, GROUP, T0 + 3601) is None


async def test_forget_during_a_session_drops_the_writer_and_keeps_the_count(
    storage: Storage,
) -> None:
    session_id = await started(storage)
    await people(storage, 1)
    await sessions.confirm(storage, session_id, 1, "en", TODAY)
    async with storage.db.transaction():
        await storage.users.delete(1)
    assert await user_ids_beside_sessions(storage) == []
    session = await storage.sessions.get(session_id)
    assert session is not None and session.letters == 1


# -- groups: removed, migrated ---------------------------------------------------------------


async def test_a_migration_to_a_supergroup_keeps_the_sessions_and_the_running_one(
    storage: Storage,
) -> None:
    first = await started(storage)
    await people(storage, 1, 2)
    await sessions.confirm(storage, first, 1, "en", TODAY)
    await sessions.end(storage, first, T0 + 600)
    running = await started(storage)
    await sessions.confirm(storage, running, 2, "en", TODAY)
    supergroup = -1009990001
    await sessions.migrate_group(storage, GROUP, supergroup)
    assert await storage.groups.get(GROUP) is None
    group = await storage.groups.get(supergroup)
    assert group is not None and group.language == "de"
    moved = await storage.sessions.running(supergroup)
    assert moved is not None and (moved.id, moved.letters) == (running, 1)
    ended = await storage.sessions.get(first)
    assert ended is not None and (ended.group_id, ended.letters) == (supergroup, 1)
    # Still one at a time under the new id, and counting goes on.
    again = await sessions.start(storage, CONFIG, supergroup, T0)
    assert again.refused is StartRefused.RUNNING
    await people(storage, 3)
    third = await sessions.confirm(storage, running, 3, "en", TODAY)
    assert third.session is not None and third.session.letters == 2
    # A second migration update (Telegram sends it to both chats) changes nothing.
    await sessions.migrate_group(storage, GROUP, supergroup)
    assert (await storage.sessions.counts()).sessions == 2


async def test_a_removed_bot_forgets_the_group_and_ends_its_session(storage: Storage) -> None:
    session_id = await started(storage)
    await people(storage, 1)
    await sessions.confirm(storage, session_id, 1, "en", TODAY)
    ended = await sessions.forget_group(storage, GROUP, T0 + 120)
    assert ended is not None and ended.id == session_id and not ended.running
    assert await storage.groups.get(GROUP) is None
    assert await user_ids_beside_sessions(storage) == []
    assert await storage.sessions.counts() == SessionCounts(
        groups=0, groups_with_sessions=1, sessions=1, running=0, letters=1
    )
    # Added again: known anew, in the language of whoever added it.
    assert await sessions.add_group(storage, GROUP, "fr")
    assert not await sessions.add_group(storage, GROUP, "en")
    group = await storage.groups.get(GROUP)
    assert group is not None and group.language == "fr"


# -- restarts: what is scheduled again -------------------------------------------------------


async def test_resume_reschedules_the_end_and_the_countdown_on_the_minute_marks(
    storage: Storage,
) -> None:
    session_id = await started(storage, minutes=60)
    await sessions.add_group(storage, GROUP - 1, "en")
    overdue = await sessions.start(storage, CONFIG, GROUP - 1, T0 - 7200, CASE, 30)
    assert overdue.session is not None
    now = T0 + 13 * 60 + 20  # a restart 13 min 20 s into the session
    plans = {p.session.id: p for p in await sessions.resume(storage, now)}
    assert set(plans) == {session_id, overdue.session.id}
    plan = plans[session_id]
    assert plan.end_in == pytest.approx(60 * 60 - (13 * 60 + 20))
    assert plan.next_tick_in == pytest.approx(40)  # at 14:00, not 14:20
    assert plan.tick_every == 60
    assert plans[overdue.session.id].end_in == 0  # time ran out while the bot was down
    assert plans[overdue.session.id].next_tick_in is None
    # The last minute has no tick: the end comes first.
    last = sessions.plan(plan.session, T0 + 59 * 60 + 1)
    assert last.next_tick_in is None and last.end_in == pytest.approx(59)


async def test_a_compressed_minute_drives_the_countdown_and_the_end(storage: Storage) -> None:
    fast = SessionsConfig(minute_seconds=0.5)
    result = await sessions.start(storage, fast, GROUP, T0, CASE, 60)
    assert result.session is not None and result.session.ends_at == T0 + 30
    assert minutes_left(result.session, T0 + 0.6, fast.minute_seconds) == 59
    plan = sessions.plan(result.session, T0 + 0.6, fast.minute_seconds)
    assert plan.next_tick_in == pytest.approx(0.4) and plan.tick_every == 0.5


# -- the texts ---------------------------------------------------------------------------------


async def test_the_session_message_in_the_groups_language_with_its_numbers(
    storage: Storage,
) -> None:
    session_id = await started(storage, minutes=60)
    await people(storage, *range(1, 8))
    for uid in range(1, 8):
        await sessions.confirm(storage, session_id, uid, "en", TODAY)
    session = await storage.sessions.get(session_id)
    assert session is not None
    now = T0 + 13 * 60
    assert status_lines(session, 1234, now, "en") == [
        "7 letters from this group · 1,234 in all",
        "47 minutes left",
    ]
    assert status_lines(session, 1234, now, "de") == [
        "7 Briefe aus dieser Gruppe · 1.234 insgesamt",
        "Noch 47 Minuten",
    ]
    assert status_lines(session, 1234, now, "fr")[0] == (
        "7 lettres de ce groupe · 1\u202f234 au total"
    )
    one_left = status_lines(session, 1, T0 + 59 * 60 + 30, "en")
    assert one_left == ["7 letters from this group · 1 in all", "1 minute left"]
    ended = await sessions.end(storage, session_id, T0 + 3600)
    assert ended is not None
    assert thank_you(ended, "en") == "7 letters in 60 minutes — thank you!"
    assert thank_you(ended, "de") == "7 Briefe in 60 Minuten – danke!"
    assert thank_you(ended, "fr") == "7 lettres en 60\u00a0minutes — merci\u202f!"
    assert status_lines(ended, 1234, T0 + 3600, "en")[0] == "Session ended"


async def test_a_session_ended_early_thanks_for_the_minutes_it_ran(storage: Storage) -> None:
    session_id = await started(storage, minutes=60)
    await people(storage, 1)
    await sessions.confirm(storage, session_id, 1, "en", TODAY)
    ended = await sessions.end_in_group(storage, GROUP, T0 + 20 * 60 + 10)  # /session_end
    assert ended is not None and ended.id == session_id
    assert thank_you(ended, "en") == "1 letter in 20 minutes — thank you!"
    assert thank_you(ended, "fr") == "1 lettre en 20\u00a0minutes — merci\u202f!"
    fast = SessionsConfig(minute_seconds=0.5)
    quick = await sessions.start(storage, fast, GROUP, T0, CASE, 10)
    assert quick.session is not None
    done = await sessions.end(storage, quick.session.id, T0 + 5.0)  # time up, compressed
    assert done is not None
    assert thank_you(done, "de", fast.minute_seconds) == (
        "Schreibtreffen beendet – diesmal ohne Briefe."
    )


# -- the pacing -------------------------------------------------------------------------------


def most_in_any_window(times: list[float], window: float = 60.0) -> int:
    return max(
        (sum(1 for t in times if start <= t < start + window) for start in times), default=0
    )


def simulate(pacer: EditPacer, chat: int, updates: list[float], end: float) -> list[float]:
    """Drive the pacer as the bot does: each update requests an edit; a planned edit is sent
    when its time comes (rendering all updates until then). The times edits were sent."""
    sent: list[float] = []
    planned: list[float] = []
    for now in sorted(updates):
        while planned and planned[0] <= now:
            at = planned.pop(0)
            pacer.sent(chat, at)
            sent.append(at)
        slot = pacer.request(chat, now)
        if slot is not None:
            planned.append(slot)
    for at in planned:
        if at <= end:
            pacer.sent(chat, at)
            sent.append(at)
    return sent


def test_bursts_never_exceed_the_groups_budget_and_each_update_is_shown() -> None:
    rng = random.Random(20)
    pacer = EditPacer()
    # Three minutes: bursts of 20 writers confirming within a second, a countdown tick on
    # each minute mark, and a scatter of single confirmations.
    updates = [60.0 * m for m in range(4)]
    for burst in (5.0, 61.0, 62.5, 130.0):
        updates += [burst + rng.random() for _ in range(20)]
    updates += [rng.uniform(0, 180) for _ in range(30)]
    sent = simulate(pacer, GROUP, updates, end=400)
    assert most_in_any_window(sent) <= GROUP_MESSAGES_PER_MINUTE
    assert all(b - a >= pacer.spacing - 1e-9 for a, b in itertools.pairwise(sent))
    # Every update is shown by an edit at most one spacing after it, the last one too.
    for update in updates:
        assert any(update <= at <= update + pacer.spacing for at in sent), update
    assert len(sent) < len(updates)  # bursts merged into single edits


def test_updates_closer_than_the_spacing_merge_into_one_edit() -> None:
    pacer = EditPacer()
    assert pacer.request(GROUP, 100.0) == 100.0  # the first goes at once
    pacer.sent(GROUP, 100.0)
    assert pacer.request(GROUP, 100.5) == 103.0  # planned one spacing later
    assert pacer.request(GROUP, 101.0) is None  # merged into it
    assert pacer.request(GROUP, 102.9) is None
    pacer.sent(GROUP, 103.0)
    assert pacer.request(GROUP, 110.0) == 110.0
    # Other chats have their own budget.
    assert pacer.request(GROUP - 1, 110.0) == 110.0


def test_messages_outside_the_plan_count_against_the_budget() -> None:
    pacer = EditPacer(per_minute=3, window=60.0)
    for t in (0.0, 1.0, 2.0):  # say, the session message, a /help answer, the thank-you
        pacer.sent(GROUP, t)
    assert pacer.next_slot(GROUP, 2.0) == 60.0  # the fourth waits for the first to age out
    assert pacer.request(GROUP, 5.0) == 60.0
    pacer.cancel(GROUP)
    assert pacer.request(GROUP, 6.0) == 60.0  # cancelled: planned anew
    pacer.forget(GROUP)
    assert pacer.request(GROUP, 7.0) == 7.0
    with pytest.raises(ValueError):
        EditPacer(per_minute=0)


def test_a_429_holds_the_chat_until_its_retry_after() -> None:
    pacer = EditPacer()
    pacer.sent(GROUP, 100.0)  # the edit Telegram answered 429, retry after 30 s
    pacer.hold(GROUP, 130.0)
    assert pacer.request(GROUP, 100.1) == 130.0  # not one spacing later: after the wait
    assert pacer.request(GROUP, 101.0) is None  # merged into it
    assert pacer.next_slot(OTHER_GROUP, 101.0) == 101.0  # other groups are not held
    pacer.hold(GROUP, 120.0)  # an earlier hold changes nothing
    assert pacer.next_slot(GROUP, 101.0) == 130.0
    fresh = EditPacer()
    fresh.hold(GROUP, 50.0)  # held before anything was sent (a /help answer's 429)
    assert fresh.next_slot(GROUP, 10.0) == 50.0 and fresh.next_slot(GROUP, 60.0) == 60.0


def test_the_countdown_alone_edits_at_most_once_a_minute() -> None:
    pacer = EditPacer()
    ticks = [60.0 * m for m in range(10)]
    assert simulate(pacer, GROUP, ticks, end=600) == ticks


# -- config --------------------------------------------------------------------------------------


def test_sessions_config_defaults_and_errors() -> None:
    telegram = {"token": "123:" + "a" * 35}
    config = parse_config({"telegram": telegram}, {})
    assert (config.sessions.default_minutes, config.sessions.minute_seconds) == (45, 60.0)
    fast = parse_config(
        {"telegram": telegram, "sessions": {"minute_seconds": 0.1, "default_minutes": 5}}, {}
    )
    assert (fast.sessions.default_minutes, fast.sessions.minute_seconds) == (5, 0.1)
    bad = [
        ({"default_minutes": 0}, "sessions.default_minutes must be between 1"),
        ({"max_minutes": 30, "default_minutes": 45}, r"sessions.max_minutes \(30\)"),
        ({"minute_seconds": 0}, "sessions.minute_seconds must be more than 0"),
        ({"default_minute": 5}, "did you mean sessions.default_minutes"),
    ]
    for section, message in bad:
        with pytest.raises(ConfigError, match=message):
            parse_config({"telegram": telegram, "sessions": section}, {})


# -- /stats and the export -------------------------------------------------------------------


async def test_stats_and_the_export_count_groups_sessions_and_letters(storage: Storage) -> None:
    await people(storage, 1, 2, 3)
    first = await started(storage)
    for uid in (1, 2):
        await sessions.confirm(storage, first, uid, "en", TODAY)
    await sessions.end(storage, first, T0 + 60)
    await published(storage, "ua-013-26-1.toml")
    await sessions.add_group(storage, GROUP - 1, "en")
    other = await sessions.start(storage, CONFIG, GROUP - 1, T0, OTHER, 30)
    assert other.session is not None
    counts = await storage.sessions.counts()
    assert counts == SessionCounts(
        groups=2, groups_with_sessions=2, sessions=2, running=1, letters=2
    )
    lines = stats_lines(SubscriberCounts(3, 0, 0, {"en": 3}), [], None, counts)
    assert lines[-5:] == [
        "Writing sessions in groups",
        "  groups with the bot: 2",
        "  groups that held a session: 2",
        "  sessions: 2 (1 running)",
        "  letters in sessions: 2",
    ]
    data = letters_csv(await storage.stats.letters(), await storage.sessions.per_case())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [
        {
            "case": CASE,
            "revision": "1",
            "language": "en",
            "letters": "2",
            "groups": "1",
            "sessions": "1",
            "session_letters": "2",
        },
        {  # a session but no letter yet
            "case": OTHER,
            "revision": "",
            "language": "",
            "letters": "0",
            "groups": "1",
            "sessions": "1",
            "session_letters": "0",
        },
    ]


async def test_the_admins_stats_show_the_sessions(emulator: Emulator, bot: Any) -> None:
    storage: Storage = bot.bot_data.storage
    await published(storage, "ua-012-26-1.toml")
    await sessions.add_group(storage, GROUP, "en")
    await people(storage, 1, 2, 3)
    session = await sessions.start(storage, CONFIG, GROUP, T0)
    assert session.session is not None
    for uid in (1, 2, 3):
        await sessions.confirm(storage, session.session.id, uid, "en", TODAY)
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await admin.send("/stats")
    text = (await admin.receive()).text
    assert "Writing sessions in groups" in text
    assert "sessions: 1 (1 running)" in text and "letters in sessions: 3" in text
    await admin.send("/export")
    document = (await admin.receive()).document
    assert document is not None
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"), newline="")))
    assert [(r["case"], r["sessions"], r["session_letters"]) for r in rows] == [(CASE, "1", "3")]

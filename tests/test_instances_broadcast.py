"""Issue 16 §4: several real ``uabot run`` processes on one PostgreSQL database drain one
broadcast together, under one rate budget, and a SIGKILL of one loses nobody.

The instances run in webhook mode, each with its own webhook server: the emulator posts every
update to the URL set last, that of the instance started last (two long pollers would take each
other's updates; electing one poller is part B's). So the instance killed is the first one, and
users' messages keep reaching a live instance.
"""

from __future__ import annotations

import asyncio
import bisect
from pathlib import Path
from typing import Any

import pytest
from conftest import SECRET, free_port, make_config, webhook_keys
from fault_servers import Uabot, assert_clean, write_config
from journeys import ADMIN_ID, FIXTURES
from transitions import record

from bot.actions.importer import import_revision, publish
from bot.actions.parse import parse_action
from bot.app import build_application, running
from bot.broadcast.engine import workers_for
from bot.emulator import Emulator, SimUser
from bot.storage import Storage

pytestmark = pytest.mark.postgres_only

CASE = "UA 012/26"
SUBSCRIBERS = 2000
RATE = 200
# While two instances send, their rate together stays within 5% of the configured one (the
# emulator stamps a message when its request arrives: the way there moves it a little). Any one
# second may hold more: the send times an instance missed while its event loop was busy go at
# once (SharedBudget), up to 240 in a second under the full suite's load. Two instances that
# ignored the shared budget send about twice the rate (410 in a second, measured).
RATE_TOLERANCE = 1.05
BUSIEST_SECOND = RATE * 1.5
LEASE_SECONDS = 5  # a killed instance's claims come back after this (default 30)


def card_times(users: list[SimUser]) -> list[float]:
    """When each card of the case arrived at the emulator, in order."""
    return sorted(m.sent_at for u in users for m in u.messages if m.text and CASE in m.text)


def cards(user: SimUser) -> int:
    return sum(1 for m in user.messages if m.text and CASE in m.text)


def reports(admin: SimUser) -> list[str]:
    return [m.text for m in admin.messages if m.text and "Broadcast finished" in m.text]


def busiest_second(times: list[float]) -> int:
    """The most sends within any one second (a window sliding over every send)."""
    return max(
        (bisect.bisect_left(times, start + 1.0) - i for i, start in enumerate(times)), default=0
    )


def instance_config(
    folder: Path, emulator: Emulator, database: Path, public: int, listen: int | None = None
) -> Path:
    """Every instance sets the one webhook URL (``public``: the port one of them listens on)."""
    folder.mkdir()
    port = listen or free_port()
    extra = (
        f'base_file_url = "{emulator.base_file_url}"\n'
        f"admins = [{ADMIN_ID}]\n"
        'mode = "webhook"\n'
        f'webhook_url = "http://127.0.0.1:{public}/telegram"\n'
        f'listen = "127.0.0.1:{port}"\n'
        f'secret_token = "{SECRET}"\n'
        "[broadcast]\n"
        f"messages_per_second = {RATE}\n"
        "paid = true\n"
        f"claim_lease_seconds = {LEASE_SECONDS}\n"
        "claim_retry_seconds = 0.2\n"
        "max_probe_interval_seconds = 0.2\n"
    )
    return write_config(folder, emulator.base_url, extra=extra, db=database)


async def queue_broadcast(database: Path, subscribers: int = SUBSCRIBERS) -> None:
    """Subscribers and a published case, as ``uabot import --publish`` leaves them."""
    storage = await Storage.open(database)
    try:
        async with storage.db.transaction():
            await storage.db.execute_many(
                "INSERT INTO users (id, language) VALUES (?, 'en')",
                [(uid,) for uid in range(1, subscribers + 1)],
            )
        revision = parse_action(
            (FIXTURES / "ua-012-26-1.toml").read_bytes(),
            source="ua-012-26-1.toml",
            languages=("en", "de", "fr"),
            default_language="en",
        )
        await import_revision(storage, revision, by=None)
        assert await publish(storage, revision.case, revision.revision, ADMIN_ID)
    finally:
        await storage.close()


async def test_two_instances_drain_one_broadcast_within_one_budget_and_survive_a_sigkill(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Two instances send one broadcast at 200/s together (not each); the first is killed
    halfway, a third starts meanwhile: everyone gets the card, at most the killed one's sends
    in flight twice, no second in the emulator's clock above the rate, no 429, a /start during
    the broadcast answered, and one final report."""
    database = tmp_path / "bot.sqlite3"
    users = [emulator.user(uid, started=True) for uid in range(1, SUBSCRIBERS + 1)]
    admin = emulator.user(ADMIN_ID, started=True)
    await queue_broadcast(database)
    # Telegram does not take the cards until both instances run (the first pauses the
    # broadcast, the second starts paused): then both go on at once, however long a start
    # takes on this machine.
    emulator.http_error(502, methods=("sendMessage",), chats=tuple(range(1, SUBSCRIBERS + 1)))
    public = free_port()  # the second listens there: updates go to it throughout
    first = await Uabot.start(instance_config(tmp_path / "a", emulator, database, public))
    second: Uabot | None = None
    third: Uabot | None = None
    try:
        await first.wait_for("started as")
        second = await Uabot.start(
            instance_config(tmp_path / "b", emulator, database, public, listen=public)
        )
        await second.wait_for("started as")
        emulator.end_http_error()
        both_from = len(card_times(users))
        await emulator.wait_until(
            lambda: len(card_times(users)) >= SUBSCRIBERS // 2, timeout=120, message="halfway"
        )
        both_until = len(card_times(users))
        await first.kill()
        killed_at = len(card_times(users))
        assert killed_at < SUBSCRIBERS, "killed mid-broadcast"

        # A user's /start while the broadcast goes on (it cannot end sooner than the rate
        # allows) is answered by a live instance.
        newcomer = emulator.user(SUBSCRIBERS + 1, first_name="Newcomer", language_code="en")
        await newcomer.send("/start")
        greeting = await newcomer.receive(timeout=30)
        assert greeting.text

        # A third instance joins (resuming the broadcast at start) while the second sends:
        # two live instances reach the end, one of them reports.
        third = await Uabot.start(instance_config(tmp_path / "c", emulator, database, public))
        await third.wait_for("started as")
        await emulator.wait_until(lambda: reports(admin), timeout=120, message="the report")
        for instance in (second, third):
            assert await instance.interrupt() == 0
    finally:
        for instance in (first, second, third):
            if instance is not None:
                await instance.kill()

    counts = [cards(user) for user in users]
    assert min(counts) == 1, "nobody is lost"
    duplicates = sum(counts) - SUBSCRIBERS
    assert duplicates <= workers_for(RATE), f"{duplicates} duplicates"
    assert len(reports(admin)) == 1, reports(admin)
    assert f"Delivered: {SUBSCRIBERS:,}" in reports(admin)[0]
    assert emulator.stats.too_many_requests == 0

    times = card_times(users)
    together = times[both_from:both_until]  # while both instances sent
    assert len(together) > RATE, "the two instances sent together for more than a second"
    rate = (len(together) - 1) / (together[-1] - together[0])
    assert rate <= RATE * RATE_TOLERANCE, rate
    assert busiest_second(times) <= BUSIEST_SECOND, busiest_second(times)
    print(
        f"two instances: {rate:.1f}/s together ({rate / RATE:.3f} of {RATE}/s), busiest second"
        f" {busiest_second(times)}, {duplicates} duplicates after the SIGKILL (at most"
        f" {workers_for(RATE)} in flight), {emulator.stats.too_many_requests} 429s"
    )
    for instance in (second, third):
        assert instance is not None
        assert_clean(instance)


def in_process(emulator: Emulator, database: Path) -> Any:
    """An instance in this process (webhook mode, its own port) on the shared database."""
    config = make_config(
        emulator,
        database,
        telegram=webhook_keys(),
        broadcast={
            "messages_per_second": 20,
            "paid": False,
            "max_probe_interval_seconds": 0.2,
            "claim_lease_seconds": LEASE_SECONDS,
            "claim_retry_seconds": 0.2,
        },
    )
    return running(record(build_application(config)), poll_timeout=1)


async def test_a_pause_is_the_whole_bots_and_whoever_finishes_reports_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """An outage pauses the broadcast in the database: an instance started meanwhile waits
    too (its /broadcasts says paused), both go on once Telegram answers, everyone gets one
    card and the admin one report."""
    database = tmp_path / "bot.sqlite3"
    count = 40
    users = [emulator.user(uid, started=True) for uid in range(1, count + 1)]
    admin = emulator.user(ADMIN_ID, started=True)
    emulator.http_error(502, methods=("sendMessage",), chats=tuple(range(1, count + 1)))
    await queue_broadcast(database, count)
    async with in_process(emulator, database) as first:
        await emulator.wait_until(
            lambda: emulator.stats.non_api_answers >= 1, timeout=30, message="the outage"
        )
        storage = first.bot_data.storage
        broadcast = (await storage.broadcasts.unfinished())[0]
        for _ in range(300):  # up to 30 s: the first instance records the pause
            found = await storage.broadcasts.get(broadcast.id)
            if found is not None and found.paused_at is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the broadcast never paused")
        async with in_process(emulator, database) as second:
            await admin.send("/broadcasts")  # the second instance took the webhook last
            shown = await admin.receive(timeout=30)
            while "Running broadcasts" not in (shown.text or ""):
                shown = await admin.receive(timeout=30)
            assert "paused since" in shown.text, shown.text
            emulator.end_http_error()
            await emulator.wait_until(lambda: reports(admin), timeout=60, message="the report")
            # Until both engines are done with it: each finished its run (one reported) and
            # no report is still being sent.
            for _ in range(300):
                engines = (first.bot_data.broadcasts, second.bot_data.broadcasts)
                reporting = [
                    task
                    for task in asyncio.all_tasks()
                    if task.get_name().startswith("uabot-report-") and not task.done()
                ]
                if not any(engine.progress() for engine in engines) and not reporting:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the instances never finished the broadcast")
    assert [cards(user) for user in users] == [1] * count
    assert len(reports(admin)) == 1, reports(admin)
    assert f"Delivered: {count}" in reports(admin)[0]


async def test_broadcasts_shows_what_every_instance_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    """/broadcasts on one instance counts the cards the other sent too (from the database)."""
    database = tmp_path / "bot.sqlite3"
    count = 60
    users = [emulator.user(uid, started=True) for uid in range(1, count + 1)]
    admin = emulator.user(ADMIN_ID, started=True)
    await queue_broadcast(database, count)
    async with in_process(emulator, database), in_process(emulator, database):
        await emulator.wait_until(
            lambda: sum(map(cards, users)) >= count // 2, timeout=60, message="half"
        )
        delivered = sum(map(cards, users))
        await admin.send("/broadcasts")  # to the second instance (the webhook set last)
        shown = await admin.receive(timeout=30)
        while "Running broadcasts" not in (shown.text or ""):
            shown = await admin.receive(timeout=30)
        done = int(shown.text.split(" of ")[0].rsplit(" ", 1)[1])
        # Each instance sends about half; at most the sends in flight are not recorded yet.
        assert done >= delivered - 2 * workers_for(20), (done, delivered)
        await emulator.wait_until(lambda: reports(admin), timeout=60, message="the report")


async def test_two_instances_queueing_the_next_chunk_at_once_queue_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``enqueue_more`` from two instances at the same moment: each chunk is queued once and
    the last one still ends the queueing (no chunk skipped, none counted twice)."""
    from bot.storage import broadcasts

    monkeypatch.setattr(broadcasts, "CHUNK", 5)
    database = tmp_path / "bot.sqlite3"
    count = 23
    instances = [await Storage.open(database), await Storage.open(database)]
    try:
        one = instances[0]
        await one.db.execute_many(
            "INSERT INTO users (id, language) VALUES (?, 'en')",
            [(uid,) for uid in range(1, count + 1)],
        )
        async with one.db.transaction():
            broadcast_id = await one.broadcasts.create(kind="action", case_number="UA 0/0")
        while any(
            await asyncio.gather(
                *(storage.broadcasts.enqueue_more(broadcast_id) for storage in instances)
            )
        ):
            pass
        progress = await one.broadcasts.progress(broadcast_id)
        queued = await one.broadcasts.get(broadcast_id)
    finally:
        for storage in instances:
            await storage.close()
    assert sum(progress.values()) == count
    assert queued is not None and queued.total == count


async def _two_storages_with_a_broadcast(
    database: Path, count: int
) -> tuple[Storage, Storage, int]:
    a, b = await Storage.open(database), await Storage.open(database)
    await a.db.execute_many(
        "INSERT INTO users (id, language) VALUES (?, 'en')", [(u,) for u in range(1, count + 1)]
    )
    async with a.db.transaction():
        broadcast_id = await a.broadcasts.create(kind="action", case_number="UA 0/0")
    return a, b, broadcast_id


async def test_no_instance_finishes_while_another_gives_its_claims_back(tmp_path: Path) -> None:
    """A finds nothing to claim (B holds all), B's round halts and gives its claims back, A
    then finds nothing held elsewhere: its ``finish`` must still refuse, since recipients wait
    (they would be counted skipped and never sent)."""
    from bot.storage.broadcasts import StillSending

    a, b, bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 10)
    try:
        assert len(await b.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="B", lease=30)) == 10
        assert await a.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="A", lease=30) == []
        await b.broadcasts.release(bid, "B")
        assert not await a.broadcasts.held_elsewhere(bid, "A")
        with pytest.raises(StillSending):
            async with a.db.transaction():
                await a.broadcasts.finish(bid, 0.0)
        assert (await a.broadcasts.get(bid)).finished_at is None  # type: ignore[union-attr]
    finally:
        await a.close()
        await b.close()


async def test_no_instance_finishes_before_the_last_chunk_another_queued_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B queues the last chunk between A's empty claim and A's ``enqueue_more`` (which then
    says "all queued"): A's ``finish`` must refuse while that chunk waits."""
    from bot.storage import broadcasts
    from bot.storage.broadcasts import Outcome, StillSending

    monkeypatch.setattr(broadcasts, "CHUNK", 5)
    a, b, bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 8)
    try:
        first = await a.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="A", lease=30)
        assert len(first) == 5
        await a.broadcasts.record_many(
            bid, [(r.user_id, Outcome.DELIVERED, 1) for r in first], owner="A"
        )
        assert await a.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="A", lease=30) == []
        assert await b.broadcasts.enqueue_more(bid)
        assert not await a.broadcasts.enqueue_more(bid)
        assert not await a.broadcasts.held_elsewhere(bid, "A")
        with pytest.raises(StillSending):
            async with a.db.transaction():
                await a.broadcasts.finish(bid, 0.0)
        rest = await a.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="A", lease=30)
        assert [r.user_id for r in rest] == [6, 7, 8]
        await a.broadcasts.record_many(
            bid, [(r.user_id, Outcome.DELIVERED, 1) for r in rest], owner="A"
        )
        async with a.db.transaction():
            done = await a.broadcasts.finish(bid, 0.0)
        assert done is not None and (done.delivered, done.skipped) == (8, 0)
    finally:
        await a.close()
        await b.close()


async def test_a_shared_probe_goes_past_a_burst_of_refusals_and_the_broadcast_resumes(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The 25 lowest ids really blocked the bot: more than 20 identical 403s in a row pause
    the broadcast (the breaker). The probe must try someone past them, as on SQLite, or the
    broadcast never resumes."""
    database = tmp_path / "bot.sqlite3"
    count = 60
    users = [emulator.user(uid, started=True) for uid in range(1, count + 1)]
    admin = emulator.user(ADMIN_ID, started=True)
    for uid in range(1, 26):
        emulator.block(uid)
    await queue_broadcast(database, count)
    async with in_process(emulator, database):
        await emulator.wait_until(lambda: reports(admin), timeout=60, message="the report")
    assert [cards(user) for user in users[25:]] == [1] * (count - 25)


async def test_a_429_longer_than_the_lease_sends_nobody_twice(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A 429 of 8 s to one instance (lease 5 s): its rate limiter holds that send, and the
    sends its workers have already claimed, past their lease, while the other instance claims
    the same recipients. What the held sends had claimed must not go out after the lease."""
    database = tmp_path / "bot.sqlite3"
    count = 200
    users = [emulator.user(uid, started=True) for uid in range(1, count + 1)]
    admin = emulator.user(ADMIN_ID, started=True)
    await queue_broadcast(database, count)
    async with in_process(emulator, database), in_process(emulator, database):
        await emulator.wait_until(
            lambda: sum(map(cards, users)) >= 20, timeout=60, message="under way"
        )
        emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 8", 8)
        await emulator.wait_until(lambda: reports(admin), timeout=90, message="the report")
    got = [cards(user) for user in users]
    print(f"after a 429 longer than the lease: {sum(g > 1 for g in got)} sent twice")
    assert (got.count(0), sum(g > 1 for g in got)) == (0, 0)


async def test_a_late_outcome_leaves_another_instances_result_alone(tmp_path: Path) -> None:
    """A's claim ran out (its send was held up), B claimed the recipient, sent and recorded
    it: A's outcome coming late must not overwrite B's, nor one B has yet to record; an
    outcome after the broadcast finished (its outbox dropped) is dropped too."""
    from bot.storage.broadcasts import Outcome

    a, b, bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 2)
    try:
        assert len(await a.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="A", lease=0.05)) == 2
        await asyncio.sleep(0.3)  # A's lease runs out
        assert len(await b.broadcasts.claim(bid, 0, 64, "UA 0/0", 1, owner="B", lease=30)) == 2
        assert await b.broadcasts.record_many(bid, [(1, Outcome.DELIVERED, 1)], owner="B") == 1
        late = [(1, Outcome.FAILED, 1), (2, Outcome.FAILED, 1)]
        assert await a.broadcasts.record_many(bid, late, owner="A") == 0
        assert await b.broadcasts.record_many(bid, [(2, Outcome.DELIVERED, 1)], owner="B") == 1
        assert (await b.broadcasts.progress(bid))[Outcome.DELIVERED] == 2
        async with b.db.transaction():
            done = await b.broadcasts.finish(bid, 0.0)
        assert done is not None and (done.delivered, done.failed) == (2, 0)
        assert await a.broadcasts.record_many(bid, late, owner="A") == 0
    finally:
        await a.close()
        await b.close()


async def test_replies_during_a_broadcast_on_two_instances_stay_within_telegrams_rate(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Telegram's 30/s (the emulator's bucket), ``messages_per_second = 25`` (the default),
    two instances, and users writing ~12 times a second while a broadcast runs: the replies
    of every instance come out of the one budget, so Telegram answers no 429."""
    from contextlib import AsyncExitStack

    def one() -> Any:
        config = make_config(
            emulator,
            database,
            telegram=webhook_keys(),
            broadcast={
                "messages_per_second": 25,
                "paid": False,
                "max_probe_interval_seconds": 0.2,
            },
        )
        return running(record(build_application(config)), poll_timeout=1)

    database = tmp_path / "bot.sqlite3"
    count = 400
    emulator.rate_limit = 30
    users = [emulator.user(uid, started=True) for uid in range(1, count + 1)]
    talkers = [emulator.user(100_000 + i, started=True) for i in range(120)]
    emulator.user(ADMIN_ID, started=True)
    await queue_broadcast(database, count)
    async with AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(one())
        await emulator.wait_until(lambda: sum(map(cards, users)) >= 50, timeout=60)
        for talker in talkers:  # ~12/s for 10 s
            await talker.send("/help")
            await asyncio.sleep(1 / 12)
        await emulator.wait_until(
            lambda: all(talker.messages for talker in talkers), timeout=60, message="replies"
        )
    print(f"replies on two instances during a broadcast: {emulator.stats.too_many_requests} 429s")
    assert emulator.stats.too_many_requests == 0


async def test_a_429_holds_every_instances_broadcast_sends(tmp_path: Path) -> None:
    """Telegram's flood control is the whole bot's: the wait of a 429 one instance got moves
    the shared budget's next send time, so the other instance's next sends wait too."""
    a, b, _bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 1)
    try:
        await a.broadcasts.hold_sends(30)
        delay = await b.broadcasts.reserve_sends(1, 0.04)
        assert delay is not None and delay > 20, delay
    finally:
        await a.close()
        await b.close()


async def test_broadcasts_lists_what_only_other_instances_send(tmp_path: Path) -> None:
    """/broadcasts on an instance that has not picked a broadcast up yet (published on
    another, or its run ended early here) still lists it, with what the others sent."""
    from telegram.ext import ExtBot

    from bot.broadcast.engine import BroadcastEngine
    from bot.storage.broadcasts import Outcome

    a, b, bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 5)
    try:
        sent = await b.broadcasts.claim(bid, 0, 3, "UA 0/0", 1, owner="B", lease=30)
        rows = [(r.user_id, Outcome.DELIVERED, 1) for r in sent]
        assert await b.broadcasts.record_many(bid, rows, owner="B") == 3
        engine = BroadcastEngine(ExtBot("1:fake"), a, {}, rate=20)  # never started here
        shown = await engine.current_progress()
        assert [(item.broadcast.id, item.done, item.broadcast.total) for item in shown] == [
            (bid, 3, 5)
        ]
    finally:
        await a.close()
        await b.close()


async def test_an_instance_whose_link_is_down_does_not_resume_when_another_did(
    tmp_path: Path,
) -> None:
    """Another instance reached Telegram again and resumed the broadcast (not paused in the
    database any more), but this instance's own link is still down: its probe must say so
    (it keeps waiting) rather than log "resumed" and send into the outage."""
    from telegram.error import NetworkError
    from telegram.ext import ExtBot

    from bot.broadcast.engine import BroadcastEngine, _Outcomes, _Run

    class DownBot(ExtBot[Any]):
        async def get_me(self, *args: Any, **kwargs: Any) -> Any:
            raise NetworkError("the link is down")

    a, b, bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 3)
    try:
        broadcast = await a.broadcasts.get(bid)
        assert broadcast is not None and broadcast.paused_at is None  # resumed by the other
        engine = BroadcastEngine(DownBot("1:fake"), a, {}, rate=20)
        run = _Run(broadcast, paused_since=1.0, pause_reason="down")
        outcomes = _Outcomes(a, bid)
        try:
            sender = engine._sender
            assert not await engine._probe(run, sender, lambda _r: [], outcomes)
        finally:
            await outcomes.close()
    finally:
        await a.close()
        await b.close()


async def test_a_broadcasts_times_come_from_the_databases_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start, pause, end and the give-up time are compared across instances: on a shared
    database they come from its clock, not from this machine's (set wrong here)."""
    import time
    from types import SimpleNamespace

    from bot.storage import broadcasts

    monkeypatch.setattr(broadcasts, "time", SimpleNamespace(time=lambda: 0.0))
    a, b, _bid = await _two_storages_with_a_broadcast(tmp_path / "bot.sqlite3", 1)
    try:
        assert abs(await a.broadcasts.now() - time.time()) < 600
    finally:
        await a.close()
        await b.close()

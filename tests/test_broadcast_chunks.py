"""Journeys: a broadcast to many is queued in chunks while it sends (issue 16: a million
subscribers), and still reaches exactly whom it should, once each."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from journeys import ADMIN_ID, publish, subscriber

from bot.config import Config
from bot.emulator import Emulator
from bot.storage import broadcasts

SUBSCRIBERS = 11


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broadcasts, "CHUNK", 4)  # 12 recipients: three chunks and an empty one


async def test_a_broadcast_queued_in_chunks_reaches_everyone_it_selects_once(
    emulator: Emulator, bot: Any
) -> None:
    storage = bot.bot_data.storage
    users = [await subscriber(emulator, uid, "en") for uid in range(1, SUBSCRIBERS + 1)]
    admin = await subscriber(emulator, ADMIN_ID, "en")
    # Two follow only another country (Belgium's case is not theirs), one follows Belgium:
    # the chunks after the first select as the first did.
    await storage.selections.add_many(
        [(5, "country", "FR"), (9, "country", "FR"), (10, "country", "BE")]
    )
    await publish(admin, "ua-012-26-1.toml")
    await emulator.wait_until(
        lambda: any("Broadcast finished" in (m.text or "") for m in admin.messages), timeout=30
    )
    report = next(m.text for m in admin.messages if "Broadcast finished" in (m.text or ""))
    assert "Delivered: 10" in report  # 11 + the admin, less the two
    for user in users:
        cards = [m for m in user.messages if "UA 012/26" in (m.text or "")]
        assert len(cards) == (0 if user.id in (5, 9) else 1), user.id
    done = await storage.broadcasts.get(1)  # the first broadcast of this database
    # The total counted at Publish (all 10) is what the last chunk found queued.
    assert done is not None and done.finished and (done.total, done.delivered) == (10, 10)


async def test_a_restart_between_chunks_queues_and_delivers_the_rest(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    """Where the queueing stopped is stored: after a restart the next chunks still come, and
    nobody is lost or sent more than the messages in flight at the stop."""
    slow = replace(config.broadcast, messages_per_second=10)
    ids = list(range(1, 61))
    async with restart(broadcast=slow) as app:
        in_flight = app.bot_data.broadcasts.workers
        users = {uid: await subscriber(emulator, uid, "en") for uid in ids}
        admin = await subscriber(emulator, ADMIN_ID, "en")
        await publish(admin, "ua-012-26-1.toml")
        await emulator.wait_until(
            lambda: sum(bool(u.messages[1:]) for u in users.values()) >= 6, timeout=20
        )
        storage = app.bot_data.storage
        broadcast = await storage.broadcasts.get(1)
        assert broadcast is not None and broadcast.total == len(ids) + 1  # counted at Publish
        queued = sum((await storage.broadcasts.progress(1)).values())
        assert queued < broadcast.total, "still queueing at the stop"

    async with restart(broadcast=slow):
        await emulator.wait_until(
            lambda: any("Broadcast finished" in (m.text or "") for m in admin.messages),
            timeout=30,
        )
    cards = {
        uid: len([m for m in u.messages if "UA 012/26" in (m.text or "")])
        for uid, u in users.items()
    }
    assert all(n >= 1 for n in cards.values()), "nobody is lost"
    assert sum(cards.values()) - len(ids) <= in_flight

"""Journeys: paid broadcasts (``broadcast.paid``) go beyond Telegram's free 30 messages a second
with ``allow_paid_broadcast``; everything else the bot sends stays within the free rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from journeys import ADMIN_ID, publish, subscriber
from telegram import Bot
from telegram.error import RetryAfter

from bot.config import Config
from bot.emulator import Emulator, SimUser, faults

SUBSCRIBERS = 45  # more than Telegram's free 30 a second (the emulator's burst)


async def subscribed(emulator: Emulator, count: int) -> list[SimUser]:
    return [await subscriber(emulator, uid, "en") for uid in range(1, count + 1)]


async def finished(emulator: Emulator, admin: SimUser) -> str:
    await emulator.wait_until(
        lambda: any("Broadcast finished" in (m.text or "") for m in admin.messages), timeout=30
    )
    return next(m.text for m in admin.messages if "Broadcast finished" in (m.text or ""))


async def test_a_paid_broadcast_goes_faster_than_the_free_rate_and_is_paid_for(
    emulator: Emulator, bot: Any
) -> None:
    """At 200/s (conftest: paid), above the emulator's 30/s for ordinary messages: every card
    is a paid message, nothing else is, and Telegram never answers 429."""
    assert emulator.rate_limit == 30 and emulator.paid_rate_limit == 1000  # Telegram's
    users = await subscribed(emulator, SUBSCRIBERS)
    admin = await subscriber(emulator, ADMIN_ID, "en")
    paid_before = emulator.stats.paid_messages
    await publish(admin, "ua-012-26-1.toml")
    report = await finished(emulator, admin)
    assert f"Delivered: {SUBSCRIBERS + 1}" in report
    for user in users:
        assert [m for m in user.messages if "UA 012/26" in (m.text or "")], user.id
    # Every card (the admin's too) was paid for; the greeting, preview and report were not.
    assert emulator.stats.paid_messages - paid_before == SUBSCRIBERS + 1
    assert emulator.stats.too_many_requests == 0


async def test_a_free_broadcast_sends_nothing_paid(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    free = replace(config.broadcast, paid=False, messages_per_second=30)
    async with restart(broadcast=free):
        users = await subscribed(emulator, 5)
        admin = await subscriber(emulator, ADMIN_ID, "en")
        await publish(admin, "ua-012-26-1.toml")
        assert "Delivered: 6" in await finished(emulator, admin)
    assert all(any("UA 012/26" in (m.text or "") for m in u.messages) for u in users)
    assert emulator.stats.paid_messages == 0


async def test_replies_stay_within_the_free_rate_when_broadcasts_are_paid(
    emulator: Emulator, bot: Any
) -> None:
    """The rate limiter runs at 200/s for paid broadcasts, but replies are not paid: a crowd
    asking at once is answered at Telegram's free rate, without a single 429."""
    users = await subscribed(emulator, SUBSCRIBERS)
    await asyncio.sleep(1.1)  # the emulator's free bucket refills to a whole second's worth
    await asyncio.gather(*(user.send("/help") for user in users))
    await emulator.wait_until(
        lambda: all(len(u.messages) >= 2 for u in users), timeout=30, message="every answer"
    )
    assert emulator.stats.too_many_requests == 0


@pytest.fixture
async def tg(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, base_url=emulator.base_url, base_file_url=emulator.base_file_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def test_the_emulator_takes_30_a_second_for_free_and_1000_paid(
    emulator: Emulator, tg: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator's flood control sees no time pass: on a slow machine 40 requests would
    # otherwise spread over enough of a second to be refilled (CI saw 0 refused).
    frozen = time.monotonic()
    monkeypatch.setattr(faults, "time", SimpleNamespace(monotonic=lambda: frozen))
    emulator.user(1, started=True)
    paid = await asyncio.gather(
        *(tg.send_message(1, f"paid {i}", allow_paid_broadcast=True) for i in range(100)),
        return_exceptions=True,
    )
    assert not [r for r in paid if isinstance(r, Exception)]
    assert emulator.stats.paid_messages == 100
    free = await asyncio.gather(
        *(tg.send_message(1, f"free {i}") for i in range(40)), return_exceptions=True
    )
    refused = [r for r in free if isinstance(r, Exception)]
    assert refused and all(isinstance(r, RetryAfter) for r in refused)
    assert 40 - len(refused) == 30  # a second's worth
    assert emulator.stats.too_many_requests == len(refused)
    assert emulator.stats.paid_messages == 100

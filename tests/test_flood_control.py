"""Journey: Telegram's 429 is waited out once, by the rate limiter, for replies and broadcasts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import pytest
from journeys import ADMIN_ID, publish, subscriber

from bot.emulator import ApiError, Emulator

PAUSE = 2  # seconds Telegram asks to wait in the injected 429


def record_sends(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, refused: asyncio.Event
) -> list[tuple[float, bool]]:
    """When the emulator answered each sendMessage and whether it accepted it; ``refused`` is
    set at the first refusal (the emulator's wait_until sees errors only with the next change)."""
    answered: list[tuple[float, bool]] = []
    call = emulator.api.call

    async def recording(method: str, params: Any) -> Any:
        if method.lower() != "sendmessage":
            return await call(method, params)
        try:
            result = await call(method, params)
        except ApiError:
            answered.append((time.monotonic(), False))
            refused.set()
            raise
        answered.append((time.monotonic(), True))
        return result

    monkeypatch.setattr(emulator.api, "call", recording)
    return answered


async def test_a_429_pauses_replies_and_the_broadcast_alike_and_is_waited_once(
    emulator: Emulator, config: Any, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_refusal = asyncio.Event()
    answered = record_sends(emulator, monkeypatch, first_refusal)
    async with restart(broadcast=replace(config.broadcast, messages_per_second=20)) as app:
        users = {uid: await subscriber(emulator, uid, "en") for uid in range(1, 41)}
        admin = await subscriber(emulator, ADMIN_ID, "en")
        talker = await subscriber(emulator, 500, "en")
        await publish(admin, "ua-012-26-1.toml")
        await emulator.wait_until(
            lambda: sum(bool(u.messages[1:]) for u in users.values()) >= 5, timeout=10
        )
        emulator.fail_next(
            "sendMessage", 429, f"Too Many Requests: retry after {PAUSE}", retry_after=PAUSE
        )
        await asyncio.wait_for(first_refusal.wait(), timeout=10)
        await talker.send("/help")
        asked = time.monotonic()
        reply = await talker.receive(timeout=10 + PAUSE)
        assert "What I can do" in reply.text
        await emulator.wait_until(
            lambda: any("Broadcast finished" in m.text for m in admin.messages), timeout=30
        )
        retries = app.bot.rate_limiter.retries_after_429

    [refused] = [at for at, ok in answered if not ok]
    assert asked < refused + PAUSE, "the question came during the pause"
    after = [at for at, ok in answered if ok and at > refused]
    # Nothing went out during the pause: neither the answer nor the broadcast's cards.
    assert after and min(after) >= refused + PAUSE
    # Waited once, by the limiter, which then sent the refused card again.
    assert retries == 1
    assert emulator.stats.too_many_requests == 1
    for user in [*users.values(), talker]:
        assert len([m for m in user.messages if "UA 012/26" in m.text]) == 1, user.id
    assert "Delivered: 42" in admin.messages[-1].text

"""Long polling survives what stands between the bot and Telegram.

PTB's polling loop takes a 401/404 (``InvalidToken``) as fatal. A proxy's or captive portal's
page with that status for a few seconds must not leave the bot deaf with its process still up;
Telegram's own 401 still means a rejected token.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from journeys import subscriber

from bot.emulator import Emulator

pytestmark = pytest.mark.polling  # about getUpdates: not run over webhooks


async def _deaf_for_a_while(emulator: Emulator, status: int, body: str | None = None) -> None:
    """The emulator plays a proxy answering getUpdates with its own page, three polls long."""
    before = emulator.stats.non_api_answers
    kwargs: dict[str, Any] = {"methods": ("getUpdates",), "seconds": 600}
    if body is not None:
        kwargs.update(body=body, content_type="application/json")
    emulator.http_error(status, **kwargs)
    await emulator.wait_until(lambda: emulator.stats.non_api_answers >= before + 3, timeout=60)
    emulator.end_http_error()


@pytest.mark.parametrize("status", [401, 404])
async def test_a_proxys_401_or_404_page_while_polling_is_an_outage(
    emulator: Emulator, bot: Any, status: int
) -> None:
    user = await subscriber(emulator, 1, "en")
    await _deaf_for_a_while(emulator, status)
    await user.send("/privacy")
    assert (await user.receive(timeout=60)).text  # the bot polls again: it was an outage


@pytest.mark.parametrize("body", ["[]", "null", '"bad gateway"', "42"])
async def test_json_that_is_no_bot_api_answer_while_polling_is_an_outage(
    emulator: Emulator, bot: Any, body: str
) -> None:
    user = await subscriber(emulator, 1, "en")
    await _deaf_for_a_while(emulator, 502, body)
    await user.send("/privacy")
    assert (await user.receive(timeout=60)).text


async def test_a_proxys_400_page_while_polling_is_logged_as_an_outage_not_a_bug(
    emulator: Emulator, bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """handlers/errors.py reads the failure with bot.ptb.errors.classify: a 400 that is no Bot
    API answer says nothing about a request of ours, so it is an outage like a 5xx."""
    user = await subscriber(emulator, 1, "en")
    await _deaf_for_a_while(emulator, 400)
    await user.send("/privacy")
    assert (await user.receive(timeout=60)).text
    messages = [record.getMessage() for record in caplog.records]
    assert any("Telegram not reachable while polling" in m for m in messages)
    assert not any(m.startswith("error while handling") for m in messages)


async def test_the_end_of_an_outage_is_logged_once(
    emulator: Emulator, bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Each failed poll is a warning; without a line when it works again, the log of a
    recovered bot reads like one still cut off."""
    caplog.set_level(logging.INFO, logger="bot.ptb.http")
    user = await subscriber(emulator, 1, "en")
    await _deaf_for_a_while(emulator, 502)
    await user.send("/privacy")
    assert (await user.receive(timeout=60)).text
    messages = [record.getMessage() for record in caplog.records]
    warned = [i for i, m in enumerate(messages) if "Telegram not reachable while polling" in m]
    back = [i for i, m in enumerate(messages) if "Telegram reachable again" in m]
    assert warned and len(back) == 1, messages
    assert back[0] > warned[-1]
    assert "polling resumed after" in messages[back[0]]

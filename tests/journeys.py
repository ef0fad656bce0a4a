"""Steps that many journeys share: a supporter subscribes, an admin publishes a file."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from telegram.ext import ConversationHandler

from bot.emulator import Emulator, SentMessage, SimUser

FIXTURES = Path(__file__).parent / "fixtures" / "actions"
ADMIN_ID = 9000
# The tests' today (``BotData.today``, set for every test in conftest.py): the fixture cases
# are current then (UA 012/26's deadline is 2026-03-03), so only the tests that move the clock
# see deadlines pass.
TODAY = date(2026, 2, 1)


async def subscriber(emulator: Emulator, user_id: int, language_code: str) -> SimUser:
    """A user who sent /start and read the greeting."""
    user = emulator.user(user_id, first_name=f"User{user_id}", language_code=language_code)
    await user.send("/start")
    await user.receive()
    return user


async def upload(admin: SimUser, name: str) -> SentMessage:
    """The admin sends a fixture file; returns the bot's answer (preview or problems)."""
    data = (FIXTURES / name).read_bytes()
    await admin.upload(name, data, mime_type="application/toml")
    return await admin.receive()


async def publish(admin: SimUser, name: str) -> SentMessage:
    """Upload, then tap Publish under the preview; returns the preview message."""
    preview = await upload(admin, name)
    answer = await admin.tap(preview, "📣 Publish")
    assert answer.text in ("", None), answer
    return preview


def timeout_jobs(app: Any, name: str, user_id: int) -> list[Any]:
    """The pending timeout jobs of the user's dialogue ``name`` (a ConversationHandler's)."""
    return [
        job
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler) and handler.name == name
        for key, job in handler.timeout_jobs.items()
        if user_id in key
    ]


async def pending_timeout(app: Any, name: str, user_id: int) -> list[Any]:
    """Wait for the dialogue's timeout job: PTB schedules it once the handler that answered
    has returned, a moment after its answer arrived."""
    deadline = time.monotonic() + 10
    while not (jobs := timeout_jobs(app, name, user_id)):
        assert time.monotonic() < deadline, f"no {name} timeout pending for {user_id}"
        await asyncio.sleep(0.01)
    return jobs


async def time_out(app: Any, name: str, user_id: int) -> None:
    """Let the user's open dialogue time out now, with the configured timeout (30 minutes)
    and its wording: its timeout job is moved to now and runs through PTB's scheduler.

    Time is compressed here rather than by a timeout of seconds, which a slow machine would
    reach in the middle of a journey.
    """
    for job in await pending_timeout(app, name, user_id):
        job.job.modify(next_run_time=datetime.now(UTC))

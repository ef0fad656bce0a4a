"""Steps that many journeys share: a supporter subscribes, an admin publishes a file."""

from __future__ import annotations

from pathlib import Path

from bot.emulator import Emulator, SentMessage, SimUser

FIXTURES = Path(__file__).parent / "fixtures" / "actions"
ADMIN_ID = 9000


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

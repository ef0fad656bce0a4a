"""A supporter's own settings: alerts on or off, deadline reminders, language.

The rules (who counts as subscribed, what switching reminders off forgets) are decided here
once; /start, /subscribe, /unsubscribe, the start message's buttons, /reminders and /language
only translate the result into a reply.
"""

from __future__ import annotations

from enum import Enum

from bot.storage import Storage, User


class Alerts(Enum):
    """What a request to turn alerts on or off did."""

    SUBSCRIBED = "subscribed"
    ALREADY_ON = "already-on"
    PAUSED = "paused"
    ALREADY_OFF = "already-off"


async def subscribe(storage: Storage, user_id: int, language: str) -> bool:
    """Store (or re-activate) a subscriber; True when they were not subscribed before."""
    async with storage.db.transaction():
        return await storage.users.subscribe(user_id, language)


async def join_unsubscribed(storage: Storage, user_id: int, language: str) -> None:
    """Store a newcomer who came for something else (a group's writing session) with their
    language but without alerts: subscribing is their choice (/subscribe)."""
    async with storage.db.transaction():
        await storage.users.set_language(user_id, language)


async def set_alerts(storage: Storage, user_id: int, on: bool, language: str) -> Alerts:
    """Resume (or start) alerts, or pause them; the bot keeps working either way."""
    if on:
        return (
            Alerts.SUBSCRIBED if await subscribe(storage, user_id, language) else Alerts.ALREADY_ON
        )
    async with storage.db.transaction():
        stored = await storage.users.get(user_id)
        if stored is None or not stored.subscribed:
            return Alerts.ALREADY_OFF
        await storage.users.set_subscribed(user_id, False)
    return Alerts.PAUSED


async def set_reminders(storage: Storage, user_id: int, on: bool) -> bool:
    """Switch deadline reminders (off also forgets the cases opened); False for a user the bot
    does not know (reminders are for subscribers)."""
    async with storage.db.transaction():
        return await storage.reminders.set_enabled(user_id, on)


async def change_language(
    storage: Storage, user_id: int, code: str, languages: tuple[str, ...]
) -> bool:
    """Remember a language choice; False when ``code`` is not (or no longer) offered."""
    if code not in languages:
        return False
    await storage.users.set_language(user_id, code)
    return True


async def note_seen(storage: Storage, user: User) -> None:
    """Note that a stored user wrote to the bot (their reachability and last-seen date)."""
    await storage.users.seen(user)


async def note_staff_language(storage: Storage, user_id: int, language: str) -> None:
    """An admin who never subscribed wrote: keep their language (staff, not a supporter), so
    the notices of jobs, which have no ``language_code``, speak as their replies did."""
    await storage.users.set_language(user_id, language)


async def note_interest(storage: Storage, user_id: int, case: str) -> None:
    """A supporter opened a case: its follow-ups concern them, and a deadline reminder too
    (if switched on)."""
    await storage.reminders.interested(user_id, case)

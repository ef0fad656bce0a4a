"""Messages outside an update: to the admins, each in their own language, and ``send_to``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.broadcast.ratelimit import BACKGROUND
from bot.config import Config
from bot.i18n import reader_language, use_locale
from bot.ptb.errors import Verdict, classify
from bot.ptb.text import split
from bot.storage import Storage

log = logging.getLogger(__name__)

Build = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


async def send_to(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    background: bool = False,
) -> Message:
    """The one way to message someone outside an update (admins, reminders).

    The application's ``Defaults`` supply the send options (parse mode, link previews), as for
    every reply. ``background`` traffic (reminders) yields to replies in the rate limiter. A
    text over Telegram's limit goes in parts; the buttons go under the last one (returned).
    """
    parts = split(text)
    for index, part in enumerate(parts):
        markup = keyboard if index == len(parts) - 1 else None
        if background and isinstance(bot, ExtBot) and bot.rate_limiter is not None:
            last = await bot.send_message(
                chat_id, part, reply_markup=markup, rate_limit_args=BACKGROUND
            )
        else:
            last = await bot.send_message(chat_id, part, reply_markup=markup)
    return last


async def notify_admins(
    bot: Bot, storage: Storage, config: Config, build: Build, *, to: Collection[int] | None = None
) -> dict[int, Verdict]:
    """Send ``build()`` (rendered in each admin's language) to every admin, or to those in ``to``.

    Returns the admins it could not reach for a passing reason, with why: an outage (the
    message did not leave) or ``Verdict.UNANSWERED`` (it went out, Telegram's answer did not
    come: maybe delivered). A caller that must deliver (the final report of a broadcast) tries
    them again, the unanswered ones once at most.
    """
    _, missed = await _notify(bot, storage, config, build, to)
    return missed


async def reached_admins(bot: Bot, storage: Storage, config: Config, build: Build) -> bool:
    """Send ``build()`` to every admin; whether at least one received it (news that must not
    be lost, such as a feed file's preview, is tried again until then)."""
    delivered, _ = await _notify(bot, storage, config, build, None)
    return bool(delivered)


async def _notify(
    bot: Bot, storage: Storage, config: Config, build: Build, to: Collection[int] | None
) -> tuple[list[int], dict[int, Verdict]]:
    recipients = sorted(to) if to is not None else sorted(config.telegram.admins)
    delivered: list[int] = []
    missed: dict[int, Verdict] = {}
    for admin_id in recipients:
        user = await storage.users.get(admin_id)
        with use_locale(reader_language(config.i18n, user.language if user else None)):
            text, markup = build()
        try:
            await send_to(bot, admin_id, text, keyboard=markup)
        except TelegramError as exc:
            log.warning("could not send a message to an admin: %s", exc)
            verdict = classify(exc)
            if verdict in (Verdict.TRANSIENT, Verdict.RETRY_AFTER, Verdict.UNANSWERED):
                missed[admin_id] = verdict
        else:
            delivered.append(admin_id)
    return delivered, missed

"""Messages to the admins, each in their own language."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.config import Config
from bot.i18n import reader_language, use_locale
from bot.storage import Storage
from bot.telegram_errors import Verdict, classify

log = logging.getLogger(__name__)

Build = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


async def notify_admins(
    bot: Bot, storage: Storage, config: Config, build: Build, *, only: int | None = None
) -> list[int]:
    """Send ``build()`` (rendered in each admin's language) to every admin, or to ``only``.

    Returns the admins it could not reach for a passing reason (an outage), whom a caller that
    must deliver (the final report of a broadcast) tries again.
    """
    recipients = [only] if only is not None else sorted(config.telegram.admins)
    missed: list[int] = []
    for admin_id in recipients:
        user = await storage.users.get(admin_id)
        with use_locale(reader_language(config.i18n, user.language if user else None)):
            text, markup = build()
        try:
            await bot.send_message(admin_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("could not send a message to an admin: %s", exc)
            if classify(exc) in (Verdict.TRANSIENT, Verdict.RETRY_AFTER):
                missed.append(admin_id)
    return missed

"""Messages to the admins, each in their own language."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.config import Config
from bot.i18n import reader_language, use_locale
from bot.storage import Storage

log = logging.getLogger(__name__)

Build = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


async def notify_admins(
    bot: Bot, storage: Storage, config: Config, build: Build, *, only: int | None = None
) -> None:
    """Send ``build()`` (rendered in each admin's language) to every admin, or to ``only``."""
    recipients = [only] if only is not None else sorted(config.telegram.admins)
    for admin_id in recipients:
        user = await storage.users.get(admin_id)
        with use_locale(reader_language(config.i18n, user.language if user else None)):
            text, markup = build()
        try:
            await bot.send_message(admin_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("could not send a message to an admin: %s", exc)

"""Whatever no other handler took: unknown commands and free text get a short hint."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands import ADMIN_COMMANDS
from bot.context import Context
from bot.i18n import gettext as _
from bot.telegram_text import escape
from handlers.replies import answer, say, text_of, user_of

log = logging.getLogger(__name__)
ADMIN_COMMAND_NAMES = frozenset(name for name, _description in ADMIN_COMMANDS)


async def unknown_command(update: Update, context: Context) -> None:
    """An unknown command (or an admin command called by a non-admin) looks the same."""
    text = text_of(update)
    command = text.split()[0].lstrip("/").split("@")[0] if text.startswith("/") else ""
    if command in ADMIN_COMMAND_NAMES:
        log.warning(
            "refused admin command /%s from user %s",
            command,
            user_of(update).id,
        )
    await say(update, escape(_("I don't know that command. /help lists what I can do.")))


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel outside a letter or an admin dialogue."""
    await say(update, escape(_("There is nothing to cancel. /help lists what I can do.")))


async def free_text(update: Update, context: Context) -> None:
    """Text outside a conversation: point to the commands instead of ignoring the user."""
    await say(
        update, escape(_("I only understand commands and buttons. /help lists what I can do."))
    )


async def stale_button(update: Update, context: Context) -> None:
    """A button from an older version of the bot, or for something that no longer exists."""
    await answer(update, _("This button no longer works. /help lists what I can do."), alert=True)


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("cancel", nothing_to_cancel, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.COMMAND, free_text))
    app.add_handler(CallbackQueryHandler(stale_button))

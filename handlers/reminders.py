"""/reminders on|off: the supporter's say over deadline reminders."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import Context
from bot.i18n import gettext as _
from bot.services.subscriptions import set_reminders
from bot.telegram_text import escape
from handlers.replies import say, user_of


async def reminders(update: Update, context: Context) -> None:
    """Turn deadline reminders on or off, or say how they are set."""
    user_id = user_of(update).id
    choice = (context.args or [""])[0].lower()
    if choice in ("on", "off"):
        if not await set_reminders(context.storage, user_id, choice == "on"):
            text = _("Send /start first: reminders are for subscribers.")
        elif choice == "on":
            text = _(
                "Reminders are on: a few days before a deadline, I remind you of the cases "
                "you opened and have not confirmed a letter for."
            )
        else:
            text = _("Reminders are off. /reminders on turns them back on.")
    elif await context.storage.reminders.enabled(user_id):
        text = _("Reminders are on. /reminders off turns them off.")
    else:
        text = _("Reminders are off. /reminders on turns them back on.")
    await say(update, escape(text))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("reminders", reminders, filters=filters.ChatType.PRIVATE))

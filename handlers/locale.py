"""Pick the language of every update before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.context import Context
from bot.i18n import current_locale, negotiate


async def use_user_language(update: Update, context: Context) -> None:
    """The stored choice, else Telegram's language_code, else the default."""
    config = context.config
    languages = config.i18n.languages
    user = update.effective_user
    language = config.i18n.default_language
    if user is not None:
        stored = await context.storage.users.get(user.id)
        if stored is not None:
            await context.storage.users.seen(stored)
        if stored is not None and stored.language in languages:
            language = stored.language
        else:
            language = negotiate(user.language_code, languages, config.i18n.default_language)
    context.language = language
    current_locale.set(language)


def register(app: Application, group: int) -> None:
    app.add_handler(TypeHandler(Update, use_user_language), group=group)

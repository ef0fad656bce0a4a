"""Pick the language of every update before any other handler runs.

A person's language is theirs (``bot.i18n.reader_language`` decides); what the bot says in a
group is in the group's language (chosen by who added the bot, changed by its admins with
/language), so every member reads the same. A button's answer (a toast) goes to the one
person who tapped, so it stays in theirs.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.i18n import current_locale, reader_language
from bot.ptb import commands
from bot.ptb.context import Context
from bot.ptb.groups import is_group
from bot.services import subscriptions


async def language_of(update: Update, context: Context, *, seen: bool = False) -> str:
    """The language of the update: a group's message speaks the group's (once it is known),
    anything else its user's; with ``seen``, also note that the user was seen."""
    language = await user_language(update, context, seen=seen)
    chat = update.effective_chat
    if chat is not None and is_group(chat) and update.callback_query is None:
        group = await context.storage.groups.get(chat.id)
        if group is not None:
            return reader_language(context.config.i18n, group.language)
    return language


async def user_language(update: Update, context: Context, *, seen: bool = False) -> str:
    """The language of the update's user (``bot.i18n.reader_language`` decides), wherever
    they write; with ``seen``, also note that the user was seen."""
    user = update.effective_user
    if user is None:  # a poll or a channel post: no reader, so the default language
        return reader_language(context.config.i18n, None)
    stored = await context.storage.users.get(user.id)
    if seen and stored is not None:
        await subscriptions.note_seen(context.storage, stored)
    language = reader_language(
        context.config.i18n, stored.language if stored else None, user.language_code
    )
    if seen and stored is None and context.config.is_admin(user.id):
        # Staff, not supporters: their language is stored when they write, so the notices of
        # jobs (which have no language_code) speak the language their replies did.
        await subscriptions.note_staff_language(context.storage, user.id, language)
    return language


async def use_user_language(update: Update, context: Context) -> None:
    """Set the locale for this update, and note that the user was seen (in a chat: typing
    ``@bot`` in another chat proves nothing about a bot they blocked)."""
    seen = update.effective_chat is not None
    current_locale.set(await language_of(update, context, seen=seen))
    user = update.effective_user
    waiting = context.bot_data.admin_menus_waiting
    # An admin who had never opened the bot at start: Telegram knows the chat now.
    if (
        seen
        and user is not None
        and user.id in waiting
        and await commands.set_admin_menu(context.bot, context.config, user.id)
    ):
        waiting.discard(user.id)


async def use_job_user_language(update: object, context: Context) -> None:
    """Set the locale in a job that acts on an earlier update (a conversation's timeout).

    A job has no update of its own: without this it would speak in whatever locale the
    task that scheduled it had.
    """
    if isinstance(update, Update):
        current_locale.set(await language_of(update, context))


def register(app: Application, group: int) -> None:
    app.add_handler(TypeHandler(Update, use_user_language), group=group)

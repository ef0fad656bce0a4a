"""Inline mode: typing ``@bot`` in any chat lists the open cases to share, in the typist's
language; choosing one posts its card with a "✍️ Write a letter" link to the bot."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.ext import Application, InlineQueryHandler

from bot.actions import render
from bot.actions.links import case_payload
from bot.ptb.context import Context
from bot.services import sharing
from handlers.replies import inline_query_of, offer

# How long Telegram may show a cached answer to the same query. Short: the letter counts and
# the open cases change, and a closed case should stop being offered within a minute.
CACHE_SECONDS = 60
# The language, and so the answer, differs per user: Telegram must not give one user's
# cached answer to another.
PERSONAL = True


def _result(
    found: sharing.SharedCase, context: Context, bot_username: str
) -> InlineQueryResultArticle:
    revision = found.revision
    default = context.config.i18n.default_language
    today = context.bot_data.today()
    card = render.shared_card(revision, default, found.letters, bot_username, today=today)
    (text,) = card.texts
    return InlineQueryResultArticle(
        id=case_payload(revision.case),  # unique per answer and well under 64 bytes
        title=revision.text_for(context.language, default)[0].title,
        description=render.shared_description(revision, today, found.letters),
        input_message_content=InputTextMessageContent(text),
        reply_markup=card.keyboard,
    )


async def share_cases(update: Update, context: Context) -> None:
    """List the open cases matching what the user typed after ``@bot``."""
    query = inline_query_of(update)
    page = await sharing.open_cases(
        context.storage,
        query.query,
        context.language,
        context.config.i18n.default_language,
        today=context.bot_data.today(),
        expired_days=context.config.actions.expired_days,
        offset=query.offset,
    )
    username = context.bot.username
    await offer(
        update,
        [_result(found, context, username) for found in page.cases],
        next_offset=page.next_offset,
        cache_time=CACHE_SECONDS,
        personal=PERSONAL,
    )


def register(app: Application) -> None:
    app.add_handler(InlineQueryHandler(share_cases))

"""Admins type a text per language: the default one first, the others skippable.

Shared by /close (the outcome) and /announce (the message): one state that asks for the
pending languages in turn, then hands the texts to the command's own preview.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.i18n import current_locale, language_name
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.text_input import InvalidInput, check_text
from handlers.replies import answer, message_of, say, user_data_of

Done = Callable[[Update, Context, dict[str, Any]], Awaitable[int]]


@dataclass(frozen=True)
class Collect:
    """How one command collects its texts."""

    key: str  # where the work in progress lives in user_data
    state: int  # the conversation state that collects
    limit: int
    prompt: Callable[[str], str]  # language name -> the question, in the admin's language
    done: Done  # called with the work in progress once every language was asked


async def begin(
    update: Update,
    context: Context,
    spec: Collect,
    offered: Collection[str] | None = None,
    **extra: Any,
) -> int:
    """Ask for the default language's text, then for the other configured languages (those
    in ``offered``, when given), each skippable."""
    i18n = context.config.i18n
    languages = [i18n.default_language] + [
        code
        for code in i18n.languages
        if code != i18n.default_language and (offered is None or code in offered)
    ]
    user_data_of(context)[spec.key] = {"texts": {}, "pending": languages, **extra}
    return await _ask(update, context, spec)


def current(context: Context, key: str, *, pop: bool = False) -> dict[str, Any] | None:
    """The work in progress, unless it was left alone past the dialogue timeout.

    The conversation's own timeout is a job, and PTB keeps no jobs across a restart: a
    dialogue restored from persistence could otherwise take a text typed days later.
    """
    data = context.user_data if context.user_data is not None else {}
    work: dict[str, Any] | None = data.pop(key, None) if pop else data.get(key)
    timeout = context.config.letters.timeout_minutes * 60
    if work is not None and time.time() - work.get("touched", 0.0) > timeout:
        data.pop(key, None)
        return None
    return work


def handlers(spec: Collect) -> list[BaseHandler[Update, Any, Any]]:
    """The collecting state's handlers: typed text, and the Skip button."""
    return [
        MessageHandler(filters.TEXT & ~filters.COMMAND, typed(spec)),
        CallbackQueryHandler(skipped(spec), pattern=callbacks.SKIP_LANGUAGE.pattern()),
    ]


async def _ask(update: Update, context: Context, spec: Collect) -> int:
    work = user_data_of(context)[spec.key]
    work["touched"] = time.time()
    if not work["pending"]:
        return await spec.done(update, context, work)
    language = work["pending"][0]
    name = language_name(language, current_locale.get())
    markup = None
    if work["texts"]:  # only the default language is required
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "⏭ " + _("Skip"), callback_data=callbacks.SKIP_LANGUAGE.data()
                    )
                ]
            ]
        )
    await say(update, escape(spec.prompt(name)), markup)
    return spec.state


def typed(spec: Collect) -> Callable[[Update, Context], Coroutine[Any, Any, int]]:
    async def handler(update: Update, context: Context) -> int:
        work = current(context, spec.key)
        if not work:
            return await lost(update, context)
        try:
            text = check_text(message_of(update).text, spec.limit)
        except InvalidInput as problem:
            await say(update, escape(str(problem)))
            return spec.state
        work["texts"][work["pending"].pop(0)] = text
        return await _ask(update, context, spec)

    return handler


def skipped(spec: Collect) -> Callable[[Update, Context], Coroutine[Any, Any, int]]:
    async def handler(update: Update, context: Context) -> int:
        await answer(update)
        work = current(context, spec.key)
        if not work:
            return await lost(update, context)
        if work["texts"] and work["pending"]:
            work["pending"].pop(0)
        return await _ask(update, context, spec)

    return handler


async def lost(update: Update, context: Context) -> int:
    from telegram.ext import ConversationHandler

    await say(update, escape(_("This was cancelled or has expired; please start again.")))
    return ConversationHandler.END

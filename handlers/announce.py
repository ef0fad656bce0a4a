"""/announce: a message per language, a preview with its reach, then a broadcast to all."""

from __future__ import annotations

import math
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from bot.i18n import format_number, language_name, ngettext
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import announcements
from bot.services.publishing import announce
from handlers import collect
from handlers.access import admin_filter
from handlers.conversations import Timeout, conversation
from handlers.replies import answer, query_of, say, say_parts, set_buttons

TEXT, CONFIRM = range(2)
KEY = "announcement"


async def start(update: Update, context: Context) -> int:
    return await collect.begin(update, context, SPEC)


async def _preview(update: Update, context: Context, work: dict[str, Any]) -> int:
    config = context.config
    texts: dict[str, str] = work["texts"]
    subscribers = await context.storage.users.count_reachable_subscribers()
    missing = [code for code in config.i18n.languages if code not in texts]
    lines = [
        escape(
            ngettext(
                "This goes to {count} subscriber.",
                "This goes to {count} subscribers.",
                subscribers,
            ).format(count=format_number(subscribers))
        )
    ]
    if missing:
        names = ", ".join(language_name(code, context.language) for code in missing)
        lines.append(
            escape(
                _("Readers of {languages} get the {default} text.").format(
                    languages=names,
                    default=language_name(config.i18n.default_language, context.language),
                )
            )
        )
    lines += ["", "<i>" + escape(_("This is how it will look:")) + "</i>"]
    await say(update, "\n".join(lines))
    preview = announcements.for_language(config, texts, context.language)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📣 " + _("Send"), callback_data=callbacks.ANNOUNCE_SEND.data()
                ),
                InlineKeyboardButton(_("Cancel"), callback_data=callbacks.ANNOUNCE_CANCEL.data()),
            ]
        ]
    )
    await say_parts(update, preview.texts, markup)
    return CONFIRM


async def confirm(update: Update, context: Context) -> int:
    query = query_of(update)
    await answer(update)
    work = collect.current(context, KEY, pop=True)
    await set_buttons(update, None)
    if callbacks.ANNOUNCE_CANCEL.matches(query.data) or not work:
        await say(update, escape(_("Cancelled: nothing was sent.")))
        return ConversationHandler.END
    await announce(
        context.storage,
        work["texts"],
        requested_by=query.from_user.id,
        engine=context.broadcasts,
    )
    await say(update, escape(_("The announcement is on its way; a report follows at the end.")))
    return ConversationHandler.END


async def cancel(update: Update, context: Context) -> int:
    (context.user_data or {}).pop(KEY, None)
    await say(update, escape(_("Cancelled: nothing was sent.")))
    return ConversationHandler.END


def _timeout_note(minutes: float) -> str:
    return ngettext(
        "The announcement was left for {minutes} minute, so I stopped it; nothing was "
        "sent. Send /announce again to start over.",
        "The announcement was left for {minutes} minutes, so I stopped it; nothing was "
        "sent. Send /announce again to start over.",
        math.ceil(minutes),
    ).format(minutes=format_number(minutes))


SPEC = collect.Collect(
    key=KEY,
    state=TEXT,
    limit=announcements.TEXT_MAX,
    prompt=lambda language: _("Send the announcement in {language}.").format(language=language),
    done=_preview,
)


def register(app: Application) -> None:
    admins = admin_filter(app.bot_data.config)
    app.add_handler(
        conversation(
            "announce",
            entry_points=[CommandHandler("announce", start, filters=admins)],
            states={
                TEXT: collect.handlers(SPEC),
                CONFIRM: [
                    CallbackQueryHandler(
                        confirm,
                        pattern=callbacks.any_of(
                            callbacks.ANNOUNCE_SEND, callbacks.ANNOUNCE_CANCEL, arity=0
                        ),
                    )
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            timeout=Timeout(app.bot_data.config.letters.timeout_minutes, KEY, _timeout_note),
        )
    )

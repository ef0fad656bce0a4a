"""/close <case>: the outcome per language, its kind (good, mixed, bad), a preview, then the
closure is broadcast."""

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

from bot.actions import render
from bot.actions.closure import OUTCOME_MAX, OUTCOMES, closing_revision
from bot.actions.importer import ImportRefused, load
from bot.actions.model import ActionRevision, case_from_text
from bot.i18n import format_date, format_number, ngettext
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import following
from bot.services.publishing import close_case
from handlers import collect
from handlers.access import admin_filter
from handlers.conversations import Timeout, conversation
from handlers.replies import answer, edit, query_of, say, set_buttons

OUTCOME, CONFIRM, KIND = range(3)
KEY = "closing"


async def start(update: Update, context: Context) -> int:
    """/close UA 012/26: check the case, then ask for the outcome."""
    case = case_from_text(" ".join(context.args or []))
    if case is None:
        await say_text(update, _("Which case? For example: /close UA 012/26"))
        return ConversationHandler.END
    latest = await load(context.storage, case)
    if latest is None:
        await say_text(
            update, _("There is no published case {case}.").format(case=render.case_label(case))
        )
        return ConversationHandler.END
    if latest.is_closed:
        await say_text(
            update,
            _("{case} is already closed (on {date}); nothing changed.").format(
                case=render.case_label(case), date=format_date(latest.closed_on or latest.issued)
            ),
        )
        return ConversationHandler.END
    return await collect.begin(update, context, SPEC, latest.texts, case=case)


async def _ask_kind(update: Update, context: Context, work: dict[str, Any]) -> int:
    """Every outcome text is in: was it good, mixed or bad? (The archive shows it, and
    "Letters helped in N cases" counts the good ones.)"""
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    render.outcome_label(kind) or kind,
                    callback_data=callbacks.CLOSE_OUTCOME.data(kind),
                )
            ]
            for kind in OUTCOMES
        ]
    )
    await say(
        update,
        escape(
            _(
                "Was the outcome good, mixed or bad for the people in this case? "
                "“Letters helped in N cases” counts the good ones."
            )
        ),
        markup,
    )
    return KIND


async def kind_chosen(update: Update, context: Context) -> int:
    """Good, mixed or bad tapped: record it on the question, then the preview."""
    query = query_of(update)
    await answer(update)
    work = collect.current(context, KEY)
    parsed = callbacks.CLOSE_OUTCOME.parse(query.data, str)
    if not work or parsed is None or parsed.text(0) not in OUTCOMES:
        await set_buttons(update, None)
        return await collect.lost(update, context)
    work["kind"] = kind = parsed.text(0)
    await edit(update, escape(render.outcome_label(kind) or kind) + " ✓")
    return await _preview(update, context, work)


async def _preview(update: Update, context: Context, work: dict[str, Any]) -> int:
    closing = await _closing(context, work)
    if closing is None:
        return await collect.lost(update, context)
    reach, subscribers = await following.reach(context.storage, closing)
    count = await context.storage.tally.count(closing.case)
    text = "\n\n".join(
        [
            "<b>"
            + escape(_("Close {case}?").format(case=render.case_label(closing.case)))
            + "</b> "
            + escape(render.reach_line(reach, subscribers)),
            "<i>" + escape(_("This is how it will look:")) + "</i>",
            render.card_text(closing, context.config.i18n.default_language, count),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ " + _("Close the case"), callback_data=callbacks.CLOSE_CONFIRM.data()
                ),
                InlineKeyboardButton(_("Cancel"), callback_data=callbacks.CLOSE_CANCEL.data()),
            ]
        ]
    )
    await say(update, text, markup)
    return CONFIRM


async def _closing(context: Context, work: dict[str, Any]) -> ActionRevision | None:
    latest = await load(context.storage, work["case"])
    if latest is None or latest.is_closed:
        return None
    return closing_revision(latest, work["texts"], context.bot_data.today(), work.get("kind"))


async def confirm(update: Update, context: Context) -> int:
    """Close: the closing revision goes through the same import and publish path as files."""
    query = query_of(update)
    await answer(update)
    work = collect.current(context, KEY, pop=True)
    if callbacks.CLOSE_CANCEL.matches(query.data):
        await set_buttons(update, None)
        await say_text(update, _("Cancelled: the case stays open."))
        return ConversationHandler.END
    closing = await _closing(context, work) if work else None
    if closing is None:
        return await collect.lost(update, context)
    admin_id = query.from_user.id
    try:
        broadcast = await close_case(
            context.storage,
            closing,
            by=admin_id,
            engine=context.broadcasts,
            app=context.application,
        )
    except ImportRefused as refusal:
        await say_text(update, str(refusal))
        return ConversationHandler.END
    await set_buttons(update, None)
    if broadcast is None:
        return await collect.lost(update, context)
    await say_text(
        update,
        _("{case} is closed. The closure is on its way; a report follows at the end.").format(
            case=render.case_label(closing.case)
        ),
    )
    return ConversationHandler.END


async def cancel(update: Update, context: Context) -> int:
    (context.user_data or {}).pop(KEY, None)
    await say_text(update, _("Cancelled: the case stays open."))
    return ConversationHandler.END


def _timeout_note(minutes: float) -> str:
    return ngettext(
        "Closing the case was left for {minutes} minute, so I stopped it; the case stays "
        "open. Send /close again to start over.",
        "Closing the case was left for {minutes} minutes, so I stopped it; the case stays "
        "open. Send /close again to start over.",
        math.ceil(minutes),
    ).format(minutes=format_number(minutes))


async def say_text(update: Update, text: str) -> None:
    await say(update, escape(text))


SPEC = collect.Collect(
    key=KEY,
    state=OUTCOME,
    limit=OUTCOME_MAX,
    prompt=lambda language: _(
        "What was the outcome? Send it in {language} (at most {limit} characters), for "
        "example: “She was released on 3 March.”"
    ).format(language=language, limit=format_number(OUTCOME_MAX)),
    done=_ask_kind,
)


def register(app: Application) -> None:
    admins = admin_filter(app.bot_data.config)
    app.add_handler(
        conversation(
            "close",
            entry_points=[CommandHandler("close", start, filters=admins)],
            states={
                OUTCOME: collect.handlers(SPEC),
                KIND: [
                    CallbackQueryHandler(
                        kind_chosen, pattern=callbacks.CLOSE_OUTCOME.pattern(arity=1)
                    )
                ],
                CONFIRM: [
                    CallbackQueryHandler(
                        confirm,
                        pattern=callbacks.any_of(
                            callbacks.CLOSE_CONFIRM, callbacks.CLOSE_CANCEL, arity=0
                        ),
                    )
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            timeout=Timeout(app.bot_data.config.letters.timeout_minutes, KEY, _timeout_note),
        )
    )

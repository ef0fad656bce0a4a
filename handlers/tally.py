""" "I sent it" and /mine: the count that shows supporters their letters add up."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.actions import render
from bot.actions.importer import load
from bot.context import Context
from bot.i18n import format_date, format_number, ngettext
from bot.i18n import gettext as _
from bot.telegram_text import escape
from handlers.replies import say_all


async def sent(update: Update, context: Context) -> None:
    """Count the letter once per supporter and revision; thank them; update the card."""
    query = update.callback_query
    assert query is not None
    ref, number, *rest = callbacks.args(query.data)  # type: ignore[arg-type]
    case, revision_number = callbacks.case_from_ref(ref), int(number)
    revision = await load(context.storage, case, revision_number)
    if revision is None:
        await query.answer(_("This case is no longer available."), show_alert=True)
        return
    user_id = query.from_user.id
    storage = context.storage
    if await storage.users.get(user_id) is None:
        # Counting once per person needs the person's id (e.g. after /forget).
        await storage.users.set_language(user_id, context.language)
    letter_language = rest[0] if rest else context.language
    new = await storage.tally.confirm(case, revision_number, user_id, letter_language)
    count = await storage.tally.count(case)
    if new and count == 1:
        thanks = _("Thank you! Yours is the first letter counted.")
    elif new:
        thanks = ngettext(
            "Thank you! You are one of {count} person who sent a letter.",
            "Thank you! You are one of {count} people who sent a letter.",
            count,
        ).format(count=format_number(count))
    else:
        thanks = _("Already counted, thank you! {letters} so far.").format(
            letters=render.letters_sent(count)
        )
    await query.answer(thanks)
    message = query.message
    if not new or message is None:
        return
    if getattr(message, "text", None):  # a card: it shows the new count
        latest = await load(storage, case) or revision
        await query.edit_message_text(
            render.card_text(revision, context.config.i18n.default_language, count),
            reply_markup=render.card_keyboard(latest),
        )
    else:  # the letter's document: its button shows that it was counted
        button = InlineKeyboardButton("✅ " + render.letters_sent(count), callback_data=query.data)
        await query.edit_message_reply_markup(InlineKeyboardMarkup([[button]]))


async def mine(update: Update, context: Context) -> None:
    """The cases this supporter wrote for, with their status and count."""
    storage = context.storage
    user = update.effective_user
    cases = await storage.tally.cases_of(user.id) if user else []
    if not cases:
        await update.effective_message.reply_text(  # type: ignore[union-attr]
            escape(_("You have not confirmed a letter yet. /actions shows the open cases."))
        )
        return
    counts = await storage.tally.counts(cases)
    default = context.config.i18n.default_language
    lines = ["<b>" + escape(_("Your letters")) + "</b>"]
    for case in cases:
        revision = await load(storage, case)
        if revision is None:
            continue
        text, _fell_back = revision.text_for(context.language, default)
        status = (
            _("closed on {date}").format(date=format_date(revision.closed_on or revision.issued))
            if revision.is_closed
            else _("open")
        )
        lines.append(
            f"• <b>{escape(case)}</b> · {escape(text.title)}\n  "
            + escape(f"{status} · {render.letters_sent(counts[case])}")
        )
    await say_all(update, lines)


def register(app: Application) -> None:
    app.add_handlers(
        [
            CallbackQueryHandler(sent, pattern=callbacks.pattern(render.SENT)),
            CommandHandler("mine", mine, filters=filters.ChatType.PRIVATE),
        ]
    )

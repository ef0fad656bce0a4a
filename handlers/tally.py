""" "I sent it" and /mine: the count that shows supporters their letters add up."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import render
from bot.actions.importer import load
from bot.i18n import format_date, format_number, ngettext
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import tally
from bot.services.sessions import live
from handlers.fallback import stale_button
from handlers.replies import answer, edit, query_of, say, say_all, set_buttons


async def sent(update: Update, context: Context) -> None:
    """Count the letter once per supporter and revision; thank them; update the card."""
    query = query_of(update)
    result = await tally.confirm_sent(
        context.storage,
        query.data,
        query.from_user.id,
        context.language,
        context.bot_data.today(),
        context.bot_data.metrics,
    )
    revision = result.revision
    if result.outcome is tally.Outcome.NOT_OFFERED or revision is None:
        await stale_button(update, context)
        return
    if result.outcome is tally.Outcome.UNKNOWN_PERSON:
        await answer(
            update,
            _(
                "I don't know you (any more), so this letter cannot be counted. Send /start, "
                "then confirm a new letter from the case's card in /actions."
            ),
            alert=True,
        )
        return
    new = result.outcome is tally.Outcome.COUNTED
    if result.session is not None and result.session_counted:  # a group's writing session
        thanks = ngettext(
            "Thank you! Your letter counts for the group's writing session: {count} letter "
            "there so far.",
            "Thank you! Your letter counts for the group's writing session: {count} letters "
            "there so far.",
            result.session.letters,
        ).format(count=format_number(result.session.letters))
    elif new and result.session_ended:  # begun for a group's session, confirmed after it
        thanks = _("The group's session has ended; your letter counts for the case. Thank you!")
    elif new and result.letters == 1:
        thanks = _("Thank you! Yours is the first letter counted.")
    elif new and result.people == 1:  # the only writer, for another revision
        thanks = _("Counted, thank you! {letters} so far.").format(
            letters=render.letters_sent(result.letters)
        )
    elif new:
        thanks = ngettext(
            "Thank you! You are one of {count} person who sent a letter.",
            "Thank you! You are one of {count} people who sent a letter.",
            result.people,
        ).format(count=format_number(result.people))
    else:
        thanks = _("Already counted, thank you! {letters} so far.").format(
            letters=render.letters_sent(result.letters)
        )
    await answer(update, thanks)
    if result.session is not None:  # its message shows the new count (paced per group)
        await live.changed(context.application, result.session.id)
    message = query.message
    if not new or message is None:
        return
    if getattr(message, "text", None):  # a card: it shows the new count
        latest = await load(context.storage, revision.case) or revision
        await edit(
            update,
            render.card_text(
                revision,
                context.config.i18n.default_language,
                result.letters,
                today=context.bot_data.today(),
            ),
            markup=render.card_keyboard(
                latest, context.config.i18n.default_language, context.bot.username
            ),
        )
    else:  # the letter's document: its button shows that it was counted
        label = "✅ " + render.letters_sent(result.letters)
        counted = InlineKeyboardButton(label, callback_data=query.data)
        await set_buttons(update, InlineKeyboardMarkup([[counted]]))


async def mine(update: Update, context: Context) -> None:
    """The cases this supporter wrote for, with their status and count."""
    storage = context.storage
    user = update.effective_user
    cases = await storage.tally.cases_of(user.id) if user else []
    if not cases:
        await say(
            update,
            escape(_("You have not confirmed a letter yet. /actions shows the open cases.")),
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
            f"• <b>{escape(render.case_label(case))}</b> · {escape(text.title)}\n  "
            + escape(f"{status} · {render.letters_sent(counts[case])}")
        )
    await say_all(update, lines)


def register(app: Application) -> None:
    app.add_handlers(
        [
            CallbackQueryHandler(sent, pattern=callbacks.SENT.pattern()),
            CommandHandler("mine", mine, filters=filters.ChatType.PRIVATE),
        ]
    )

"""What supporters do with actions: /actions, a case's card, "read more"."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import render
from bot.actions.importer import load
from bot.actions.model import ActionRevision
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import subscriptions
from handlers.fallback import stale_button
from handlers.replies import answer, edit, query_of, say, say_parts

PAGE_SIZE = 5
BUTTON_TITLE_MAX = 40


async def _open_cases(context: Context) -> list[ActionRevision]:
    stored = await context.storage.revisions.published_cases(status="open")
    return [ActionRevision.from_json(item.content) for item in stored]


def case_button(revision: ActionRevision, default: str, language: str) -> InlineKeyboardButton:
    """A button that opens the case's card: its number and (short) title."""
    title = revision.text_for(language, default)[0].title
    if len(title) > BUTTON_TITLE_MAX:
        title = title[: BUTTON_TITLE_MAX - 1] + "…"
    return InlineKeyboardButton(
        f"{revision.case} · {title}",
        callback_data=callbacks.CARD.data(callbacks.case_ref(revision.case)),
    )


def _list_markup(
    cases: list[ActionRevision], page: int, default: str, language: str
) -> InlineKeyboardMarkup:
    rows = [
        [case_button(revision, default, language)]
        for revision in cases[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    pages = (len(cases) + PAGE_SIZE - 1) // PAGE_SIZE
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀️", callback_data=callbacks.ACTIONS_PAGE.data(page - 1)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶️", callback_data=callbacks.ACTIONS_PAGE.data(page + 1)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def _list_text(count: int, page: int) -> str:
    pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
    heading = _("Open actions")
    if pages > 1:
        heading += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    return f"<b>{escape(heading)}</b>\n" + escape(_("Tap a case to see it."))


async def list_actions(update: Update, context: Context) -> None:
    """Open cases, newest first, as buttons; paginated."""
    cases = await _open_cases(context)
    if not cases:
        await say(
            update, escape(_("There are no open actions right now. New ones will reach you here."))
        )
        return
    await say(
        update,
        _list_text(len(cases), 0),
        markup=_list_markup(cases, 0, context.config.i18n.default_language, context.language),
    )


async def list_page(update: Update, context: Context) -> None:
    """◀️ / ▶️ in the list: edit the same message to another page."""
    parsed = callbacks.ACTIONS_PAGE.parse(query_of(update).data, int)
    if parsed is None:  # crafted data: no page the bot ever named
        await stale_button(update, context)
        return
    await answer(update)
    cases = await _open_cases(context)
    pages = max(1, (len(cases) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(parsed.integer(0), 0), pages - 1)
    await edit(
        update,
        _list_text(len(cases), page),
        markup=_list_markup(cases, page, context.config.i18n.default_language, context.language),
    )


async def _latest(
    update: Update, context: Context, button: callbacks.Button
) -> ActionRevision | None:
    """The latest published revision of the case a button names, or a polite answer."""
    query = query_of(update)
    parsed = button.parse(query.data, str, optional=1)  # a card's Read more names the revision
    if parsed is None:
        await stale_button(update, context)
        return None
    case = callbacks.case_from_ref(parsed.text(0))
    revision = await load(context.storage, case)
    if revision is None:
        await answer(update, _("This case is no longer available."), alert=True)
    elif not revision.is_closed:  # opening a case is what makes a deadline reminder welcome
        await subscriptions.note_interest(context.storage, query.from_user.id, case)
    return revision


async def show_card(update: Update, context: Context) -> None:
    """A case's card: the same message a subscriber was pushed, with today's count."""
    revision = await _latest(update, context, callbacks.CARD)
    if revision is None:
        return
    await answer(update)
    await send_card(update, context, revision)


async def send_card(update: Update, context: Context, revision: ActionRevision) -> None:
    """The case's card with today's count (a button, a deep link)."""
    count = await context.storage.tally.count(revision.case)
    message = render.card(
        revision, context.config.i18n.default_language, count, bot_username=context.bot.username
    )
    await say_parts(update, message.texts, message.keyboard)


async def read_more(update: Update, context: Context) -> None:
    """The full text and the addressees."""
    revision = await _latest(update, context, callbacks.MORE)
    if revision is None:
        return
    await answer(update)
    details = render.details(revision, context.config.i18n.default_language, context.bot.username)
    await say_parts(update, details.texts, details.keyboard)


def register(app: Application) -> None:
    app.add_handlers(
        [
            CommandHandler("actions", list_actions, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(list_page, pattern=callbacks.ACTIONS_PAGE.pattern()),
            CallbackQueryHandler(show_card, pattern=callbacks.CARD.pattern()),
            CallbackQueryHandler(read_more, pattern=callbacks.MORE.pattern()),
        ]
    )

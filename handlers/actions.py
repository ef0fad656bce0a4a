"""What supporters do with actions: /actions, a case's card, "read more"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import deadlines, render
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


async def _open_cases(context: Context) -> deadlines.Listing:
    """The open cases in time, then those recently past their deadline (archived ones drop)."""
    return await deadlines.listed(
        context.storage, context.bot_data.today(), context.config.actions.expired_days
    )


def pages_of(count: int) -> int:
    return max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)


def nav_row(button: callbacks.Button, page: int, count: int) -> list[InlineKeyboardButton]:
    """◀️ / ▶️ to the neighbouring pages of a list of ``count`` items (/actions, /archive)."""
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀️", callback_data=button.data(page - 1)))
    if page < pages_of(count) - 1:
        nav.append(InlineKeyboardButton("▶️", callback_data=button.data(page + 1)))
    return nav


def case_button(
    revision: ActionRevision, default: str, language: str, *, expired: bool = False
) -> InlineKeyboardButton:
    """A button that opens the case's card: its number and (short) title, ⌛ once expired."""
    title = revision.text_for(language, default)[0].title
    if len(title) > BUTTON_TITLE_MAX:
        title = title[: BUTTON_TITLE_MAX - 1] + "…"
    mark = "⌛ " if expired else ""
    return InlineKeyboardButton(
        f"{mark}{render.case_label(revision.case)} · {title}",
        callback_data=callbacks.CARD.data(callbacks.case_ref(revision.case)),
    )


def _list_markup(
    listing: deadlines.Listing, page: int, default: str, language: str
) -> InlineKeyboardMarkup:
    cases = listing.all
    rows = [
        [case_button(revision, default, language, expired=revision in listing.recent)]
        for revision in cases[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    if nav := nav_row(callbacks.ACTIONS_PAGE, page, len(cases)):
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def _list_text(listing: deadlines.Listing, page: int) -> str:
    pages = pages_of(len(listing.all))
    heading = _("Open actions") if listing.current else _("Recently expired")
    if pages > 1:
        heading += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    lines = [f"<b>{escape(heading)}</b>"]
    # One heading, what the list holds, then what to do with it.
    if not listing.current:
        lines.append(escape(_("There are no open actions right now.")))
        expired = _(
            "Their deadline has passed; a late letter may still help, "
            "check with the organisation first."
        )
    else:
        expired = _(
            "Recently expired: the deadline has passed; a late letter may still help, "
            "check with the organisation first."
        )
    if listing.recent:
        lines.append("⌛ " + escape(expired))
    lines.append(escape(_("Tap a case to see it.")))
    return "\n".join(lines)


async def list_actions(update: Update, context: Context) -> None:
    """Open cases, newest first, then the recently expired, as buttons; paginated."""
    listing = await _open_cases(context)
    if not listing.all:
        await say(
            update,
            escape(_("There are no open actions right now. New ones will reach you here."))
            + "\n"
            + escape(_("/archive shows the cases that ended, and how.")),
        )
        return
    default = context.config.i18n.default_language
    await say(update, _list_text(listing, 0), _list_markup(listing, 0, default, context.language))


Page = Callable[[Context, int], Awaitable[tuple[str, InlineKeyboardMarkup | None]]]


def page_turner(
    button: callbacks.Button, page: Page
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The ◀️ / ▶️ handler of a paged list (/actions, /archive): edit the same message to the
    page ``page`` renders (it clamps the number to the pages there are)."""

    async def turn(update: Update, context: Context) -> None:
        parsed = button.parse(query_of(update).data, int)
        if parsed is None:  # crafted data: no page the bot ever named
            await stale_button(update, context)
            return
        await answer(update)
        text, markup = await page(context, parsed.integer(0))
        await edit(update, text, markup=markup)

    return turn


async def _actions_page(context: Context, number: int) -> tuple[str, InlineKeyboardMarkup]:
    listing = await _open_cases(context)
    page = min(max(number, 0), pages_of(len(listing.all)) - 1)
    default = context.config.i18n.default_language
    return _list_text(listing, page), _list_markup(listing, page, default, context.language)


list_page = page_turner(callbacks.ACTIONS_PAGE, _actions_page)


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
        revision,
        context.config.i18n.default_language,
        count,
        bot_username=context.bot.username,
        today=context.bot_data.today(),
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

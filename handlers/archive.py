"""/archive: the cases that ended, newest first, with their outcome and final tally; paged."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import render
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import archive
from handlers.actions import PAGE_SIZE, case_button, nav_row, page_turner, pages_of
from handlers.replies import say


async def page(context: Context, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of one page (``page`` is clamped to the pages there are)."""
    entries = await archive.entries(
        context.storage, context.bot_data.today(), context.config.actions.expired_days
    )
    helped = await archive.letters_helped(context.storage)
    pages = pages_of(len(entries))
    page = min(max(page, 0), pages - 1)
    heading = _("Archive")
    if pages > 1:
        heading += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    blocks = ["<b>📚 " + escape(heading) + "</b>"]
    if helped:
        blocks[0] += "\n" + escape(render.letters_helped(helped))
    if not entries:
        blocks.append(escape(_("No case has ended yet.")))
    default = context.config.i18n.default_language
    shown = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    blocks += [render.archive_entry(entry.revision, default, entry.letters) for entry in shown]
    # Each entry opens its card (the letter stays possible there), as in /actions.
    rows = [
        [
            case_button(
                entry.revision,
                default,
                context.language,
                expired=not entry.revision.is_closed,
            )
        ]
        for entry in shown
    ]
    if nav := nav_row(callbacks.ARCHIVE_PAGE, page, len(entries)):
        rows.append(nav)
    return "\n\n".join(blocks), InlineKeyboardMarkup(rows) if rows else None


async def show_archive(update: Update, context: Context) -> None:
    """The first page of the archive."""
    text, markup = await page(context, 0)
    await say(update, text, markup)


archive_page = page_turner(callbacks.ARCHIVE_PAGE, page)


def register(app: Application) -> None:
    app.add_handlers(
        [
            CommandHandler("archive", show_archive, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(archive_page, pattern=callbacks.ARCHIVE_PAGE.pattern()),
        ]
    )

"""What a group's coordinator asks the bot in the group before a session: /start (right after
adding it), /actions and /archive (which cases there are), /privacy (what it records about
the group). None of it is personal, so it is answered there, in the group's language; the
letters still happen in a private chat. Personal commands are handlers/groups.py's.

And how a coordinator finds sessions at all: /session in a private chat, and the lines of
/help and /start there, with Telegram's "add to a group" link.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot.actions import deadlines, render
from bot.actions.links import add_to_group_link, chat_link
from bot.actions.model import ActionRevision
from bot.i18n import gettext as _
from bot.ptb.context import Context
from bot.ptb.text import escape
from handlers import archive
from handlers.groups import (
    group_privacy_text,
    intro_text,
    personal_in_group,
    private_chat_button,
    say_in_group,
    session_usage,
)
from handlers.replies import say

# What Telegram's "add to group" link (``startgroup``) sends back: /start with this payload.
STARTGROUP_PAYLOAD = "sessions"


def sessions_text() -> str:
    """What a private chat says of group sessions (/help, /start, /session there)."""
    return _(
        "With a group: add me to it, and its admins start a writing session there with "
        "/session. I post the case and a countdown, everyone writes their own letter here, "
        "and the group sees how many letters it sent."
    )


def add_to_group_button(bot_username: str) -> InlineKeyboardButton:
    """Telegram's "add to a group" link, asking for the right to pin the session message."""
    return InlineKeyboardButton(
        "➕ " + _("Add me to your group"), url=add_to_group_link(bot_username)
    )


async def session_in_private(update: Update, context: Context) -> None:
    """/session in a private chat: what a session is and how a group gets one."""
    text = "\n\n".join(
        [
            escape(sessions_text()),
            escape(session_usage(context.config.sessions.default_minutes)),
        ]
    )
    markup = InlineKeyboardMarkup([[add_to_group_button(context.bot.username)]])
    await say(update, text, markup)


async def start_in_group(update: Update, context: Context) -> None:
    """/start in a group (Telegram sends it when the bot is added through its link): the
    introduction. /start with a case or a session's payload is a letter: the private chat."""
    args = list(context.args or [])
    if args and args != [STARTGROUP_PAYLOAD]:
        await personal_in_group(update, context)
        return
    button = private_chat_button(chat_link(context.bot.username))
    await say_in_group(update, context, intro_text(), button)


async def cases_in_group(update: Update, context: Context) -> None:
    """/actions in a group: the open cases by number and title, for a coordinator to choose
    the session's case (the recently expired ones marked ⌛, as in /actions)."""
    listing = await deadlines.listed(
        context.storage, context.bot_data.today(), context.config.actions.expired_days
    )
    if not listing.all:
        await say_in_group(
            update, context, escape(_("There is no open case to write for right now."))
        )
        return
    default = context.config.i18n.default_language

    def line(revision: ActionRevision, mark: str = "") -> str:
        title = revision.text_for(context.language, default)[0].title
        return escape(f"{mark}{render.case_label(revision.case)} · {title}")

    lines = ["<b>" + escape(_("Open actions")) + "</b>"]
    lines += [line(revision) for revision in listing.current]
    lines += [line(revision, "⌛ ") for revision in listing.recent]
    first = listing.all[0]
    example = f"/session {render.case_label(first.case)} 60"  # the label the group reads
    how = _("A group admin starts a session for one of them: {example}").format(example=example)
    lines += ["", escape(how)]
    await say_in_group(update, context, "\n".join(lines))


async def archive_in_group(update: Update, context: Context) -> None:
    """/archive in a group: the first page of the archive, without its cards' buttons (a
    card and its letter open in the private chat)."""
    text, _markup = await archive.page(context, 0)
    await say_in_group(update, context, text, private_chat_button(chat_link(context.bot.username)))


async def privacy_in_group(update: Update, context: Context) -> None:
    """/privacy in a group: what the bot records about the group and receives from it."""
    await say_in_group(
        update,
        context,
        group_privacy_text(),
        private_chat_button(chat_link(context.bot.username)),
    )


def register(app: Application) -> None:
    """Before handlers/groups.py's personal commands (the first matching handler wins)."""
    group = filters.ChatType.GROUPS
    app.add_handlers(
        [
            CommandHandler("start", start_in_group, filters=group),
            CommandHandler("actions", cases_in_group, filters=group),
            CommandHandler("archive", archive_in_group, filters=group),
            CommandHandler("privacy", privacy_in_group, filters=group),
            CommandHandler(
                ["session", "session_end"], session_in_private, filters=filters.ChatType.PRIVATE
            ),
        ]
    )

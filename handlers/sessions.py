"""Writing sessions in a group: /session and /session_end (the group's admins), and the
session message's "✅ I sent it".

Thin: the domain (bot.services.sessions) decides, the live message
(bot.services.sessions.live) shows it. What the group sees is counts only: a member's
confirmation is answered to them alone (a toast), never in the group.
"""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions.links import deep_link, session_payload
from bot.actions.model import case_from_text
from bot.i18n import format_number, use_locale
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.groups import is_group_admin
from bot.ptb.text import escape
from bot.services import sessions
from bot.services.sessions import live
from handlers.fallback import stale_button
from handlers.groups import say_in_group
from handlers.locale import user_language
from handlers.replies import answer, chat_of, message_of, query_of


async def _reply(update: Update, context: Context, text: str) -> None:
    await say_in_group(update, context, escape(text))


def _arguments(args: list[str]) -> tuple[str | None, int | None] | None:
    """``/session [case] [minutes]`` in either order ("UA 046/19 60", "60", "046/19"):
    (case text or None, minutes or None); None when it cannot be read (two numbers)."""
    numbers = [word for word in args if word.isascii() and word.isdigit()]
    if len(numbers) > 1:
        return None
    words = [word for word in args if word not in numbers]
    return (" ".join(words) or None), (int(numbers[0]) if numbers else None)


def _usage() -> str:
    return _(
        "Start a writing session with /session, or /session UA 046/19 60 for a case and "
        "its minutes (the newest open case and {minutes} minutes when left out)."
    )


async def start_session(update: Update, context: Context) -> None:
    """/session [case] [minutes] by a group admin: the session message, pinned."""
    message = message_of(update)
    if not await is_group_admin(message, update.effective_user):
        await _reply(update, context, _("Only the group's admins can start or end a session."))
        return
    config = context.config.sessions
    parsed = _arguments(list(context.args or []))
    if parsed is None:
        await _reply(update, context, _usage().format(minutes=config.default_minutes))
        return
    typed, minutes = parsed
    case = case_from_text(typed) if typed else None
    if typed and case is None:
        await _reply(
            update,
            context,
            _("“{text}” is not a case number, such as UA 046/19.").format(text=typed),
        )
        return
    chat = chat_of(update)
    storage = context.storage
    started = await sessions.start(storage, config, chat.id, time.time(), case, minutes)
    if started.refused is sessions.StartRefused.UNKNOWN_GROUP:
        # The bot joined before groups were recorded: the group speaks its admin's language.
        await sessions.add_group(storage, chat.id, context.language)
        started = await sessions.start(storage, config, chat.id, time.time(), case, minutes)
    if started.session is not None:
        await live.begin(context.application, started.session)
        return
    refused = started.refused
    if refused is sessions.StartRefused.BAD_MINUTES:
        text = _("A session lasts from 1 to {max} minutes.").format(
            max=format_number(config.max_minutes)
        )
    elif refused is sessions.StartRefused.RUNNING:
        text = _("A session is running in this group already: /session_end ends it.")
    elif case is not None:
        text = _("{case} is not open for letters. /session alone takes the newest open case.")
        text = text.format(case=case)
    else:
        text = _("There is no open case to write for right now.")
    await _reply(update, context, text)


async def end_session(update: Update, context: Context) -> None:
    """/session_end by a group admin: the result shown, unpinned, and the thank-you."""
    if not await is_group_admin(message_of(update), update.effective_user):
        await _reply(update, context, _("Only the group's admins can start or end a session."))
        return
    ended = await sessions.end_in_group(context.storage, chat_of(update).id, time.time())
    if ended is None:
        await _reply(update, context, _("No session is running in this group."))
        return
    live.closed(context.application, ended)


async def sent_in_group(update: Update, context: Context) -> None:
    """ "✅ I sent it" under a session message: counted for the tapper, told to them alone."""
    query = query_of(update)
    args = callbacks.SESSION_SENT.parse(query.data, int)
    if args is None:
        await stale_button(update, context)
        return
    session_id = args.integer(0)
    # The tapper's own language: the toast is theirs, and so is the letter they wrote.
    language = await user_language(update, context)
    result = await sessions.confirm(
        context.storage,
        session_id,
        query.from_user.id,
        language,
        context.bot_data.today(),
        context.bot_data.metrics,
        chat_id=chat_of(update).id,  # crafted data naming another group's session counts not
    )
    outcome = result.outcome
    url = None
    with use_locale(language):
        if outcome is sessions.Counted.COUNTED:
            toast = _("Counted, thank you! Your letter counts for this session.")
        elif outcome in (sessions.Counted.ALREADY, sessions.Counted.CASE_ONLY):
            toast = _("Already counted, thank you!")
        elif outcome is sessions.Counted.UNKNOWN_PERSON and result.session is not None:
            toast = _("Write your letter first: “Write my letter” opens it in our private chat.")
            url = deep_link(context.bot.username, session_payload(result.session.token))
        elif outcome is sessions.Counted.ENDED:
            toast = _("This session has ended. Thank you!")
        else:
            toast = _("This case is not open for letters any more.")
    await answer(update, toast, url=url)
    if outcome in (sessions.Counted.COUNTED, sessions.Counted.CASE_ONLY):
        await live.changed(context.application, session_id)


def register(app: Application) -> None:
    groups = filters.ChatType.GROUPS
    app.add_handlers(
        [
            CommandHandler("session", start_session, filters=groups),
            CommandHandler("session_end", end_session, filters=groups),
            CallbackQueryHandler(sent_in_group, pattern=callbacks.SESSION_SENT.pattern()),
        ]
    )

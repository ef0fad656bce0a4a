"""The bot in groups (issue 15 §1): joining and leaving, /help and /language there, and a
button to the private chat for everything personal.

A group sees only what concerns the group: the bot introduces itself once when added, in the
language of whoever added it, and records the group's id and language, nothing more. Letters,
alerts and a person's data never happen in a group: their commands get a link to the private
chat instead of running there. Anything else said in a group is not the bot's business
(privacy mode stays on), so it is ignored. /session and /session_end are handlers/sessions.py.
"""

from __future__ import annotations

import time

from telegram import (
    ChatMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.actions.links import (
    case_payload,
    chat_link,
    deep_link,
    parse_payload,
    parse_typed,
    write_payload,
)
from bot.actions.model import case_from_text
from bot.i18n import current_locale, language_name, reader_language, use_locale
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.commands import GROUP_COMMANDS, command_lines
from bot.ptb.context import Context
from bot.ptb.groups import is_group, is_group_admin
from bot.ptb.text import escape
from bot.services import sessions
from bot.services.sessions import live
from handlers.locale import user_language
from handlers.replies import answer, chat_of, edit, message_of, query_of, user_of

# Commands about a person (their letters, alerts, data): answered in a group with a link to
# the private chat, never run there.
PERSONAL_COMMANDS = (
    "start",
    "write",
    "mine",
    "forget",
    "subscribe",
    "unsubscribe",
    "topics",
    "reminders",
    "cancel",
)


def _present(member: ChatMember) -> bool:
    """Whether the bot is in the chat with this status (a restricted bot may still be)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def say_in_group(
    update: Update,
    context: Context,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Say ``text`` in the group within its budget of messages a minute, which the session
    message's edits share (``live.reply``): the same answer asked again while one waits for
    a place is not sent twice."""
    await live.reply(context.application, chat_of(update).id, text, markup)


def private_chat_button(url: str, label: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label or "💬 " + _("Open a private chat with me"), url=url)]]
    )


def intro_text() -> str:
    """What the bot says once, when added: what it does here and what it records."""
    return "\n\n".join(
        [
            "👋 "
            + escape(
                _(
                    "Hello! I help this group write letters for Urgent Actions: people at risk "
                    "of human-rights abuses, and the letters that can help them."
                )
            ),
            "\n".join(
                [
                    "• "
                    + escape(
                        _(
                            "Group admins start a writing session with /session: I post the "
                            "case, a countdown and the number of letters the group has sent."
                        )
                    ),
                    "• "
                    + escape(
                        _(
                            "Everyone writes their own letter in a private chat with me: tap "
                            "“✍️ Write my letter” under the session message."
                        )
                    ),
                    "• " + escape(_("/help lists what I do here.")),
                ]
            ),
            group_privacy_text(),
            escape(_("Group admins can change my language here with /language.")),
        ]
    )


def group_privacy_text() -> str:
    """What the bot records about a group, and what Telegram lets it receive there: an admin
    bot gets every message of the group (Telegram's rule, whatever its privacy mode)."""
    return "\n\n".join(
        [
            escape(
                _(
                    "Personal things (your letters, alerts, /mine, /forget) happen only in a "
                    "private chat with me. About this group I record its id and its language, "
                    "nothing else: not its members, not its messages."
                )
            ),
            escape(
                _(
                    "As an admin that may pin the session message, I receive every message of "
                    "the group (Telegram's rule) and ignore them. Give me only the right to pin "
                    "messages."
                )
            ),
        ]
    )


async def membership(update: Update, context: Context) -> None:
    """The bot was added to a group (record it, introduce itself once) or removed from it
    (forget it, and stop its running session: nothing can be posted there any more)."""
    change = update.my_chat_member
    if change is None or not is_group(change.chat):
        return
    was_in, is_in = _present(change.old_chat_member), _present(change.new_chat_member)
    chat_id = change.chat.id
    if is_in and not was_in:
        # The language of whoever added the bot, decided where every reader's is.
        language = await user_language(update, context)
        added = await sessions.add_group(context.storage, chat_id, language)
        # Before anything else: what its sessions showed when it was removed is closed.
        await live.returned(context.application, chat_id)
        if added:
            with use_locale(language):
                button = private_chat_button(chat_link(context.bot.username))
                await say_in_group(update, context, intro_text(), button)
    elif was_in and not is_in:
        await sessions.forget_group(context.storage, chat_id, time.time())
        await live.removed(context.application, chat_id)


async def migrated(update: Update, context: Context) -> None:
    """The group became a supergroup: its row and sessions follow the new id. Telegram sends
    both service messages (one in each chat); the first moves, the second finds nothing."""
    message = message_of(update)
    if message.migrate_to_chat_id is not None:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await sessions.migrate_group(context.storage, old_id, new_id)
    await live.moved(context.application, old_id, new_id)


def session_usage(default_minutes: int) -> str:
    """How /session is typed (the group's /help, and /session when it cannot be read)."""
    return _(
        "Start a writing session with /session, or /session UA 046/19 60 for a case and "
        "its minutes (the newest open case and {minutes} minutes when left out)."
    ).format(minutes=default_minutes)


async def help_in_group(update: Update, context: Context) -> None:
    """/help in a group: what the bot does there, in the group's language."""
    text = "\n".join(
        [
            "<b>" + escape(_("What I do in this group")) + "</b>",
            escape(command_lines(GROUP_COMMANDS)),
            "",
            escape(session_usage(context.config.sessions.default_minutes)),
            "",
            escape(
                _(
                    "Letters are written in a private chat with me: tap “✍️ Write my letter” "
                    "under a session message, or the button below."
                )
            ),
        ]
    )
    await say_in_group(update, context, text, private_chat_button(chat_link(context.bot.username)))


def _personal_link(update: Update, context: Context, command: str) -> tuple[str, bool]:
    """Where a personal command leads in the private chat, and whether that is a letter:
    /write and /start keep the case they name as a deep link."""
    username = context.bot.username
    words = " ".join(context.args or [])
    if command == "write" and (case := case_from_text(words)) is not None:
        return deep_link(username, write_payload(case)), True
    if command == "start" and words:
        request = parse_payload(words)
        if request is not None and (request.case is not None or request.session is not None):
            return deep_link(username, words), request.write
        if (typed := parse_typed(words)) is not None and typed.case is not None:
            return deep_link(username, case_payload(typed.case)), False
    return chat_link(username), False


async def personal_in_group(update: Update, context: Context) -> None:
    """A personal command typed in a group: a button to the private chat, nothing done here."""
    command = (message_of(update).text or "").split()[0].lstrip("/").split("@")[0].lower()
    url, letter = _personal_link(update, context, command)
    label = "✍️ " + _("Write my letter") if letter else None
    await say_in_group(
        update,
        context,
        escape(_("That is personal, so it happens in a private chat with me, not here.")),
        private_chat_button(url, label),
    )


def _group_language_keyboard(languages: tuple[str, ...], current: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✓ " if code == current else "") + language_name(code),
                    callback_data=callbacks.GROUP_LANGUAGE.data(code),
                )
            ]
            for code in languages
        ]
    )


async def language_in_group(update: Update, context: Context) -> None:
    """/language in a group: its admins choose the group's language; others are told no."""
    if not await is_group_admin(message_of(update), update.effective_user):
        await say_in_group(
            update, context, escape(_("Only the group's admins can change its language."))
        )
        return
    await say_in_group(
        update,
        context,
        escape(_("Choose the group's language:")),
        _group_language_keyboard(context.config.i18n.languages, context.language),
    )


async def group_language_chosen(update: Update, context: Context) -> None:
    """A language tapped in a group's picker: only its admins' taps count (asked again, as
    anyone in the group can tap)."""
    query = query_of(update)
    parsed = callbacks.GROUP_LANGUAGE.parse(query.data, str)
    message = query.message
    languages = context.config.i18n.languages
    if parsed is None or not isinstance(message, Message) or parsed.text(0) not in languages:
        await answer(update, _("This button no longer works. /help lists what I can do."))
        return
    if not await is_group_admin(message, user_of(update)):
        await answer(update, _("Only the group's admins can change its language."), alert=True)
        return
    code = parsed.text(0)
    if not await sessions.set_language(context.storage, chat_of(update).id, code):
        await answer(update, _("This button no longer works. /help lists what I can do."))
        return
    current_locale.set(reader_language(context.config.i18n, code))  # the group's from now on
    confirmation = _("Language set: {language}.").format(language=language_name(code))
    await answer(update, confirmation)
    await edit(update, escape(confirmation))
    live.note_sent(context.application, chat_of(update).id)
    await live.group_changed(context.application, chat_of(update).id)  # a running session's


def register(app: Application) -> None:
    group = filters.ChatType.GROUPS
    app.add_handlers(
        [
            ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(group & filters.StatusUpdate.MIGRATE, migrated),
            CommandHandler("help", help_in_group, filters=group),
            CommandHandler("language", language_in_group, filters=group),
            CommandHandler(PERSONAL_COMMANDS, personal_in_group, filters=group),
            CallbackQueryHandler(
                group_language_chosen, pattern=callbacks.GROUP_LANGUAGE.pattern(arity=1)
            ),
        ]
    )

"""Onboarding and the user's own data: start, help, language, alerts, privacy, forget."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.actions import render
from bot.actions.links import parse_payload
from bot.actions.model import ActionRevision
from bot.i18n import (
    current_locale,
    format_number,
    language_name,
    ngettext,
    reader_language,
)
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.commands import ADMIN_COMMANDS, command_lines
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import archive, arrival, subscriptions
from bot.services.privacy import forget as erase_user
from bot.services.subscriptions import Alerts
from handlers import group_cases
from handlers.access import is_admin
from handlers.actions import list_actions, send_card
from handlers.conversations import end_conversations
from handlers.replies import answer, edit, query_of, say, text_of, user_of


def _start_keyboard(bot_username: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🌐 " + _("Change language"), callback_data=callbacks.LANGUAGE.data()
                ),
                InlineKeyboardButton(
                    "🔕 " + _("No alerts"), callback_data=callbacks.ALERTS.data("off")
                ),
            ],
            [
                InlineKeyboardButton(
                    "🏷 " + _("Choose topics"), callback_data=callbacks.FOLLOW.data()
                )
            ],
            [group_cases.add_to_group_button(bot_username)],
        ]
    )


def _alerts_offer_keyboard() -> InlineKeyboardMarkup:
    """A newcomer from a group's session is not subscribed: alerts are offered, not imposed."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🔔 " + _("Get alerts"), callback_data=callbacks.ALERTS.data("on")
                ),
                InlineKeyboardButton(
                    "🌐 " + _("Change language"), callback_data=callbacks.LANGUAGE.data()
                ),
            ]
        ]
    )


def _language_keyboard(languages: tuple[str, ...], current: str) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if code == current else "") + language_name(code),
                callback_data=callbacks.LANGUAGE.data(code),
            )
        ]
        for code in languages
    ]
    return InlineKeyboardMarkup(rows)


def welcome_text(helped: int, subscribed: bool = True) -> str:
    """The greeting of /start: what the bot does and stores, the subscription (or, for a
    newcomer from a group's session, the offer of alerts), "Letters helped in N cases"
    (``helped``, when there are any), the commands."""
    alerts = (
        _("You are subscribed: new and updated actions will reach you here.")
        if subscribed
        else _(
            "You are not subscribed to alerts. If you want new and updated actions to reach "
            "you here, tap “Get alerts” (or send /subscribe)."
        )
    )
    return "\n\n".join(
        [
            "<b>"
            + escape(_("Welcome!"))
            + "</b> "
            + escape(
                _(
                    "This bot brings you Urgent Actions: people at risk of human-rights abuses, "
                    "and the letters that can help them. It helps you write a letter and counts "
                    "every letter sent."
                )
            ),
            escape(
                _(
                    "It stores as little as it can, and no names or messages: /privacy says "
                    "exactly what, /forget erases it."
                )
            ),
            escape(alerts),
            *([escape(render.letters_helped(helped))] if helped else []),
            escape(group_cases.sessions_text()),
            "<b>" + escape(_("Commands")) + "</b>\n" + escape(command_lines()),
        ]
    )


def _unavailable_text(asked: str | None, closed: bool, session_gone: bool = False) -> str:
    """Why a link leads to no case (the open cases follow)."""
    if session_gone and asked is None:  # a session link naming no session the bot knows
        return _("This writing session is over, or the link is not one of mine.")
    if asked is None:
        return _("This link names no case.")
    if closed:  # after its closure card
        return "\n".join(
            [
                _("{case} is closed: it takes no more letters. Thank you for caring.").format(
                    case=render.case_label(asked)
                ),
                _("/archive shows the cases that ended, and how."),
            ]
        )
    return _("There is no case {case}.").format(case=render.case_label(asked))


async def _newest(
    update: Update, context: Context, newest: tuple[list[ActionRevision], int]
) -> None:
    """A new subscriber's first look at the open cases: the newest few and the way to all."""
    today = context.bot_data.today()
    cases, total = newest
    if not cases:
        return
    default = context.config.i18n.default_language
    lines = ["<b>" + escape(_("Open actions")) + "</b>"]
    numbers = []  # one short button per case, in one row: the bullets hold title and deadline
    for revision in cases:
        title = revision.text_for(context.language, default)[0].title
        line = f"• <b>{escape(render.case_label(revision.case))}</b> · {escape(title)}"
        if deadline := render.deadline_line(revision, today):
            line += "\n  " + escape(deadline)
        lines.append(line)
        mark = "⌛ " if revision.deadline_passed(today) else ""
        numbers.append(
            InlineKeyboardButton(
                mark + revision.case,
                callback_data=callbacks.CARD.data(callbacks.case_ref(revision.case)),
            )
        )
    rows = [numbers]
    if total > len(cases):
        label = ngettext("All {count} open action", "All {count} open actions", total).format(
            count=format_number(total)
        )
        rows.append(
            [InlineKeyboardButton("📋 " + label, callback_data=callbacks.ACTIONS_PAGE.data(0))]
        )
    await say(update, "\n".join(lines), markup=InlineKeyboardMarkup(rows))


def _payload(text: str) -> str | None:
    """The start parameter of a ``/start <payload>`` (a deep link), if any."""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else None


class _WriteLink(filters.MessageFilter):
    """``/start write-…``: a link that asks for a letter (the letter wizard takes it)."""

    def filter(self, message: Message) -> bool:
        payload = _payload(message.text or "")
        request = parse_payload(payload) if payload else None
        return request is not None and request.write


WRITE_LINK = _WriteLink(name="WRITE_LINK")


async def arrive(update: Update, context: Context) -> arrival.Arrival:
    """Greet whom /start should greet and, when a link names no open case, say so and list
    the open ones; ``case`` of the result is the open case the link names."""
    result = await arrival.arrive(
        context.storage, user_of(update).id, context.language, _payload(text_of(update))
    )
    newest = None
    if result.request is None and result.subscribed_now:
        # Read before the greeting goes: a case published while it is on its way reaches
        # them once, by its card, not also in this list after it.
        newest = await arrival.newest_open(
            context.storage, context.bot_data.today(), context.config.actions.expired_days
        )
    if result.greet:
        helped = await archive.letters_helped(context.storage)
        if result.offer_alerts:
            await say(update, welcome_text(helped, subscribed=False), _alerts_offer_keyboard())
        else:
            await say(update, welcome_text(helped), markup=_start_keyboard(context.bot.username))
    if result.closure is not None:  # how it ended: its outcome and letters
        await send_card(update, context, result.closure)
    if result.unavailable:
        text = _unavailable_text(result.asked, result.closed, result.session_gone)
        await say(update, escape(text))
        await list_actions(update, context)
    elif result.session_gone:  # the session ended, its case is open: the letter follows
        await say(
            update,
            escape(
                _(
                    "This group's writing session has ended. Your letter is still welcome: "
                    "it counts for {case}."
                ).format(case=result.asked)
            ),
        )
    elif newest is not None:
        await _newest(update, context, newest)
    return result


async def start(update: Update, context: Context) -> None:
    """/start: greet, subscribe, show the open cases; a deep link opens its case's card."""
    revision = (await arrive(update, context)).case
    if revision is not None:
        await send_card(update, context, revision)


async def help_command(update: Update, context: Context) -> None:
    """List the commands in the user's language; an admin's own commands too (their menu's)."""
    lines = ["<b>" + escape(_("What I can do")) + "</b>", escape(command_lines())]
    if is_admin(update, context):
        lines += [
            "",
            "<b>" + escape(_("Admin commands")) + "</b>",
            escape(command_lines(ADMIN_COMMANDS)),
            escape(_("Send me an action file (.toml): I show a preview to publish.")),
        ]
    lines += ["", escape(group_cases.sessions_text())]
    group_button = group_cases.add_to_group_button(context.bot.username)
    await say(update, "\n".join(lines), InlineKeyboardMarkup([[group_button]]))


async def language_command(update: Update, context: Context) -> None:
    """Offer every configured language, each in its own name."""
    await say(
        update,
        escape(_("Choose your language:")),
        markup=_language_keyboard(context.config.i18n.languages, context.language),
    )


async def language_menu(update: Update, context: Context) -> None:
    """The start message's language button opens the picker."""
    await answer(update)
    await language_command(update, context)


async def language_chosen(update: Update, context: Context) -> None:
    """Store the chosen language and confirm in it."""
    query = query_of(update)
    (code,) = callbacks.args(query.data)
    languages = context.config.i18n.languages
    user_id = query.from_user.id
    if not await subscriptions.change_language(context.storage, user_id, code, languages):
        await answer(update, _("This language is no longer available."), alert=True)
        return
    current_locale.set(reader_language(context.config.i18n, code))  # the new choice from now on
    confirmation = _("Language set: {language}.").format(language=language_name(code))
    await answer(update, confirmation)
    await edit(update, escape(confirmation))


async def _set_alerts(update: Update, context: Context, on: bool) -> str:
    user_id = user_of(update).id
    result = await subscriptions.set_alerts(context.storage, user_id, on, context.language)
    if result is Alerts.SUBSCRIBED:
        return _("You are subscribed: new and updated actions will reach you here.")
    if result is Alerts.ALREADY_ON:
        return _("You are already subscribed.")
    if result is Alerts.ALREADY_OFF:
        return _("Alerts are already off. /subscribe turns them on.")
    return _("Alerts paused. Everything else keeps working; /subscribe turns them on again.")


async def subscribe(update: Update, context: Context) -> None:
    """Resume (or start) alerts."""
    await say(update, escape(await _set_alerts(update, context, True)))


async def unsubscribe(update: Update, context: Context) -> None:
    """Pause alerts without blocking the bot."""
    await say(update, escape(await _set_alerts(update, context, False)))


async def alerts_button(update: Update, context: Context) -> None:
    """The start message's "No alerts" button."""
    query = query_of(update)
    text = await _set_alerts(update, context, callbacks.args(query.data) == ["on"])
    await answer(update, text)
    await say(update, escape(text))


async def privacy(update: Update, context: Context) -> None:
    """Say exactly what is stored and why."""
    items = [
        _("your Telegram user id, to send you messages;"),
        _("your language, to write to you in it;"),
        _("whether you want alerts, and whether Telegram lets the bot reach you;"),
        _(
            "the day you started and the day you last used the bot (not the time), for the "
            "admins' count of active supporters;"
        ),
        _(
            "the cases for which you tapped “I sent it”, so that each letter counts once "
            "(/forget removes the link to you and keeps only the number);"
        ),
        _(
            "if you open a group's writing session (“Write my letter” in a group): that you "
            "came through it and whether your letter counted there, only while the session "
            "runs, so that your letters count there, each person once; when it ends, only the "
            "group's number of letters stays. The group sees counts, never who wrote;"
        ),
        _(
            "which cases you opened, until they close: their follow-ups reach you, and a "
            "reminder before their deadline unless you chose /reminders off;"
        ),
        _(
            "the topics, countries and regions you follow, if you chose any with /topics "
            "(none: everything reaches you);"
        ),
        _(
            "while you write a letter, its draft (name, place, personal sentence), deleted as "
            "soon as the letter is made or cancelled; your name and place for later letters "
            "only if you tick “Remember my name and place”."
        ),
    ]
    text = "\n".join(
        [
            "<b>" + escape(_("What this bot stores about you")) + "</b>",
            *(f"• {escape(item)}" for item in items),
            "",
            escape(
                _(
                    "It does not store your Telegram name, your username, your phone number, "
                    "the texts you send or the letters it makes. Nothing is shared with anyone."
                )
            ),
            escape(_("/forget deletes all of it at once.")),
        ]
    )
    await say(update, text)


async def forget(update: Update, context: Context) -> None:
    """Ask before erasing: it cannot be undone."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, delete everything"), callback_data=callbacks.FORGET.data("yes")
                )
            ],
            [
                InlineKeyboardButton(
                    _("No, keep my data"), callback_data=callbacks.FORGET.data("no")
                )
            ],
        ]
    )
    await say(
        update,
        escape(
            _(
                "This deletes everything the bot holds about you and stops all alerts. "
                "It cannot be undone. Are you sure?"
            )
        ),
        markup=keyboard,
    )


async def forget_answer(update: Update, context: Context) -> None:
    """Erase the user (database rows and any conversation state) or keep everything."""
    query = query_of(update)
    if callbacks.args(query.data) == ["no"]:
        text = _("Nothing was deleted.")
    else:
        user_id = query.from_user.id
        # A letter being written ends here: no step or timeout note reaches an erased user.
        await end_conversations(update, context)
        # PTB writes persistence every few seconds: flush first, so nothing is written back.
        await context.application.update_persistence()
        await erase_user(context.storage, user_id)
        context.application.drop_user_data(user_id)
        context.application.drop_chat_data(user_id)
        text = _("Done: everything the bot held about you is deleted. /start begins anew.")
    await answer(update)
    await edit(update, escape(text))


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handlers(
        [
            # ``/start write-…`` starts the letter wizard instead (handlers/letters.py).
            CommandHandler("start", start, filters=private & ~WRITE_LINK),
            CommandHandler("help", help_command, filters=private),
            CommandHandler("language", language_command, filters=private),
            CommandHandler("subscribe", subscribe, filters=private),
            CommandHandler("unsubscribe", unsubscribe, filters=private),
            CommandHandler("privacy", privacy, filters=private),
            CommandHandler("forget", forget, filters=private),
            CallbackQueryHandler(language_menu, pattern=callbacks.LANGUAGE.pattern(arity=0)),
            CallbackQueryHandler(language_chosen, pattern=callbacks.LANGUAGE.pattern(arity=1)),
            CallbackQueryHandler(alerts_button, pattern=callbacks.ALERTS.pattern()),
            CallbackQueryHandler(forget_answer, pattern=callbacks.FORGET.pattern()),
        ]
    )

"""The bot's commands: one list for /help, /start and Telegram's command menus (the admins'
commands too, in their /help and their menu)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import BadRequest

from bot.config import Config
from bot.i18n import N_, gettext, use_locale
from bot.ptb.errors import Verdict, classify
from bot.storage import AdminMenus

log = logging.getLogger(__name__)

# (command, description); descriptions are translated where they are shown.
PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Subscribe and see what this bot does")),
    ("actions", N_("The open cases")),
    ("archive", N_("Cases that ended, and how")),
    ("write", N_("Write a letter for a case")),
    ("mine", N_("The cases you wrote for")),
    ("cancel", N_("Stop the letter you are writing")),
    ("reminders", N_("Deadline reminders on or off")),
    ("help", N_("List the commands")),
    ("language", N_("Change your language")),
    ("subscribe", N_("Receive new and updated actions")),
    ("unsubscribe", N_("Pause alerts")),
    ("topics", N_("Choose the topics and countries that reach you")),
    ("privacy", N_("What the bot stores about you")),
    ("forget", N_("Delete everything the bot holds about you")),
)


# What the bot does in a group (its /help there); the rest happens in a private chat.
GROUP_COMMANDS: tuple[tuple[str, str], ...] = (
    ("session", N_("Start a writing session for a case (group admins)")),
    ("session_end", N_("End the running session (group admins)")),
    ("language", N_("Change the group's language (group admins)")),
    ("help", N_("What the bot does in this group")),
)


# Shown only in admins' menus (a per-chat scope); others get the unknown-command answer.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("close", N_("Close a case and announce its outcome")),
    ("announce", N_("Send a message to every subscriber")),
    ("broadcasts", N_("Progress of running broadcasts")),
    ("stats", N_("Subscribers and letters")),
    ("export", N_("Letter counts as a CSV file")),
    ("audit", N_("The latest admin actions")),
)


def command_lines(commands: tuple[tuple[str, str], ...] = PUBLIC_COMMANDS) -> str:
    """The commands as lines of "/cmd - description" in the current locale."""
    return "\n".join(f"/{name} – {gettext(text)}" for name, text in commands)


def _menu(commands: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(name, gettext(text)) for name, text in commands]


async def publish(bot: Bot, config: Config, menus: AdminMenus) -> frozenset[int]:
    """Set the command menus: for every language, in groups only the group's commands, and
    with admin commands for each admin.

    Telegram keeps a chat's menu until it is deleted, so the admin menus set are recorded
    (before they are set: a crash in between leaves a record, not a stray menu) and those of
    chats no longer admins, or of languages no longer offered, are deleted. Returns the admins
    whose menu Telegram refused because they never opened the bot ("chat not found"): their
    menu is set when they first write (``set_admin_menu``), not a reason to stop the start.
    """
    languages = (*config.i18n.languages, None)
    wanted = {(admin, lang or "") for admin in config.telegram.admins for lang in languages}
    await menus.add(sorted(wanted))
    for language in languages:
        with use_locale(language or config.i18n.default_language):
            await bot.set_my_commands(_menu(PUBLIC_COMMANDS), language_code=language)
            # Groups get their own menu: personal commands do not run there.
            await bot.set_my_commands(
                _menu(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats(), language_code=language
            )
    waiting = frozenset(
        [
            admin
            for admin in sorted(config.telegram.admins)
            if not await set_admin_menu(bot, config, admin)
        ]
    )
    for chat_id, language_code in sorted(await menus.all() - wanted):
        try:
            await bot.delete_my_commands(
                scope=BotCommandScopeChat(chat_id), language_code=language_code or None
            )
        except BadRequest as exc:  # e.g. the chat is gone: nothing is left to delete
            log.info("admin menu of chat %s not deleted: %s", chat_id, exc.message)
        await menus.remove((chat_id, language_code))
        log.info("deleted the admin menu of chat %s (%s)", chat_id, language_code or "default")
    return waiting


async def set_admin_menu(bot: Bot, config: Config, admin_id: int) -> bool:
    """Give an admin the menu with the admin commands, in every language; False if Telegram
    does not know the chat yet (an admin who never opened the bot: Telegram answers "chat not
    found" to a chat scope until they do)."""
    for language in (*config.i18n.languages, None):
        with use_locale(language or config.i18n.default_language):
            try:
                await bot.set_my_commands(
                    _menu(PUBLIC_COMMANDS + ADMIN_COMMANDS),
                    scope=BotCommandScopeChat(admin_id),
                    language_code=language,
                )
            except BadRequest as exc:
                if classify(exc) is not Verdict.UNREACHABLE:
                    raise
                log.info(
                    "admin %s has not opened the bot yet: their admin menu is set when they "
                    "write to it",
                    admin_id,
                )
                return False
    return True

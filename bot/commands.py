"""The bot's public commands: one list for /help, /start and Telegram's command menu."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from bot.config import Config
from bot.i18n import N_, gettext, use_locale

# (command, description); descriptions are translated where they are shown.
PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Subscribe and see what this bot does")),
    ("actions", N_("The open cases")),
    ("write", N_("Write a letter for a case")),
    ("mine", N_("The cases you wrote for")),
    ("cancel", N_("Stop the letter you are writing")),
    ("reminders", N_("Deadline reminders on or off")),
    ("help", N_("List the commands")),
    ("language", N_("Change your language")),
    ("subscribe", N_("Receive new and updated actions")),
    ("unsubscribe", N_("Pause alerts")),
    ("privacy", N_("What the bot stores about you")),
    ("forget", N_("Delete everything the bot holds about you")),
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


def command_lines() -> str:
    """The commands as lines of "/cmd - description" in the current locale."""
    return "\n".join(f"/{name} – {gettext(text)}" for name, text in PUBLIC_COMMANDS)


def _menu(commands: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(name, gettext(text)) for name, text in commands]


async def publish(bot: Bot, config: Config) -> None:
    """Set the command menus: for every language, and with admin commands for each admin."""
    for language in (*config.i18n.languages, None):
        with use_locale(language or config.i18n.default_language):
            await bot.set_my_commands(_menu(PUBLIC_COMMANDS), language_code=language)
            for admin_id in sorted(config.telegram.admins):
                await bot.set_my_commands(
                    _menu(PUBLIC_COMMANDS + ADMIN_COMMANDS),
                    scope=BotCommandScopeChat(admin_id),
                    language_code=language,
                )

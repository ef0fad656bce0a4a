"""The bot's public commands: one list for /help, /start and Telegram's command menu."""

from __future__ import annotations

from telegram import Bot, BotCommand

from bot.config import Config
from bot.i18n import N_, gettext, use_locale

# (command, description); descriptions are translated where they are shown.
PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Subscribe and see what this bot does")),
    ("help", N_("List the commands")),
    ("language", N_("Change your language")),
    ("subscribe", N_("Receive new and updated actions")),
    ("unsubscribe", N_("Pause alerts")),
    ("privacy", N_("What the bot stores about you")),
    ("forget", N_("Delete everything the bot holds about you")),
)


def command_lines() -> str:
    """The commands as lines of "/cmd - description" in the current locale."""
    return "\n".join(f"/{name} – {gettext(text)}" for name, text in PUBLIC_COMMANDS)


def _menu() -> list[BotCommand]:
    return [BotCommand(name, gettext(text)) for name, text in PUBLIC_COMMANDS]


async def publish(bot: Bot, config: Config) -> None:
    """Set the command menu for every configured language, and the default one."""
    for language in config.i18n.languages:
        with use_locale(language):
            await bot.set_my_commands(_menu(), language_code=language)
    with use_locale(config.i18n.default_language):
        await bot.set_my_commands(_menu())

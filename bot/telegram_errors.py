"""What Telegram's errors mean for the bot: one reading, shared by every sender."""

from __future__ import annotations

from telegram.error import BadRequest, Forbidden, TelegramError

# Descriptions of 400s that mean "this person cannot be reached", as Telegram words them.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


def unreachable(error: TelegramError) -> bool:
    """Blocked the bot, deleted the account, or a chat Telegram does not know."""
    if isinstance(error, Forbidden):
        return True
    return isinstance(error, BadRequest) and any(gone in error.message.lower() for gone in _GONE)

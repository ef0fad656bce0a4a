"""How the bot builds its conversations, in one place."""

from __future__ import annotations

import warnings
from typing import Any

from telegram.ext import ConversationHandler
from telegram.warnings import PTBUserWarning


def conversation(name: str, **kwargs: Any) -> ConversationHandler:
    """A persistent, re-enterable ConversationHandler.

    Buttons are matched per chat, not per message, on purpose: PTB's warning about
    ``per_message=False`` with CallbackQueryHandlers is expected and silenced here only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(name=name, persistent=True, allow_reentry=True, **kwargs)

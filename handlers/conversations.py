"""How the bot builds its conversations, in one place, and how a user's conversations end.

Every conversation built here:
- speaks in its user's language when it times out: the timeout runs as a job, which has no
  update of its own and would otherwise keep the locale of whatever task scheduled it;
- can be ended from outside (``end_conversations``), as /forget must: nothing more may reach
  an erased user, not even a timeout note.
"""

from __future__ import annotations

import warnings
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.context import Context
from handlers.locale import use_job_user_language

# True only while ``end_conversations`` feeds an update to the conversations.
_ending: ContextVar[bool] = ContextVar("ending_conversations", default=False)


async def _end(update: Update, context: Context) -> int:
    return ConversationHandler.END


class _Ender(BaseHandler[Update, Context, int]):
    """An entry point that matches only inside ``end_conversations`` and ends the conversation.

    Conversations here allow re-entry, so entry points are checked before the state's
    handlers: being the first entry point, it wins over anything else the update matches.
    Going through PTB's public ``handle_update`` also removes the timeout job and writes the
    end to persistence.
    """

    def __init__(self) -> None:
        super().__init__(_end)

    def check_update(self, update: object) -> bool:
        return _ending.get() and isinstance(update, Update)


def conversation(name: str, **kwargs: Any) -> ConversationHandler:
    """A persistent, re-enterable ConversationHandler.

    Buttons are matched per chat, not per message, on purpose: PTB's warning about
    ``per_message=False`` with CallbackQueryHandlers is expected and silenced here only.
    """
    kwargs["entry_points"] = [_Ender(), *kwargs["entry_points"]]
    states = dict(kwargs.get("states", {}))
    if ConversationHandler.TIMEOUT in states:
        # PTB runs every TIMEOUT handler in turn, in one task: the first sets the locale.
        states[ConversationHandler.TIMEOUT] = [
            TypeHandler(Update, use_job_user_language),
            *states[ConversationHandler.TIMEOUT],
        ]
        kwargs["states"] = states
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(name=name, persistent=True, allow_reentry=True, **kwargs)


async def end_conversations(update: Update, context: Context) -> None:
    """End every conversation of the update's user, in memory and (at the next write) in
    persistence, cancelling their timeouts."""
    application: Application[Any, Any, Any, Any, Any, Any] = context.application
    token = _ending.set(True)
    try:
        for group in application.handlers.values():
            for handler in group:
                if not isinstance(handler, ConversationHandler):
                    continue
                check = handler.check_update(update)
                if check is not None and check is not False:
                    await handler.handle_update(update, application, check, context)
    finally:
        _ending.reset(token)

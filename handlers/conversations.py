"""How the bot builds its conversations, in one place, and how a user's conversations end.

Every conversation built here:
- speaks in its user's language when it times out: the timeout runs as a job, which has no
  update of its own and would otherwise keep the locale of whatever task scheduled it;
- can be ended from outside (``end_conversations``), as /forget must: nothing more may reach
  an erased user, not even a timeout note.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update, User
from telegram.constants import ChatType
from telegram.ext import Application, BaseHandler, ConversationHandler, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.ptb.context import Context
from bot.ptb.text import escape
from handlers.locale import use_job_user_language
from handlers.replies import say

# Set in the user's data by ``end_conversations``: a dialogue step running concurrently (the
# user's updates run in parallel) checks it before sending; a new dialogue removes it.
ENDED_KEY = "conversations_ended"

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


@dataclass(frozen=True)
class Timeout:
    """How a dialogue ends when left alone: the work in progress goes, a note says so."""

    minutes: float  # config: letters.timeout_minutes, the wizard's, for every dialogue
    key: str  # where the work in progress lives in user_data
    note: Callable[[float], str]  # the minutes -> the localised note


def conversation(
    name: str, *, timeout: Timeout | None = None, **kwargs: Any
) -> ConversationHandler:
    """A persistent, re-enterable ConversationHandler.

    With ``timeout``, a dialogue left alone that long is dropped with a note, so a later text
    is not taken as a step of a dialogue long forgotten.

    Buttons are matched per chat, not per message, on purpose: PTB's warning about
    ``per_message=False`` with CallbackQueryHandlers is expected and silenced here only.
    """
    kwargs["entry_points"] = [_Ender(), *kwargs["entry_points"]]
    states = dict(kwargs.get("states", {}))
    if timeout is not None:
        kwargs["conversation_timeout"] = timeout.minutes * 60
        states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, _timed_out(timeout))]
    if ConversationHandler.TIMEOUT in states:
        # PTB runs every TIMEOUT handler in turn, in one task: the first sets the locale.
        on_timeout = [
            TypeHandler(Update, use_job_user_language),
            *states[ConversationHandler.TIMEOUT],
        ]
        states[ConversationHandler.TIMEOUT] = [
            TypeHandler(Update, _unless_moved_on(name, on_timeout))
        ]
        kwargs["states"] = states
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(name=name, persistent=True, allow_reentry=True, **kwargs)


def _unless_moved_on(
    name: str, on_timeout: list[BaseHandler[Update, Context, Any]]
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The timeout's handlers, unless another instance took a later step of the dialogue (or
    ended it) since this one scheduled the timeout: then the dialogue goes on there, and this
    old timeout does nothing (bot.ptb.user_state; always run with one instance)."""

    async def run(update: Update, context: Context) -> None:
        application: Application[Any, Any, Any, Any, Any, Any] = context.application
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:  # a conversation's update has both (per chat and user)
            return
        async with context.bot_data.user_state.timeout(user.id, (chat.id, user.id), name) as due:
            if not due:
                return
            for handler in on_timeout:
                check = handler.check_update(update)
                if check is not None and check is not False:
                    await handler.handle_update(update, application, check, context)

    return run


def _timed_out(timeout: Timeout) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    async def handler(update: Update, context: Context) -> None:
        if context.user_data is not None:
            context.user_data.pop(timeout.key, None)
        # A timeout runs as a job, outside the user's updates: PTB saves nothing unless told.
        if update.effective_user is not None:
            context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)
        await say(update, escape(timeout.note(timeout.minutes)))

    return handler


async def end_conversations(update: Update, context: Context) -> None:
    """End every conversation of the update's user, in memory and (at the next write) in
    persistence, cancelling their timeouts."""
    if context.user_data is not None:
        # Before any await: a step of this user still running sees it and sends nothing more.
        context.user_data[ENDED_KEY] = True
    await _end_matching(update, context, None)


async def end_conversation(
    application: Application[Any, Any, Any, Any, Any, Any], user_id: int, name: str
) -> None:
    """End one conversation (``name``) of a user's private chat, from a job (no update of its
    own): the same public path as ``end_conversations``, and the user's other dialogues go on."""
    chat = Chat(user_id, ChatType.PRIVATE)
    message = Message(0, datetime.now(UTC), chat, from_user=User(user_id, "", is_bot=False))
    update = Update(0, message=message)
    context = application.context_types.context.from_update(update, application)
    await _end_matching(update, context, name)


async def _end_matching(update: Update, context: Context, name: str | None) -> None:
    application: Application[Any, Any, Any, Any, Any, Any] = context.application
    token = _ending.set(True)
    try:
        for group in application.handlers.values():
            for handler in group:
                if not isinstance(handler, ConversationHandler):
                    continue
                if name is not None and handler.name != name:
                    continue
                check = handler.check_update(update)
                if check is not None and check is not False:
                    await handler.handle_update(update, application, check, context)
    finally:
        _ending.reset(token)

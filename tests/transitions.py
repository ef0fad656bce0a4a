"""A test-only recorder of the conversation transitions the journey tests take.

``record(app)`` wraps the callback of every handler the conversations of a built
``Application`` hold (``BaseHandler.callback``, PTB's public attribute; no private state is
read): what a callback returns is the state the conversation moves to. ``TAKEN`` collects
``(conversation, from, to)`` over the whole session, by the state names of the handlers module
(``[*]`` for the start and the end), and tests/test_state_diagrams.py checks each one is drawn.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler

END = "[*]"
TAKEN: set[tuple[str, str, str]] = set()
# The conversations of every Application recorded this session (a journey test ran).
RECORDED: set[str] = set()


def module_of(conversation: ConversationHandler) -> str:
    """The handlers module that defines the conversation: where its entry callbacks live."""
    modules = {
        entry.callback.__module__
        for entry in conversation.entry_points
        if entry.callback.__module__.startswith("handlers.")
        and entry.callback.__module__ != "handlers.conversations"
    }
    assert len(modules) == 1, f"{conversation.name}: entry points in {modules}"
    return modules.pop()


def state_names(conversation: ConversationHandler) -> dict[object, str]:
    """Each state's value -> the module constant that names it."""
    module = importlib.import_module(module_of(conversation))
    return {
        value: name
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, int) and value in conversation.states
    }


def conversations(app: Any) -> list[ConversationHandler]:
    return [
        handler
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler)
    ]


def record(app: Any) -> Any:
    for conversation in conversations(app):
        _wrap(conversation)
    return app


def _key(update: object) -> tuple[int | None, int | None]:
    if not isinstance(update, Update):
        return (None, None)
    chat, user = update.effective_chat, update.effective_user
    return (chat.id if chat else None, user.id if user else None)


def _wrap(conversation: ConversationHandler) -> None:
    name = conversation.name or "?"
    names = state_names(conversation)
    current: dict[tuple[int | None, int | None], str] = {}
    RECORDED.add(name)

    def wrap(handler: BaseHandler[Any, Any, Any], origin: str | None, ends: bool) -> None:
        """``origin``: the state the handler is registered in (None: wherever the user is)."""
        callback = handler.callback

        @functools.wraps(callback)
        async def recorded(update: object, context: Any) -> object:
            key = _key(update)
            start = origin if origin is not None else current.get(key)
            result = await callback(update, context)
            if ends or result == ConversationHandler.END:
                target: str | None = END
            elif result is None:
                target = None  # stays where it is: no transition
            else:
                target = names.get(result, f"<unknown {result!r}>")
            if target is not None and start is not None:
                TAKEN.add((name, start, target))
                current[key] = target
            if target == END:  # out of the conversation: an ender or timeout later ends nothing
                current.pop(key, None)
            return result

        handler.callback = recorded

    for entry in conversation.entry_points:
        # The builder's ender (handlers/conversations.py) ends whatever state the user is in.
        ender = entry.callback.__module__ == "handlers.conversations"
        wrap(entry, None if ender else END, ender)
    for state, handlers in conversation.states.items():
        for handler in handlers:
            if state == ConversationHandler.TIMEOUT:
                wrap(handler, None, True)
            else:
                wrap(handler, names[state], False)
    for handler in conversation.fallbacks:
        wrap(handler, None, False)

"""Every Telegram call a handler makes, and the typed accessors they rely on.

HTML in, split under Telegram's limit. No call passes send options (parse mode, link
previews, notifications): the application's ``Defaults`` (bot/app.py) supply them to each
method here, so they are decided in one place.

The accessors narrow what PTB types as optional: a handler is registered for updates that
carry a user, a chat, a message or a callback query, so one missing is a wiring error
(``NotForUs``), not a case to handle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResult,
    InputFile,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackContext

from bot.ptb import errors
from bot.ptb.text import pack, split

log = logging.getLogger(__name__)


class NotForUs(TypeError):
    """An update lacks what its handler is registered for (a user, a chat, a query)."""


def user_of(update: Update) -> User:
    if (user := update.effective_user) is None:
        raise NotForUs("update has no user")
    return user


def chat_of(update: Update) -> Chat:
    if (chat := update.effective_chat) is None:
        raise NotForUs("update has no chat")
    return chat


def message_of(update: Update) -> Message:
    if (message := update.effective_message) is None:
        raise NotForUs("update has no message")
    return message


def query_of(update: Update) -> CallbackQuery:
    if (query := update.callback_query) is None:
        raise NotForUs("update has no callback query")
    return query


def inline_query_of(update: Update) -> InlineQuery:
    if (query := update.inline_query) is None:
        raise NotForUs("update has no inline query")
    return query


def user_data_of(context: CallbackContext[Any, Any, Any, Any]) -> dict[Any, Any]:
    """The user's conversation data (PTB has none for updates without a user)."""
    if (data := context.user_data) is None:
        raise NotForUs("update has no user data")
    return data


def text_of(update: Update) -> str:
    """The text of the update's message ("" for none: a photo, a sticker)."""
    return message_of(update).text or ""


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send ``text`` (HTML, escaped by the caller) to the update's chat, split under
    Telegram's limit; the buttons go under the last part (returned)."""
    parts = split(text)
    for index, part in enumerate(parts):
        last = await chat_of(update).send_message(
            part, reply_markup=markup if index == len(parts) - 1 else None
        )
    return last


async def say_parts(
    update: Update, texts: list[str], markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send a message already split in parts; the buttons go under the last one (returned)."""
    assert texts, "nothing to send"
    for index, text in enumerate(texts):
        last = await say(update, text, markup if index == len(texts) - 1 else None)
    return last


async def say_all(update: Update, blocks: list[str], separator: str = "\n") -> None:
    """Send HTML blocks in as few messages as fit 4096 characters (long lists, reports)."""
    for text in pack(blocks, separator=separator):
        await say(update, text)


async def send_document(
    update: Update,
    document: InputFile,
    caption: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send a file to the update's chat, with an HTML caption and buttons."""
    return await chat_of(update).send_document(document, caption=caption, reply_markup=markup)


async def uploading(update: Update) -> None:
    """Show "sending a file…" while a document is made."""
    await chat_of(update).send_action("upload_document")


async def answer(
    update: Update, toast: str | None = None, *, alert: bool = False, url: str | None = None
) -> None:
    """Answer the update's button tap: silently, with a toast, or (``alert``) a dialogue;
    ``url`` (a ``t.me/<bot>?start=…`` link) opens the private chat with the bot.

    Telegram shows a spinner on the button until it is answered, so every tap is answered.
    """
    await query_of(update).answer(toast, show_alert=alert or None, url=url)


async def offer(
    update: Update,
    results: Sequence[InlineQueryResult],
    *,
    next_offset: str,
    cache_time: int,
    personal: bool,
) -> None:
    """Answer the update's inline query with ``results`` (HTML texts: the Defaults' parse
    mode applies to them too); ``next_offset`` lets the client ask for more ("": no more)."""
    await inline_query_of(update).answer(
        results,
        cache_time=cache_time,
        is_personal=personal,
        # None, not "": with Defaults, PTB 22.x sends an empty string as "[]" (it takes ""
        # for an empty list of poll options), and the client would ask for a page "[]".
        next_offset=next_offset or None,
    )


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Rewrite the message whose button was tapped (its buttons go unless given); a double
    tap asking for what is shown already changes nothing (``errors.unchanged``)."""
    try:
        await query_of(update).edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if not errors.unchanged(exc):
            raise


async def set_buttons(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    """Change (or, with None, remove) the buttons of the message whose button was tapped."""
    try:
        await query_of(update).edit_message_reply_markup(markup)
    except BadRequest as exc:
        if not errors.unchanged(exc):
            raise


async def replace(
    update: Update, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit one of the bot's messages in the update's chat (its buttons go unless given).

    A message that can no longer be edited (deleted by the user, unchanged) stays as it is:
    the handlers still refuse its buttons.
    """
    try:
        await update.get_bot().edit_message_text(
            text, chat_id=chat_of(update).id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as exc:
        log.debug("message not edited: %s", exc.message)


async def drop_buttons(update: Update, message_id: int) -> None:
    """Take the buttons off one of the bot's messages in the update's chat."""
    try:
        await update.get_bot().edit_message_reply_markup(
            chat_id=chat_of(update).id, message_id=message_id
        )
    except BadRequest as exc:
        log.debug("buttons not removed: %s", exc.message)


async def take_back(update: Update, message_id: int) -> None:
    """Delete one of the bot's messages in the update's chat; one already gone stays gone."""
    try:
        await update.get_bot().delete_message(chat_of(update).id, message_id)
    except TelegramError as exc:
        log.debug("message not deleted: %s", exc.message)

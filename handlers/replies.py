"""Sending answers: one way for every handler, HTML in, split under Telegram's limit."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.telegram_text import pack

log = logging.getLogger(__name__)


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send ``text`` (HTML, escaped by the caller) to the update's chat."""
    return await update.effective_chat.send_message(text, reply_markup=markup)  # type: ignore[union-attr]


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


async def replace(
    update: Update, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit one of the bot's messages in the update's chat (its buttons go unless given).

    A message that can no longer be edited (deleted by the user, unchanged) stays as it is:
    the handlers still refuse its buttons.
    """
    chat = update.effective_chat
    assert chat is not None
    try:
        await update.get_bot().edit_message_text(
            text, chat_id=chat.id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as exc:
        log.debug("message not edited: %s", exc.message)


async def drop_buttons(update: Update, message_id: int) -> None:
    """Take the buttons off one of the bot's messages in the update's chat."""
    chat = update.effective_chat
    assert chat is not None
    try:
        await update.get_bot().edit_message_reply_markup(chat_id=chat.id, message_id=message_id)
    except BadRequest as exc:
        log.debug("buttons not removed: %s", exc.message)

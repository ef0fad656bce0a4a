"""Sending answers: one way for every handler, HTML in, split under Telegram's limit."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.telegram_text import pack


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Send ``text`` (HTML, escaped by the caller) to the update's chat."""
    await update.effective_chat.send_message(text, reply_markup=markup)  # type: ignore[union-attr]


async def say_parts(
    update: Update, texts: list[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send a message already split in parts; the buttons go under the last one."""
    for index, text in enumerate(texts):
        await say(update, text, markup if index == len(texts) - 1 else None)


async def say_all(update: Update, blocks: list[str], separator: str = "\n") -> None:
    """Send HTML blocks in as few messages as fit 4096 characters (long lists, reports)."""
    for text in pack(blocks, separator=separator):
        await say(update, text)

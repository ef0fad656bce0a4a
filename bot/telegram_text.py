"""Telegram's HTML parse mode: escaping, and splitting long texts at paragraph boundaries."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024  # a document's caption, in UTF-16 units as Telegram counts
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Rendered:
    """One or more HTML messages; the buttons go on the last one.

    Here, not in bot.actions, so that the broadcast engine sends it without importing the
    actions that render it.
    """

    texts: list[str]
    keyboard: InlineKeyboardMarkup | None


def escape(text: str) -> str:
    """Escape user or file text for parse_mode=HTML (quotes need no escaping outside tags)."""
    return html.escape(text, quote=False)


def utf16_length(text: str) -> int:
    """Telegram counts UTF-16 code units: a character outside the BMP (most emoji) is 2."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(html_text: str) -> int:
    """Length as Telegram counts it after parsing entities, in UTF-16 code units."""
    return utf16_length(html.unescape(_TAG.sub("", html_text)))


def _fitting(text: str, size: int) -> int:
    """How many characters of ``text`` fit in ``size`` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > size:
            return index
    return len(text)


def truncate(text: str, size: int) -> str:
    """The longest start of ``text`` that fits in ``size`` UTF-16 code units."""
    return text[: _fitting(text, size)]


def chunk_plain(text: str, size: int) -> list[str]:
    """Cut plain text into pieces of at most ``size`` UTF-16 code units (Telegram's measure),
    at whitespace where possible."""
    pieces = []
    rest = text
    while utf16_length(rest) > size:
        fit = _fitting(rest, size)
        cut = rest.rfind(" ", 0, fit)
        if cut <= fit // 2:
            cut = fit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def paragraphs(text: str, size: int = MESSAGE_LIMIT - 96) -> list[str]:
    """Plain text -> escaped HTML paragraphs, each short enough to travel on its own."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        blocks.extend(escape(piece) for piece in chunk_plain(paragraph.strip(), size))
    return blocks


def pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Join HTML blocks into as few messages as fit ``limit``, never splitting a block."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if current and visible_length(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages

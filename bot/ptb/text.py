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


# An HTML text as Telegram reads it: tags, entities (one character each) and characters.
_ATOM = re.compile(r"<[^>]*>|&#?\w+;|.", re.S)
_TAG_NAME = re.compile(r"</?\s*([\w-]+)")


@dataclass
class _Break:
    at: int  # atoms of the piece before it
    units: int  # visible UTF-16 units before it
    open_tags: tuple[tuple[str, str], ...]  # (name, opening tag) still open there


def split(html_text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """An HTML message -> messages of at most ``limit`` visible UTF-16 units: the one splitter
    every text the bot sends goes through. Cuts at a line break, else between words, else
    where it must, never inside a tag or an entity; a tag open at a cut is closed before it
    and opened again after it, so each piece parses on its own."""
    if visible_length(html_text) <= limit:
        return [html_text]
    pieces: list[str] = []
    atoms: list[str] = []
    units = 0
    stack: list[tuple[str, str]] = []
    lines: list[_Break] = []
    words: list[_Break] = []

    def cut(where: _Break) -> None:
        nonlocal atoms, units
        head = "".join(atoms[: where.at]).rstrip()
        if _TAG.sub("", head).strip():
            pieces.append(head + "".join(f"</{name}>" for name, _ in reversed(where.open_tags)))
        rest = atoms[where.at :]
        stripped = 0
        while stripped < len(rest) and rest[stripped].isspace():
            stripped += 1
        atoms = [tag for _, tag in where.open_tags] + rest[stripped:]
        units -= where.units + stripped
        shift = where.at + stripped - len(where.open_tags)
        for breaks in (lines, words):
            breaks[:] = [
                _Break(b.at - shift, b.units - where.units - stripped, b.open_tags)
                for b in breaks
                if b.at > where.at + stripped
            ]

    for atom in _ATOM.findall(html_text):
        if atom.startswith("<") and len(atom) > 1 and (match := _TAG_NAME.match(atom)):
            if atom.startswith("</"):
                for depth in range(len(stack) - 1, -1, -1):
                    if stack[depth][0] == match.group(1):
                        del stack[depth:]
                        break
            else:
                stack.append((match.group(1), atom))
            atoms.append(atom)
            continue
        size = 1 if atom.startswith("&") else utf16_length(atom)
        if units + size > limit:
            half = limit // 2
            best = next((b for b in reversed(lines) if b.units > half), None) or (
                words[-1] if words else None
            )
            cut(best or _Break(len(atoms), units, tuple(stack)))
        atoms.append(atom)
        units += size
        if atom == "\n":
            lines.append(_Break(len(atoms), units, tuple(stack)))
        elif atom.isspace():
            words.append(_Break(len(atoms), units, tuple(stack)))
    head = "".join(atoms).strip()
    if _TAG.sub("", head).strip():
        pieces.append(head)
    return pieces

"""Telegram's HTML parse mode: strict validation plus plain text and entities.

Telegram rejects what browsers forgive (unknown tags, unclosed tags, a bare ``<`` or
``&``), so the emulator must too, or formatting bugs would only show up in production.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["HtmlError", "parse_html", "utf16_len"]

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR_RE = re.compile(
    r"""\s*([a-zA-Z_][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)
# Tag -> entity type; None marks tags whose type depends on their attributes.
_TAGS: dict[str, str | None] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": None,
    "blockquote": None,
    "tg-emoji": "custom_emoji",
}


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; str() is Telegram's wording after 'entities: '."""


def utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(html: str, pos: int) -> int:
    return len(html[:pos].encode("utf-8"))


def _decode_entities(chunk: str, html: str, base: int) -> str:
    """Replace character entities, rejecting a bare or unsupported ``&``."""
    out: list[str] = []
    pos = 0
    while True:
        amp = chunk.find("&", pos)
        if amp < 0:
            out.append(chunk[pos:])
            return "".join(out)
        out.append(chunk[pos:amp])
        match = _ENTITY_RE.match(chunk, amp)
        if match is None:
            raise HtmlError(
                f'Character "&" at byte offset {_byte_offset(html, base + amp)} '
                "must be escaped as &amp;"
            )
        dec, hexa, name = match.groups()
        if name is not None:
            if name.lower() not in _NAMED_ENTITIES:
                raise HtmlError(
                    f'Unsupported HTML entity "&{name};" at byte offset '
                    f"{_byte_offset(html, base + amp)}"
                )
            out.append(_NAMED_ENTITIES[name.lower()])
        else:
            code = int(dec) if dec is not None else int(hexa, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise HtmlError(f"Invalid character code at byte offset {amp}")
            out.append(chr(code))
        pos = match.end()


def _parse_attrs(raw: str, html: str, base: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    pos = 0
    raw = raw.rstrip()
    while pos < len(raw):
        match = _ATTR_RE.match(raw, pos)
        if match is None or match.end() == pos:
            raise HtmlError(
                f"Can't parse tag attributes at byte offset {_byte_offset(html, base)}"
            )
        name, dq, sq, bare = match.groups()
        value = dq if dq is not None else sq if sq is not None else bare
        attrs[name.lower()] = "" if value is None else _decode_entities(value, html, base)
        pos = match.end()
    return attrs


def _entity_for(tag: str, attrs: dict[str, str], html: str, at: int) -> dict[str, Any]:
    kind = _TAGS[tag]
    if tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(html, at)}'
            )
        return {"type": "spoiler"}
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    entity: dict[str, Any] = {"type": kind}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            raise HtmlError(f"Can't find link URL at byte offset {_byte_offset(html, at)}")
        entity["url"] = href
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif tag == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"][len("language-") :]
    return entity


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (visible text, entities) or raise HtmlError like Telegram would."""
    text_parts: list[str] = []
    offset = 0  # UTF-16 offset of the visible text produced so far
    stack: list[tuple[str, int, dict[str, Any], int]] = []  # tag, start, entity, html pos
    opened = 0  # entities keep the order of their start tags, as Telegram's do
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(html):
        lt = html.find("<", pos)
        chunk = html[pos:] if lt < 0 else html[pos:lt]
        if chunk:
            decoded = _decode_entities(chunk, html, pos)
            text_parts.append(decoded)
            offset += utf16_len(decoded)
        if lt < 0:
            break
        match = _TAG_RE.match(html, lt)
        if match is None:
            raise HtmlError(
                f'Unexpected "<" at byte offset {_byte_offset(html, lt)}: '
                "escape it as &lt; or close the tag"
            )
        closing, tag, raw_attrs, _ = match.groups()
        tag = tag.lower()
        if tag not in _TAGS:
            kind = "end" if closing else "start"
            raise HtmlError(
                f'Unsupported {kind} tag "{tag}" at byte offset {_byte_offset(html, lt)}'
            )
        if closing:
            if not stack:
                raise HtmlError(
                    f'Unexpected end tag "{tag}" at byte offset {_byte_offset(html, lt)}'
                )
            open_tag, start, entity, _ = stack.pop()
            if open_tag != tag:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {_byte_offset(html, lt)}, "
                    f'expected "</{open_tag}>", found "</{tag}>"'
                )
            if offset > start:
                entity["offset"] = start
                entity["length"] = offset - start
                entities.append(entity)
        else:
            attrs = _parse_attrs(raw_attrs, html, lt)
            entity = _entity_for(tag, attrs, html, lt)
            entity["_seq"] = opened
            opened += 1
            if stack and stack[-1][0] == "pre" and tag == "code" and "language" in entity:
                stack[-1][2]["language"] = entity.pop("language")
            stack.append((tag, offset, entity, lt))
        pos = match.end()
    if stack:
        tag, _, _, at = stack[-1]
        raise HtmlError(
            f'Can\'t find end tag corresponding to start tag "{tag}" '
            f"at byte offset {_byte_offset(html, at)}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"], e.pop("_seq")))
    return "".join(text_parts), entities

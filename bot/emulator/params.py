"""Bot API request parameters, read the way Telegram reads them.

Clients send form fields, JSON bodies, multipart uploads or query strings, and nest
JSON inside form fields; handlers should only ever see typed Python values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .faults import ApiError

__all__ = ["Params", "Upload", "read_params"]

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "results",
        "button",
    }
)
_INT_FIELDS = frozenset(
    {"message_id", "offset", "limit", "user_id", "cache_time", "reply_to_message_id"}
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "drop_pending_updates",
        "disable_content_type_detection",
        "allow_sending_without_reply",
        "is_personal",
        "allow_paid_broadcast",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    file_name: str | None
    mime_type: str | None
    data: bytes


Params = dict[str, Any]


def _coerce(name: str, value: Any) -> Any:
    if isinstance(value, Upload):
        return value
    if isinstance(value, str):
        if name in _JSON_FIELDS and value[:1] in ("[", "{"):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        if name in _BOOL_FIELDS:
            return value.strip().lower() in ("true", "1")
        if name == "timeout":  # integer at Telegram; fractions help fast tests
            try:
                return float(value)
            except ValueError:
                raise ApiError(400, "Bad Request: wrong parameter timeout") from None
        if name in _INT_FIELDS or name == "chat_id":
            try:
                return int(value)
            except ValueError:
                if name == "chat_id":
                    return value  # "@username" targets, which private chats never match
                raise ApiError(400, f"Bad Request: wrong parameter {name}") from None
    return value


async def read_params(request: web.Request) -> Params:
    """Merge query string and body (form, JSON or multipart) into typed parameters."""
    raw: dict[str, Any] = dict(request.query)
    ctype = request.content_type
    if request.can_read_body:
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON body") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON body must be an object")
            raw.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = await part.read()
                if part.filename is not None:
                    mime = part.headers.get("Content-Type")
                    raw[part.name] = Upload(part.filename, mime, bytes(data))
                else:
                    raw[part.name] = bytes(data).decode("utf-8")
        elif ctype == "application/x-www-form-urlencoded":
            raw.update((await request.post()).items())
    params: Params = {}
    for name, value in raw.items():
        if isinstance(value, str) and value.startswith("attach://"):
            value = raw.get(value[len("attach://") :], value)
        params[name] = _coerce(name, value)
    return params

"""JSON control API under ``/_emu/``: drives simulated users from another process.

Used by the benchmark and a future web chat, which cannot call SimUser directly.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["add_control_routes"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _fail(description: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "description": description}, status=status)


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"ok": False, "description": "invalid JSON"}),
            content_type="application/json",
        ) from None


def add_control_routes(app: web.Application, emu: Emulator) -> None:
    """Register the /_emu/ endpoints for ``emu`` on ``app``."""

    def guarded(handler: _Handler) -> _Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except (KeyError, TypeError, ValueError) as exc:
                return _fail(f"bad request: {exc!r}")

        return wrapper

    def known_user(user_id: Any) -> Any:
        uid = int(user_id)
        if uid not in emu.state.chats:
            raise KeyError(f"unknown user {uid}; create it via POST /_emu/users")
        return emu.user(uid)

    async def users(request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        items = body if isinstance(body, list) else [body]
        for item in items:
            emu.user(
                int(item["id"]),
                first_name=item.get("first_name") or f"User{item['id']}",
                last_name=item.get("last_name"),
                username=item.get("username"),
                language_code=item.get("language_code"),
            )
        return _ok(len(items))

    async def send(request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        return _ok(await known_user(body["user_id"]).send(str(body["text"])))

    async def tap(request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        user = known_user(body["user_id"])
        try:
            answer = await user.tap(
                int(body["message_id"]), str(body["button"]), float(body.get("timeout", 5.0))
            )
        except AssertionError as exc:
            if "no answerCallbackQuery" in str(exc):
                return _ok(None)
            return _fail(str(exc).split("\n", 1)[0])
        return _ok({"text": answer.text, "show_alert": answer.show_alert, "url": answer.url})

    async def inline(request: web.Request) -> web.StreamResponse:
        """Type ``@bot query``: the bot's answer, or null when it gave none in time."""
        body = await _json(request)
        user = known_user(body["user_id"])
        try:
            answer = await user.inline(
                str(body.get("query", "")),
                offset=str(body.get("offset", "")),
                timeout=float(body.get("timeout", 5.0)),
            )
        except AssertionError as exc:
            if "no answerInlineQuery" in str(exc):
                return _ok(None)
            return _fail(str(exc).split("\n", 1)[0])
        return _ok(answer.to_json())

    async def inline_choose(request: web.Request) -> web.StreamResponse:
        """Choose result ``index`` of the user's last inline answer: the posted message."""
        body = await _json(request)
        user = known_user(body["user_id"])
        if user.last_inline is None:
            return _fail("this user has no inline answer to choose from")
        try:
            posted = await user.choose(user.last_inline, int(body.get("index", 0)))
        except AssertionError as exc:
            return _fail(str(exc).split("\n", 1)[0])
        return _ok(posted.to_json())

    async def other_messages(request: web.Request) -> web.StreamResponse:
        """What the user posted via the bot into their chat with a friend."""
        user = known_user(request.match_info["user_id"])
        after = int(request.query.get("after", 0))
        return _ok([m.to_json() for m in user.other_chat.transcript if m.message_id > after])

    async def upload(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField):
            return _fail("multipart field 'file' is required")
        caption = form.get("caption")
        message = await known_user(form["user_id"]).upload(
            file.filename,
            file.file.read(),
            mime_type=file.content_type,
            caption=caption if isinstance(caption, str) and caption else None,
        )
        return _ok(message)

    async def messages(request: web.Request) -> web.StreamResponse:
        chat = emu.state.chats.get(int(request.match_info["user_id"]))
        if chat is None:
            return _fail("unknown user", 404)
        after = int(request.query.get("after", 0))
        source = (
            chat.transcript
            if request.query.get("include_user", "").lower() in ("1", "true")
            else chat.bot_messages
        )
        return _ok([m.to_json() for m in source if m.message_id > after])

    async def files(request: web.Request) -> web.StreamResponse:
        stored = emu.state.files.get(request.match_info["file_id"])
        if stored is None:
            return _fail("file not found", 404)
        headers = {}
        if stored.file_name:
            headers["Content-Disposition"] = f'attachment; filename="{stored.file_name}"'
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )

    async def stats(request: web.Request) -> web.StreamResponse:
        return _ok(emu.stats.as_dict())

    async def config(request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        if "rate_limit" in body:
            emu.rate_limit = body["rate_limit"]
        if "per_chat_rate" in body or "per_chat_burst" in body:
            emu.limiter.set_per_chat(
                body.get("per_chat_rate", emu.limiter.per_chat_rate), body.get("per_chat_burst")
            )
        if "blocked" in body:
            emu.faults.blocked = {int(x) for x in body["blocked"] or []}
        if "deactivated" in body:
            emu.faults.deactivated = {int(x) for x in body["deactivated"] or []}
        if "inline_mode" in body:
            emu.inline_mode = bool(body["inline_mode"])
        if "inline_feedback" in body:
            emu.inline_feedback = bool(body["inline_feedback"])
        return _ok(emu.config())

    async def current_config(request: web.Request) -> web.StreamResponse:
        return _ok(emu.config())

    async def commands(request: web.Request) -> web.StreamResponse:
        scope = request.query.get("scope")
        cmds = emu.commands(
            language_code=request.query.get("language_code", ""),
            scope=json.loads(scope) if scope else None,
        )
        return _ok([{"command": c, "description": d} for c, d in cmds])

    routes = [
        ("POST", "/_emu/users", users),
        ("POST", "/_emu/send", send),
        ("POST", "/_emu/tap", tap),
        ("POST", "/_emu/upload", upload),
        ("POST", "/_emu/inline", inline),
        ("POST", "/_emu/inline/choose", inline_choose),
        ("GET", "/_emu/chats/{user_id}/other", other_messages),
        ("GET", "/_emu/chats/{user_id}/messages", messages),
        ("GET", "/_emu/files/{file_id}", files),
        ("GET", "/_emu/stats", stats),
        ("GET", "/_emu/config", current_config),
        ("POST", "/_emu/config", config),
        ("GET", "/_emu/commands", commands),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, guarded(handler))

"""JSON control API under ``/_emu/``: drives simulated users from another process.

Used by the benchmark and a future web chat, which cannot call SimUser directly.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .groups import SimGroup
from .state import BOT_USER, SentMessage, UserMessage

if TYPE_CHECKING:
    from .server import Emulator
    from .users import SimUser

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

    def known_user(user_id: Any) -> SimUser:
        uid = int(user_id)
        if uid not in emu.state.chats or uid < 0:
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
                started=bool(item.get("started", False)),
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
        if "paid_rate_limit" in body:
            emu.paid_rate_limit = body["paid_rate_limit"]
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
        if "privacy_mode" in body:
            emu.privacy_mode = bool(body["privacy_mode"])
        if "group_limit" in body:
            limit = body["group_limit"]
            emu.set_group_limit(*(limit if limit else (None,)))
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

    # -- groups: the sandbox's group chat, driven like the users above ---------------------

    def group_json(group: SimGroup) -> dict[str, Any]:
        pinned = group.pinned
        return {
            "chat_id": group.id,
            "type": group.type,
            "title": group.title,
            "bot_status": group.bot_status,
            "members": [
                {"user_id": m.user["id"], "status": m.status}
                for m in group.group.members.values()
                if m.user["id"] != BOT_USER["id"]
            ],
            "pinned": pinned.message_id if pinned is not None else None,
            "old_chat_ids": [c.chat_id for c in group.old_chats],
        }

    async def groups(request: web.Request) -> web.StreamResponse:
        """Create a group: ``{"title", "members": [ids], "admins": [ids], "supergroup"}``."""
        body = await _json(request)
        group = emu.group(
            str(body["title"]),
            members=[known_user(u) for u in body.get("members") or []],
            admins=[known_user(u) for u in body.get("admins") or []],
            supergroup=bool(body.get("supergroup")),
        )
        return _ok(group_json(group))

    def find_group(request: web.Request) -> SimGroup:
        return emu.find_group(int(request.match_info["chat_id"]))

    async def group_info(request: web.Request) -> web.StreamResponse:
        return _ok(group_json(find_group(request)))

    async def group_send(request: web.Request) -> web.StreamResponse:
        """``{"user_id", "text", "reply_to": message_id?}``: the message as the bot gets it."""
        body = await _json(request)
        group = find_group(request)
        reply_to = body.get("reply_to")
        target = group.group.by_id.get(int(reply_to)) if reply_to is not None else None
        try:
            message = await group.send(
                known_user(body["user_id"]), str(body["text"]), reply_to=target
            )
        except AssertionError as exc:
            return _fail(str(exc).split("\n", 1)[0])
        record = group.group.by_id[message["message_id"]]
        return _ok({**message, "delivered": isinstance(record, UserMessage) and record.delivered})

    async def group_bot(request: web.Request) -> web.StreamResponse:
        """``{"action": "add"|"remove"|"promote"|"demote", "by": user_id?, "admin": bool?,
        "rights": [...]?}``: change the bot's membership (a my_chat_member update)."""
        body = await _json(request)
        group = find_group(request)
        by = known_user(body["by"]) if body.get("by") is not None else None
        action = body.get("action")
        try:
            if action == "add":
                extra = {"rights": body["rights"]} if "rights" in body else {}
                group.add_bot(by, admin=bool(body.get("admin")), **extra)
            elif action == "remove":
                group.remove_bot(by)
            elif action == "promote":
                group.promote_bot(body.get("rights") or ("can_pin_messages",), by)
            elif action == "demote":
                group.demote_bot(by)
            else:
                return _fail("action must be add, remove, promote or demote")
        except AssertionError as exc:
            return _fail(str(exc).split("\n", 1)[0])
        return _ok(group_json(group))

    async def group_messages(request: web.Request) -> web.StreamResponse:
        """The group's messages after ``?after=`` (a message id): the bot's, and with
        ``include_user=1`` the members' too."""
        group = find_group(request)
        after = int(request.query.get("after", 0))
        everyone = request.query.get("include_user", "").lower() in ("1", "true")
        return _ok(
            [
                m.to_json()
                for m in group.transcript
                if m.message_id > after and (everyone or isinstance(m, SentMessage))
            ]
        )

    async def group_tap(request: web.Request) -> web.StreamResponse:
        """``{"user_id", "message_id", "button"}``: a member presses a button (its text, else
        its callback data) under a bot message in the group; the toast only they see."""
        body = await _json(request)
        group = find_group(request)
        try:
            answer = await group.tap(
                known_user(body["user_id"]),
                int(body["message_id"]),
                str(body["button"]),
                float(body.get("timeout", 5.0)),
            )
        except AssertionError as exc:
            if "no answerCallbackQuery" in str(exc):
                return _ok(None)
            return _fail(str(exc).split("\n", 1)[0])
        return _ok({"text": answer.text, "show_alert": answer.show_alert, "url": answer.url})

    async def group_join(request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        group = find_group(request)
        group.join(known_user(body["user_id"]))
        return _ok(group_json(group))

    async def group_migrate(request: web.Request) -> web.StreamResponse:
        group = find_group(request)
        try:
            group.migrate()
        except AssertionError as exc:
            return _fail(str(exc).split("\n", 1)[0])
        return _ok(group_json(group))

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
        ("POST", "/_emu/groups", groups),
        ("GET", "/_emu/groups/{chat_id}", group_info),
        ("POST", "/_emu/groups/{chat_id}/send", group_send),
        ("POST", "/_emu/groups/{chat_id}/bot", group_bot),
        ("GET", "/_emu/groups/{chat_id}/messages", group_messages),
        ("POST", "/_emu/groups/{chat_id}/tap", group_tap),
        ("POST", "/_emu/groups/{chat_id}/join", group_join),
        ("POST", "/_emu/groups/{chat_id}/migrate", group_migrate),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, guarded(handler))

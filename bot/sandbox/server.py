"""The sandbox server: emulator + real bot + a web chat on 127.0.0.1, in one event loop.

The page talks to a thin JSON API here, which acts through the emulator's in-process objects
(``SimUser``), exactly as the journey tests do; nothing here knows the bot's handlers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_application, running
from bot.config import Config
from bot.emulator import BOT_USER, Emulator, InlineAnswer, SentMessage, SimGroup, SimUser
from bot.sandbox.seed import copied_config, seed, seeded_config

log = logging.getLogger(__name__)

# Loopback only, and not configurable: the page can act as any user, including the admin.
HOST = "127.0.0.1"
STATIC = Path(__file__).parent / "static"
TOKEN = "123456:SANDBOX-TOKEN"
# Emulator state changes are awaited by taps and inline queries; the bot answers well within.
TAP_TIMEOUT = 5.0
# Inline answers kept per user, so a result stays choosable while newer queries are typed.
INLINE_ANSWERS_KEPT = 16

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class SandboxUser:
    """A simulated person the page can switch to."""

    id: int
    name: str
    language_code: str
    admin: bool = False


SUPPORTERS = (
    SandboxUser(1001, "Emma (English)", "en-GB"),
    SandboxUser(1002, "Lukas (Deutsch)", "de-CH"),
    SandboxUser(1003, "Camille (Français)", "fr-FR"),
)


# The group's admin (a local group's organiser): a group admin, not one of the bot's admins.
GROUP_ADMIN = SandboxUser(1004, "Noor (group admin)", "en-GB")
# A local group writing together: its admin and the three supporters; the admin adds the bot.
GROUP_TITLE = "Local group"


def _users_for(config: Config) -> tuple[SandboxUser, ...]:
    admins = sorted(config.telegram.admins)
    people = (*SUPPORTERS, GROUP_ADMIN)
    if not admins:
        return people
    return (*people, SandboxUser(admins[0], "Admin", "en-GB", admin=True))


def _local_group(emulator: Emulator) -> SimGroup:
    """The group chat: Noor created it with the three supporters and adds the bot, as a
    group's organiser would (the bot gets ``my_chat_member``, as from Telegram)."""
    admin = emulator.user(GROUP_ADMIN.id)
    members = [emulator.user(user.id) for user in SUPPORTERS]
    group = emulator.group(GROUP_TITLE, members=members, admins=[admin])
    group.add_bot(by=admin)
    return group


def _message_json(message: Any) -> dict[str, Any]:
    """What the page renders: text plus entities (never HTML), buttons, a download link.

    A user's message is plain text, unless the user posted it through inline mode: then it
    is the bot's card, sent "via @bot" (and so rendered as the bot's messages are).
    """
    if not isinstance(message, SentMessage):
        author = message.from_user or {}
        return {
            "sender": "user",
            "id": message.message_id,
            "text": message.text or "",
            "file_name": message.file_name,
            "deleted": message.deleted,
            "from": author.get("first_name"),
            "from_id": author.get("id"),
        }
    document = None
    if message.file is not None:
        document = {
            "name": message.file.file_name or "file",
            "size": len(message.file.data),
            "url": f"/api/files/{message.file.file_id}",
        }
    return {
        "sender": "bot" if message.from_user is None else "user",
        "via_bot": message.via_bot.get("username") if message.via_bot else None,
        "id": message.message_id,
        "text": message.text,
        "entities": message.entities,
        "buttons": [
            [{"text": b.text, "url": b.url, "tap": b.callback_data is not None} for b in row]
            for row in message.buttons
        ],
        "document": document,
        "edited": message.edits > 0,
        "deleted": message.deleted,
    }


class Sandbox:
    """The web chat over a running emulator; ``start()`` binds 127.0.0.1 only."""

    def __init__(
        self,
        emulator: Emulator,
        config: Config,
        users: tuple[SandboxUser, ...],
        groups: tuple[SimGroup, ...] = (),
    ) -> None:
        self.emulator = emulator
        self.config = config
        self.users = {u.id: u for u in users}
        self.groups = {g.id: g for g in groups}
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._inline: dict[int, OrderedDict[str, InlineAnswer]] = {}
        self.app = self._make_app()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._same_origin], client_max_size=20 * 1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, append_version=False)
        app.router.add_get("/api/users", self._users)
        app.router.add_get("/api/bot", self._bot)
        app.router.add_get("/api/chats/{user_id}/messages", self._messages)
        app.router.add_get("/api/chats/{user_id}/other/messages", self._other_messages)
        app.router.add_get("/api/chats/{user_id}/commands", self._commands)
        app.router.add_post("/api/chats/{user_id}/send", self._send)
        app.router.add_post("/api/chats/{user_id}/tap", self._tap)
        app.router.add_post("/api/chats/{user_id}/upload", self._upload)
        app.router.add_post("/api/chats/{user_id}/inline", self._inline_query)
        app.router.add_post("/api/chats/{user_id}/inline/choose", self._inline_choose)
        app.router.add_get("/api/files/{file_id}", self._file)
        app.router.add_get("/api/groups", self._groups)
        app.router.add_get("/api/groups/{group_id}/messages", self._group_messages)
        app.router.add_get("/api/groups/{group_id}/commands", self._group_commands)
        app.router.add_post("/api/groups/{group_id}/send", self._group_send)
        app.router.add_post("/api/groups/{group_id}/tap", self._group_tap)
        app.router.add_post("/api/groups/{group_id}/promote", self._group_promote)
        return app

    async def start(self, port: int = 0) -> Sandbox:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, HOST, port).start()
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def addresses(self) -> list[Any]:
        """The bound socket addresses (for the loopback-only check)."""
        return list(self._runner.addresses) if self._runner else []

    # -- guards ----------------------------------------------------------------------------

    @web.middleware
    async def _same_origin(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Refuse other Host names (DNS rebinding) and cross-site POSTs (CSRF by forms)."""
        allowed = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        if request.host not in allowed:
            raise web.HTTPForbidden(text="sandbox: unexpected Host header")
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin and origin.split("://", 1)[-1] not in allowed:
            raise web.HTTPForbidden(text="sandbox: cross-origin request refused")
        return await handler(request)

    def _sim(self, request: web.Request) -> SimUser:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        if user_id not in self.users:
            raise web.HTTPNotFound(text="not a sandbox user")
        return self.emulator.user(user_id)

    def _group(self, request: web.Request) -> SimGroup:
        """The group by its id; a migration to a supergroup keeps its old id working."""
        try:
            group_id = int(request.match_info["group_id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        for group in self.groups.values():
            if group_id == group.id or any(old.chat_id == group_id for old in group.old_chats):
                return group
        raise web.HTTPNotFound(text="not a sandbox group")

    def _member(self, group: SimGroup, body: dict[str, Any]) -> SimUser:
        """The sandbox user acting in the group (``as``): one of its current members."""
        try:
            user_id = int(body.get("as", 0))
        except (TypeError, ValueError):
            raise web.HTTPBadRequest(text="'as' must be a user id") from None
        found = group.group.member(user_id)
        if user_id not in self.users or found is None or not found.is_member:
            raise web.HTTPBadRequest(text="not a member of this group")
        return self.emulator.user(user_id)

    # -- pages and API ---------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _users(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"id": u.id, "name": u.name, "language_code": u.language_code, "admin": u.admin}
                for u in self.users.values()
            ]
        )

    async def _bot(self, request: web.Request) -> web.StreamResponse:
        """Who the bot is: the page recognises ``@username …`` and the bot's t.me links."""
        return web.json_response(
            {"username": BOT_USER["username"], "inline": self.emulator.inline_mode}
        )

    async def _groups(self, request: web.Request) -> web.StreamResponse:
        """The group chats, each with its members (who may act there) and its admins."""
        listed = []
        for group in self.groups.values():
            members = [
                {"id": uid, "status": member.status}
                for uid, member in group.group.members.items()
                if uid in self.users and member.is_member
            ]
            listed.append(
                {
                    "id": group.id,
                    "title": group.title,
                    "type": group.type,
                    "members": members,
                    "bot_status": group.bot_status,
                }
            )
        return web.json_response(listed)

    async def _group_messages(self, request: web.Request) -> web.StreamResponse:
        """The group's transcript (service messages, which have no text, left out)."""
        group = self._group(request)
        shown = [
            m for m in group.transcript if isinstance(m, SentMessage) or m.text or m.file_name
        ]
        return self._transcript(request, shown)

    async def _group_commands(self, request: web.Request) -> web.StreamResponse:
        """The menu Telegram shows in a group: the group's scope, then all groups', then the
        default."""
        group = self._group(request)
        scopes: list[dict[str, Any] | None] = [
            {"type": "chat", "chat_id": group.id},
            {"type": "all_group_chats"},
            None,
        ]
        return self._menu(scopes, request.query.get("language", ""))

    async def _group_send(self, request: web.Request) -> web.StreamResponse:
        group = self._group(request)
        body = await request.json()
        sim = self._member(group, body)
        text = str(body.get("text", ""))
        if not text.strip():
            raise web.HTTPBadRequest(text="empty message")
        message = await group.send(sim, text)
        return web.json_response({"id": message["message_id"]})

    async def _group_tap(self, request: web.Request) -> web.StreamResponse:
        """``as`` presses button [row][col] under a bot message in the group; the answer goes
        to that member only (a toast)."""
        group = self._group(request)
        body = await request.json()
        sim = self._member(group, body)
        message_id, button = self._button(group.group.by_id.get(int(body["message_id"])), body)
        try:
            answer = await group.tap(sim, message_id, button, TAP_TIMEOUT)
        except AssertionError:
            return web.json_response({"answered": False})
        return web.json_response(
            {"answered": True, "text": answer.text, "show_alert": answer.show_alert}
        )

    async def _group_promote(self, request: web.Request) -> web.StreamResponse:
        """The group's creator makes the bot an admin that may pin (only that right), as a
        coordinator does for the session message to be pinned."""
        group = self._group(request)
        if group.bot_status != "administrator":
            group.promote_bot(("can_pin_messages",))
        return web.json_response({"bot_status": group.bot_status})

    def _button(self, message: Any, body: dict[str, Any]) -> tuple[int, str]:
        """A bot message's id and the callback data of its button [row][col] (404/400
        otherwise)."""
        if not isinstance(message, SentMessage) or message.deleted:
            raise web.HTTPNotFound(text="no such message")
        try:
            button = message.buttons[int(body["row"])][int(body["col"])]
        except (IndexError, KeyError, ValueError):
            raise web.HTTPBadRequest(text="no such button") from None
        if button.callback_data is None:
            raise web.HTTPBadRequest(text="not a callback button")
        return message.message_id, button.callback_data

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        return self._transcript(request, self._sim(request).chat.transcript)

    async def _other_messages(self, request: web.Request) -> web.StreamResponse:
        """The user's chat with a friend, where inline results are posted (not the bot's)."""
        return self._transcript(request, self._sim(request).other_chat.transcript)

    def _transcript(self, request: web.Request, transcript: list[Any]) -> web.StreamResponse:
        """The whole chat in its current state (edits applied); cheap "unchanged" when known."""
        messages = [_message_json(m) for m in transcript]
        body = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        version = hashlib.blake2b(body.encode(), digest_size=8).hexdigest()
        if request.query.get("known") == version:
            return web.json_response({"version": version, "unchanged": True})
        return web.json_response(
            text=f'{{"version":"{version}","messages":{body}}}', content_type="application/json"
        )

    async def _commands(self, request: web.Request) -> web.StreamResponse:
        """The menu Telegram would show this user: the most specific scope, then language."""
        sim = self._sim(request)
        scopes: list[dict[str, Any] | None] = [{"type": "chat", "chat_id": sim.id}, None]
        return self._menu(scopes, sim.user.get("language_code") or "")

    def _menu(self, scopes: list[dict[str, Any] | None], language_code: str) -> web.Response:
        """The commands of the first scope that has any, in the language, else the default."""
        language = language_code.split("-")[0].lower()
        for scope in scopes:
            for code in (language, ""):
                commands = self.emulator.commands(language_code=code, scope=scope)
                if commands:
                    return web.json_response(
                        [{"command": c, "description": d} for c, d in commands]
                    )
        return web.json_response([])

    async def _send(self, request: web.Request) -> web.StreamResponse:
        sim = self._sim(request)
        body = await request.json()
        text = str(body.get("text", ""))
        if not text.strip():
            raise web.HTTPBadRequest(text="empty message")
        message = await sim.send(text)
        return web.json_response({"id": message["message_id"]})

    async def _tap(self, request: web.Request) -> web.StreamResponse:
        """Press button [row][col]; the answer (a toast, or an alert) is the response."""
        sim = self._sim(request)
        body = await request.json()
        message_id, button = self._button(sim.chat.by_id.get(int(body["message_id"])), body)
        try:
            answer = await sim.tap(message_id, button, TAP_TIMEOUT)
        except AssertionError:
            return web.json_response({"answered": False})
        return web.json_response(
            {"answered": True, "text": answer.text, "show_alert": answer.show_alert}
        )

    async def _inline_query(self, request: web.Request) -> web.StreamResponse:
        """The user typed ``@bot <query>``: the bot's results, as the client lists them."""
        sim = self._sim(request)
        body = await request.json()
        try:
            answer = await sim.inline(
                str(body.get("query", "")), offset=str(body.get("offset", "")), timeout=TAP_TIMEOUT
            )
        except AssertionError:
            return web.json_response({"answered": False})
        kept = self._inline.setdefault(sim.id, OrderedDict())
        kept[answer.query_id] = answer
        while len(kept) > INLINE_ANSWERS_KEPT:
            kept.popitem(last=False)
        return web.json_response(
            {
                "answered": True,
                "query_id": answer.query_id,
                "results": [
                    {
                        "title": str(result.get("title") or ""),
                        "description": str(result.get("description") or ""),
                    }
                    for result in answer.results
                ],
                "next_offset": answer.next_offset,
            }
        )

    async def _inline_choose(self, request: web.Request) -> web.StreamResponse:
        """Post result ``index`` of answer ``query_id`` into the user's chat with a friend."""
        sim = self._sim(request)
        body = await request.json()
        answer = self._inline.get(sim.id, OrderedDict()).get(str(body.get("query_id")))
        if answer is None:
            raise web.HTTPNotFound(text="no such inline answer (type the query again)")
        try:
            posted = await sim.choose(answer, int(body.get("index", 0)))
        except (AssertionError, ValueError):
            raise web.HTTPBadRequest(text="no such inline result") from None
        return web.json_response({"id": posted.message_id})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        sim = self._sim(request)
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField):
            raise web.HTTPBadRequest(text="multipart field 'file' is required")
        caption = form.get("caption")
        message = await sim.upload(
            file.filename,
            file.file.read(),
            mime_type=file.content_type,
            caption=caption if isinstance(caption, str) and caption else None,
        )
        return web.json_response({"id": message["message_id"]})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = self.emulator.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        name = (stored.file_name or "file").replace('"', "")
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


@asynccontextmanager
async def sandbox(
    port: int = 0, config: Config | None = None, *, poll_timeout: int = 2
) -> AsyncIterator[Sandbox]:
    """Emulator, seeded (or copied) database, the real bot and the web chat; all stopped after.

    Leaving the block stops them in reverse order: the page, the bot (``running``'s shutdown,
    which still needs the emulator), then the emulator; the temporary directory goes last.
    """
    with tempfile.TemporaryDirectory(prefix="uabot-sandbox-") as tmp:
        # Inline mode on, as @BotFather's /setinline does for a real bot (see the README).
        async with Emulator(token=TOKEN, host=HOST, inline_mode=True) as emulator:
            urls = (emulator.base_url, emulator.base_file_url, TOKEN)
            if config is None:
                config = seeded_config(Path(tmp), *urls)
                await seed(config)
            else:
                config = await copied_config(config, Path(tmp), *urls)
            users = _users_for(config)
            for user in users:
                first_name = user.name.split(" ")[0]
                # The bot's admin opened the bot before (the admin menu and notices reach them).
                emulator.user(
                    user.id, first_name, language_code=user.language_code, started=user.admin
                )
            async with running(build_application(config), poll_timeout=poll_timeout):
                group = _local_group(emulator)  # the running bot is told it was added
                web_chat = await Sandbox(emulator, config, users, (group,)).start(port)
                try:
                    yield web_chat
                finally:
                    await web_chat.stop()


async def serve(port: int, config: Config | None) -> None:
    """Run until cancelled (Ctrl-C cancels it under ``asyncio.run``)."""
    async with sandbox(port, config) as web_chat:
        print("uabot sandbox: the bot is running against the emulator, not Telegram.")
        print(f"Open {web_chat.url} (bound to {HOST} only). Ctrl-C stops it.", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            print("uabot sandbox: stopping…", flush=True)

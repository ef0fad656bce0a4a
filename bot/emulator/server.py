"""The Emulator: an aiohttp server speaking the Bot API, plus the test-facing controls."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any

from aiohttp import web

from .control import add_control_routes
from .faults import GROUP_LIMIT, ApiError, Faults, HttpFault, RateLimiter, html_page
from .groups import SimGroup
from .methods import BotApi
from .params import read_params
from .state import DEFAULT_ADMIN_RIGHTS, Chat, GroupChat, State, Stats
from .users import SimUser
from .webhook import Webhook

__all__ = ["Emulator"]

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Emulator:
    """Plays Telegram for the bot: ``async with Emulator() as emu: user = emu.user(1)``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        per_chat_rate: float | None = None,
        per_chat_burst: int = 3,
        inline_mode: bool = False,
        inline_feedback: bool = False,
        group_limit: tuple[int, float] | None = GROUP_LIMIT,
        privacy_mode: bool = True,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.state = State()
        self.faults = Faults()
        self.limiter = RateLimiter(rate_limit, per_chat_rate, per_chat_burst, group_limit)
        self.api = BotApi(self.state, self.faults, self.limiter)
        self.inline_mode = inline_mode
        self.inline_feedback = inline_feedback
        self.privacy_mode = privacy_mode
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._runner: web.AppRunner | None = None
        self.app = self._make_app()

    # -- lifecycle -------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(app, self)
        return app

    async def start(self, port: int | None = None) -> Emulator:
        """Listen on host:port (port 0 picks a free one)."""
        if port is not None:
            self.port = port
        self.api.closing = False
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(runner.addresses[0][1])
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Release waiting long polls, then close the server."""
        self.api.closing = True
        self.state.updates_changed.notify()
        await self.api.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(base_url=...)``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``telegram.Bot(base_file_url=...)``."""
        return f"http://{self.host}:{self.port}/file/bot"

    # -- HTTP ------------------------------------------------------------------------------

    def _respond(self, body: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(text=_DUMPS(body), status=status, content_type="application/json")

    def _error(self, error: ApiError) -> web.Response:
        stats = self.state.stats
        stats.errors += 1
        stats.errors_by_code[error.error_code] += 1
        if error.error_code == 429:
            stats.too_many_requests += 1
        return self._respond(error.payload(), error.error_code)

    async def _handle_api(self, request: web.Request) -> web.Response:
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            method = request.match_info["method"]
            if method.lower() not in self.api.handlers:
                raise ApiError(404, "Not Found")
            params = await read_params(request)
            if self.faults.http_fault is not None:
                chat_id = params.get("chat_id")
                fault = self.faults.http_fault_for(
                    method.lower(), int(chat_id) if isinstance(chat_id, int | str) else None
                )
                if fault is not None:
                    return self._http_fault(fault)
            result = await self.api.call(method, params)
        except ApiError as error:
            return self._error(error)
        return self._respond({"ok": True, "result": result})

    def _http_fault(self, fault: HttpFault) -> web.Response:
        stats = self.state.stats
        stats.errors += 1
        stats.errors_by_code[fault.status] += 1
        stats.non_api_answers += 1
        self.state.touch()
        return web.Response(text=fault.body, status=fault.status, content_type=fault.content_type)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return self._error(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    @property
    def webhook(self) -> Webhook:
        """The webhook setWebhook set (``webhook.url`` empty: none), its delivery and errors."""
        return self.api.webhook

    # -- users -----------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """The simulated user with this id, created on first use (then returned as is).

        The bot may write to them once they wrote to it (``send``, ``upload``): before, it
        gets Telegram's 403. ``started``: they opened the bot before (a database seeded with
        subscribers), so it may write at once.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            existing.chat.started |= started
            return existing
        data: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
        }
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value:
                data[key] = value
        chat = Chat(data, started=started)
        self.state.chats[user_id] = chat
        sim = SimUser(self.state, chat)
        self._users[user_id] = sim
        return sim

    @property
    def users(self) -> list[SimUser]:
        """All simulated users."""
        return list(self._users.values())

    # -- groups ----------------------------------------------------------------------------

    def group(
        self,
        title: str,
        members: Iterable[SimUser] = (),
        admins: Iterable[SimUser] = (),
        *,
        supergroup: bool = False,
    ) -> SimGroup:
        """A new group (``supergroup=True``: a supergroup) without the bot; add it with
        ``SimGroup.add_bot()``. The first of ``admins`` (else of ``members``) created it and is
        its "creator"; the other admins are administrators with a client's default rights."""
        admin_list, member_list = list(admins), list(members)
        people = admin_list + [m for m in member_list if m not in admin_list]
        if not people:
            raise ValueError("a group needs at least one member")
        chat_id = self.state.new_group_id(supergroup)
        chat = GroupChat(
            user={"id": chat_id, "first_name": title},
            chat_id=chat_id,
            title=title,
            type="supergroup" if supergroup else "group",
        )
        for n, person in enumerate(people):
            if n == 0:
                chat.set_member(person.user, "creator")
            elif person in admin_list:
                chat.set_member(person.user, "administrator", DEFAULT_ADMIN_RIGHTS)
            else:
                chat.set_member(person.user, "member")
        self.state.chats[chat_id] = chat
        sim = SimGroup(self.state, chat)
        self._groups[chat_id] = sim
        self.state.touch(chat)
        return sim

    def find_group(self, chat_id: int) -> SimGroup:
        """A group by its id, the old id of a migrated group included."""
        for sim in self._groups.values():
            if chat_id == sim.id or any(old.chat_id == chat_id for old in sim.old_chats):
                return sim
        raise KeyError(f"unknown group {chat_id}")

    @property
    def groups(self) -> list[SimGroup]:
        """All simulated groups."""
        return list(self._groups.values())

    # -- @BotFather settings ----------------------------------------------------------------

    @property
    def inline_mode(self) -> bool:
        """/setinline: getMe's ``supports_inline_queries``; when off, ``SimUser.inline`` fails
        as the client sends nothing. The bot reads it once, in getMe at start."""
        return self.state.inline_mode

    @inline_mode.setter
    def inline_mode(self, on: bool) -> None:
        self.state.inline_mode = bool(on)

    @property
    def privacy_mode(self) -> bool:
        """/setprivacy: when on (Telegram's default) a bot that is no admin of a group gets only
        commands, replies to its messages, mentions of it and service messages there."""
        return self.state.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, on: bool) -> None:
        self.state.privacy_mode = bool(on)

    @property
    def inline_feedback(self) -> bool:
        """/setinlinefeedback: whether choosing a result sends ``chosen_inline_result``."""
        return self.state.inline_feedback

    @inline_feedback.setter
    def inline_feedback(self, on: bool) -> None:
        self.state.inline_feedback = bool(on)

    # -- observation -----------------------------------------------------------------------

    @property
    def stats(self) -> Stats:
        """Request, message and error counters."""
        return self.state.stats

    def commands(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """Commands stored by setMyCommands for exactly this scope and language."""
        key = (self.state.scope_key(scope), language_code or "")
        return [(c["command"], c["description"]) for c in self.state.commands.get(key, [])]

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
        message: str = "",
    ) -> None:
        """Wait until ``predicate()`` is truthy, re-checking after every recorded change."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"condition not met within {timeout}s{': ' + message if message else ''}"
                    f"\nstats: {self.stats.as_dict()}"
                )
            await self.state.changed.wait(remaining)

    def config(self) -> dict[str, Any]:
        """Current fault settings, as served by GET /_emu/config."""
        return {
            "rate_limit": self.limiter.rate,
            "per_chat_rate": self.limiter.per_chat_rate,
            "per_chat_burst": self.limiter.per_chat_burst,
            "blocked": sorted(self.faults.blocked),
            "deactivated": sorted(self.faults.deactivated),
            "inline_mode": self.inline_mode,
            "inline_feedback": self.inline_feedback,
            "privacy_mode": self.privacy_mode,
            "group_limit": list(self.limiter.group_limit) if self.limiter.group_limit else None,
        }

    # -- faults ----------------------------------------------------------------------------

    @property
    def rate_limit(self) -> float | None:
        """Overall sends per second (bucket capacity = rate); None means unlimited."""
        return self.limiter.rate

    @rate_limit.setter
    def rate_limit(self, rate: float | None) -> None:
        self.limiter.set_rate(rate)

    def set_per_chat_rate(self, rate: float | None, burst: int | None = None) -> None:
        """Limit sends per chat (``burst`` = bucket capacity); None disables."""
        self.limiter.set_per_chat(rate, burst)

    def set_group_limit(self, count: int | None, seconds: float = 60.0) -> None:
        """Telegram's per-group limit: ``count`` sends or edits per ``seconds`` in each group
        (default 20 per minute; time-compressed tests shorten ``seconds``); None disables."""
        self.limiter.set_group_limit(None if count is None else (count, seconds))

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403."""
        self.faults.blocked.add(user_id)
        self.state.touch()

    def deactivate(self, user_id: int) -> None:
        """The user deleted their account: sends fail with 403 'user is deactivated'."""
        self.faults.deactivated.add(user_id)
        self.state.touch()

    def unblock(self, user_id: int) -> None:
        """Undo block() and deactivate()."""
        self.faults.blocked.discard(user_id)
        self.faults.deactivated.discard(user_id)
        self.state.touch()

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error."""
        self.faults.inject(method, error_code, description, retry_after, times)

    def http_error(
        self,
        status: int,
        *,
        methods: tuple[str, ...] | None = None,
        seconds: float | None = None,
        chats: tuple[int, ...] | None = None,
        body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """Answer ``methods`` (None: every method) with a non-API ``status`` page, as a proxy,
        a firewall or Telegram's load balancer does, for ``seconds`` (None: until
        ``end_http_error``); with ``chats``, only calls for those chats. The body defaults to
        an nginx-style HTML page; a JSON ``body`` plays a Bot API answer instead."""
        self.faults.http_fault = HttpFault(
            status,
            body if body is not None else html_page(status, HTTPStatus(status).phrase),
            content_type,
            frozenset(m.lower() for m in methods) if methods is not None else None,
            time.monotonic() + seconds if seconds is not None else None,
            frozenset(chats) if chats is not None else None,
        )
        self.state.touch()

    def end_http_error(self) -> None:
        """Telegram answers again."""
        self.faults.http_fault = None
        self.state.touch()

    def delay(self, method: str | None = None, seconds: float = 1.0) -> None:
        """Delay answers to ``method`` (None: all methods); ``seconds=0`` removes it."""
        self.faults.set_delay(method, seconds)

    def answer_late(self, method: str | None = None, seconds: float = 1.0) -> None:
        """Carry out ``method`` (None: all) at once, answer ``seconds`` later (a slow link:
        past the client's read timeout the message is delivered, the answer lost); 0 ends it."""
        self.faults.set_late_answer(method, seconds)

    def freeze(self, seconds: float) -> None:
        """Stop answering for ``seconds``: calls made meanwhile are carried out and answered
        when it ends, as by a process stopped with SIGSTOP and continued."""
        self.faults.frozen_until = time.monotonic() + seconds


async def serve_forever(emu: Emulator) -> None:
    """Run until cancelled (used by ``python -m bot.emulator``)."""
    async with emu:
        print(f"base_url={emu.base_url}", flush=True)
        print(f"base_file_url={emu.base_file_url}", flush=True)
        print(f"control=http://{emu.host}:{emu.port}/_emu/", flush=True)
        await asyncio.Event().wait()

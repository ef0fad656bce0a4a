"""python-telegram-bot's own request tests, run against the bot's ``AiohttpRequest``.

Ported from python-telegram-bot v22.8 (the installed release), ``tests/request/test_request.py``,
Copyright (C) 2015-2026 Leandro Toledo de Souza <devs@python-telegram-bot.org>, licensed under
the GNU Lesser General Public License v3 or later; see
https://github.com/python-telegram-bot/python-telegram-bot. A PTB upgrade that changes the
request contract should fail here: port the new release's file the same way.

* ``TestRequestWithoutRequest``, the class PTB runs against a backend through its fixture, is
  the upstream text with the fixture swapped (``httpx_request`` yields an ``AiohttpRequest``;
  the name is kept so the tests read as upstream). Two tests are skipped as httpx-specific; an
  upstream typo (``dtm.timdelta``, reached only with ``PTB_TIMEDELTA`` set) is fixed.
* ``TestAiohttpRequestWithoutRequest`` follows upstream's ``TestHTTPXRequestWithoutRequest``
  test by test: where upstream monkeypatches ``httpx.AsyncClient``, these spy on
  ``aiohttp.ClientSession`` or ask a local server. One deliberate difference: upstream expects
  the transport's exception as ``__cause__``; ours raises without a cause, because aiohttp's
  exceptions carry the token and the proxy's password (bot/ptb/http.py).
"""

import asyncio
import datetime as dtm
import inspect
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from http import HTTPStatus
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from telegram import InputMediaPhoto
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.strings import TextEncoding
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.ptb.http import AiohttpRequest

# Upstream's configuration ignores DeprecationWarnings; RetryAfter.retry_after raises one until
# PTB_TIMEDELTA is set.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# -- upstream's helpers (tests/auxil, tests/conftest.py) ---------------------------------


def mro_slots(obj, only_parents: bool = False):
    """From upstream's tests/auxil/slots.py."""
    cls = obj if inspect.isclass(obj) else obj.__class__
    classes = cls.__mro__[1:] if only_parents else cls.__mro__
    return [
        attr
        for cls in classes
        if hasattr(cls, "__slots__")  # The Exception class doesn't have slots
        for attr in cls.__slots__
    ]


def env_var_2_bool(env_var: object) -> bool:
    """From upstream's tests/auxil/envvars.py."""
    if isinstance(env_var, bool):
        return env_var
    if not isinstance(env_var, str):
        return False
    return env_var.lower().strip() in ["true", "1"]


@pytest.fixture(scope="module", params=["true", "1", "false", "gibberish", None])
def PTB_TIMEDELTA(request):
    """From upstream's tests/conftest.py."""
    monkeypatch = pytest.MonkeyPatch()
    if request.param is not None:
        monkeypatch.setenv("PTB_TIMEDELTA", request.param)
    else:
        monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    yield env_var_2_bool(os.getenv("PTB_TIMEDELTA"))
    monkeypatch.undo()


def mocker_factory(
    response: bytes, return_code: int = HTTPStatus.OK
) -> Callable[[tuple[Any]], Coroutine[Any, Any, tuple[int, bytes]]]:
    async def make_assertion(*args, **kwargs):
        return return_code, response

    return make_assertion


@pytest.fixture
async def httpx_request():
    """The fixture swap: the bot's backend where upstream has its ``NonchalantHttpxRequest``."""
    async with AiohttpRequest() as rq:
        yield rq


# -- upstream TestRequestWithoutRequest (the fixture swapped) -----------------------------


class TestRequestWithoutRequest:
    test_flag = None

    @pytest.fixture(autouse=True)
    def _reset(self):
        self.test_flag = None

    @pytest.mark.skip(reason="httpx-specific: HTTPXRequest's optional socks/http2 imports")
    async def test_init_import_errors(self, monkeypatch):
        """Makes sure that import errors are forwarded - related to TestNoSocks above"""

        def __init__(self, *args, **kwargs):
            raise ImportError("Other Error Message")

        monkeypatch.setattr(httpx.AsyncClient, "__init__", __init__)

        # Make sure that other exceptions are forwarded
        with pytest.raises(ImportError, match=r"Other Error Message"):
            HTTPXRequest(proxy="socks5://foo")

    def test_slot_behaviour(self):
        inst = AiohttpRequest()
        for attr in inst.__slots__:
            at = f"_{inst.__class__.__name__}{attr}" if attr.startswith("__") else attr
            assert getattr(inst, at, "err") != "err", f"got extra slot '{at}'"
        assert len(mro_slots(inst)) == len(set(mro_slots(inst))), "duplicate slot"

    @pytest.mark.skip(reason="httpx-specific: httpx_kwargs reach httpx.AsyncClient")
    def test_httpx_kwargs(self, monkeypatch):
        self.test_flag = {}

        orig_init = httpx.AsyncClient.__init__

        class Client(httpx.AsyncClient):
            def __init__(*args, **kwargs):
                orig_init(*args, **kwargs)
                self.test_flag["args"] = args
                self.test_flag["kwargs"] = kwargs

        monkeypatch.setattr(httpx, "AsyncClient", Client)

        HTTPXRequest(
            connect_timeout=1,
            connection_pool_size=42,
            http_version="2",
            httpx_kwargs={
                "timeout": httpx.Timeout(7),
                "limits": httpx.Limits(max_connections=7),
                "http1": True,
                "verify": False,
            },
        )
        kwargs = self.test_flag["kwargs"]

        assert kwargs["timeout"].connect == 7
        assert kwargs["limits"].max_connections == 7
        assert kwargs["http1"] is True
        assert kwargs["verify"] is False

    async def test_context_manager(self, monkeypatch):
        async def initialize():
            self.test_flag = ["initialize"]

        async def shutdown():
            self.test_flag.append("stop")

        httpx_request = AiohttpRequest()

        monkeypatch.setattr(httpx_request, "initialize", initialize)
        monkeypatch.setattr(httpx_request, "shutdown", shutdown)

        async with httpx_request:
            pass

        assert self.test_flag == ["initialize", "stop"]

    async def test_context_manager_exception_on_init(self, monkeypatch):
        async def initialize():
            raise RuntimeError("initialize")

        async def shutdown():
            self.test_flag = "stop"

        httpx_request = AiohttpRequest()

        monkeypatch.setattr(httpx_request, "initialize", initialize)
        monkeypatch.setattr(httpx_request, "shutdown", shutdown)

        with pytest.raises(RuntimeError, match="initialize"):
            async with httpx_request:
                pass

        assert self.test_flag == "stop"

    async def test_replaced_unprintable_char(self, monkeypatch, httpx_request):
        """Clients can send arbitrary bytes in callback data. Make sure that we just replace
        those
        """
        server_response = b'{"result": "test_string\x80"}'

        monkeypatch.setattr(httpx_request, "do_request", mocker_factory(response=server_response))

        assert await httpx_request.post(None, None, None) == "test_string�"
        # Explicitly call `parse_json_payload` here is well so that this public method is covered
        # not only implicitly.
        assert httpx_request.parse_json_payload(server_response) == {"result": "test_string�"}

    async def test_illegal_json_response(self, monkeypatch, httpx_request: AiohttpRequest, caplog):
        # for proper JSON it should be `"result":` instead of `result:`
        server_response = b'{result: "test_string"}'

        monkeypatch.setattr(httpx_request, "do_request", mocker_factory(response=server_response))

        with (
            pytest.raises(TelegramError, match="Invalid server response"),
            caplog.at_level(logging.ERROR),
        ):
            await httpx_request.post(None, None, None)

        assert len(caplog.records) == 1
        record = caplog.records[0]
        assert record.name == "telegram.request.BaseRequest"
        assert record.getMessage().endswith(f'invalid JSON data: "{server_response.decode()}"')

    async def test_chat_migrated(self, monkeypatch, httpx_request: AiohttpRequest):
        server_response = b'{"ok": "False", "parameters": {"migrate_to_chat_id": 123}}'

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=HTTPStatus.BAD_REQUEST),
        )

        with pytest.raises(ChatMigrated, match="New chat id: 123") as exc_info:
            await httpx_request.post(None, None, None)

        assert exc_info.value.new_chat_id == 123

    async def test_retry_after(self, monkeypatch, httpx_request: AiohttpRequest, PTB_TIMEDELTA):
        server_response = b'{"ok": "False", "parameters": {"retry_after": 42}}'

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=HTTPStatus.BAD_REQUEST),
        )

        with pytest.raises(
            RetryAfter, match="Retry in " + "0:00:42" if PTB_TIMEDELTA else "42"
        ) as exc_info:
            await httpx_request.post(None, None, None)

        assert exc_info.value.retry_after == (dtm.timedelta(seconds=42) if PTB_TIMEDELTA else 42)

    async def test_unknown_request_params(self, monkeypatch, httpx_request: AiohttpRequest):
        server_response = b'{"ok": "False", "parameters": {"unknown": "42"}}'

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=HTTPStatus.BAD_REQUEST),
        )

        with pytest.raises(
            BadRequest,
            match="\\{'unknown': '42'\\}",
        ):
            await httpx_request.post(None, None, None)

    @pytest.mark.parametrize("description", [True, False])
    async def test_error_description(
        self, monkeypatch, httpx_request: AiohttpRequest, description
    ):
        response_data = {"ok": "False"}
        if description:
            match = "ErrorDescription"
            response_data["description"] = match
        else:
            match = "Unknown HTTPError"

        server_response = json.dumps(response_data).encode(TextEncoding.UTF_8)

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=-1),
        )

        with pytest.raises(NetworkError, match=match):
            await httpx_request.post(None, None, None)

        # Special casing for bad gateway
        if not description:
            monkeypatch.setattr(
                httpx_request,
                "do_request",
                mocker_factory(response=server_response, return_code=HTTPStatus.BAD_GATEWAY),
            )

            with pytest.raises(NetworkError, match="Bad Gateway"):
                await httpx_request.post(None, None, None)

    @pytest.mark.parametrize(
        ("code", "exception_class"),
        [
            (HTTPStatus.FORBIDDEN, Forbidden),
            (HTTPStatus.NOT_FOUND, InvalidToken),
            (HTTPStatus.UNAUTHORIZED, InvalidToken),
            (HTTPStatus.BAD_REQUEST, BadRequest),
            (HTTPStatus.CONFLICT, Conflict),
            (HTTPStatus.BAD_GATEWAY, NetworkError),
            (-1, NetworkError),
        ],
    )
    @pytest.mark.parametrize("description", ["Test Message", None])
    async def test_special_errors(
        self, monkeypatch, httpx_request: AiohttpRequest, code, exception_class, description
    ):
        server_response_json = {"ok": False}
        if description:
            server_response_json["description"] = description
        server_response = json.dumps(server_response_json).encode(TextEncoding.UTF_8)

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=code),
        )

        if not description and code not in list(HTTPStatus):
            match = f"Unknown HTTPError.*{code}"
        else:
            match = description or str(code.value)

        with pytest.raises(exception_class, match=match):
            await httpx_request.post("", None, None)

    async def test_error_parsing_payload(self, monkeypatch, httpx_request: AiohttpRequest):
        """Test that we raise an error if the payload is not a valid JSON."""
        server_response = b"invalid_json"

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            mocker_factory(response=server_response, return_code=HTTPStatus.BAD_GATEWAY),
        )

        with pytest.raises(TelegramError, match=r"502.*\. Parsing.*b'invalid_json' failed"):
            await httpx_request.post("", None, None)

    @pytest.mark.parametrize(
        ("exception", "catch_class", "match"),
        [
            (TelegramError("TelegramError"), TelegramError, "TelegramError"),
            (
                RuntimeError("CustomError"),
                NetworkError,
                r"HTTP implementation: RuntimeError\('CustomError'\)",
            ),
        ],
    )
    async def test_exceptions_in_do_request(
        self, monkeypatch, httpx_request: AiohttpRequest, exception, catch_class, match
    ):
        async def do_request(*args, **kwargs):
            raise exception

        monkeypatch.setattr(
            httpx_request,
            "do_request",
            do_request,
        )

        with pytest.raises(catch_class, match=match) as exc_info:
            await httpx_request.post(None, None, None)

        if catch_class is NetworkError:
            assert exc_info.value.__cause__ is exception

    async def test_retrieve(self, monkeypatch, httpx_request):
        """Here we just test that retrieve gives us the raw bytes instead of trying to parse them
        as json
        """
        server_response = b'{"result": "test_string\x80"}'

        monkeypatch.setattr(httpx_request, "do_request", mocker_factory(response=server_response))

        assert await httpx_request.retrieve(None, None) == server_response

    async def test_timeout_propagation_to_do_request(self, monkeypatch, httpx_request):
        async def make_assertion(*args, **kwargs):
            self.test_flag = (
                kwargs.get("read_timeout"),
                kwargs.get("connect_timeout"),
                kwargs.get("write_timeout"),
                kwargs.get("pool_timeout"),
            )
            return HTTPStatus.OK, b'{"ok": "True", "result": {}}'

        monkeypatch.setattr(httpx_request, "do_request", make_assertion)

        await httpx_request.post("url", None)
        assert self.test_flag == (DEFAULT_NONE, DEFAULT_NONE, DEFAULT_NONE, DEFAULT_NONE)

        await httpx_request.post(
            "url", None, read_timeout=1, connect_timeout=2, write_timeout=3, pool_timeout=4
        )
        assert self.test_flag == (1, 2, 3, 4)


# -- upstream's TestHTTPXRequestWithoutRequest, for AiohttpRequest -------------------------

TIMEOUTS = ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout")


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    """A local server answering ``418 content`` (upstream's mocked ``Response(123, ...)``),
    ``/slow`` after 1 s; it records each request and its body."""
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        if request.path == "/slow":
            await asyncio.sleep(1)
        return web.Response(status=418, body=b"content")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen, bodies
    finally:
        await runner.cleanup()


@pytest.fixture
def session_calls(monkeypatch) -> list[dict[str, Any]]:
    """A spy on ``aiohttp.ClientSession.request`` (upstream mocks httpx.AsyncClient's)."""
    calls: list[dict[str, Any]] = []
    original = aiohttp.ClientSession.request

    def request(self, method, url, **kwargs):
        calls.append({"method": method, "url": url, **kwargs})
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "request", request)
    return calls


class TestAiohttpRequestWithoutRequest:
    test_flag = None

    @pytest.fixture(autouse=True)
    def _reset(self):
        self.test_flag = None

    @pytest.mark.parametrize(
        "name",
        [
            "connection_pool_size",
            "read_timeout",
            "write_timeout",
            "connect_timeout",
            "pool_timeout",
            "proxy",
            "media_write_timeout",
        ],
    )
    def test_init(self, name):
        """Upstream checks HTTPXRequest's defaults; ours must be the same ones."""
        ours = inspect.signature(AiohttpRequest).parameters[name].default
        assert ours == inspect.signature(HTTPXRequest).parameters[name].default

    async def test_multiple_inits_and_shutdowns(self, monkeypatch):
        self.test_flag = {"init": 0, "shutdown": 0}
        test_flag = self.test_flag

        original = aiohttp.ClientSession  # subclassing it is discouraged: wrap it
        original_close = original.close

        def session(*args, **kwargs):
            test_flag["init"] += 1
            return original(*args, **kwargs)

        async def close(self):
            await original_close(self)
            test_flag["shutdown"] += 1

        monkeypatch.setattr(aiohttp, "ClientSession", session)
        monkeypatch.setattr(original, "close", close)

        # Create a new one instead of using the fixture so that the mocking can work
        request = AiohttpRequest()

        await request.initialize()
        await request.initialize()
        await request.initialize()
        await request.shutdown()
        await request.shutdown()
        await request.shutdown()

        assert self.test_flag["init"] == 1
        assert self.test_flag["shutdown"] == 1

    @pytest.mark.skip(reason="httpx-specific: AiohttpRequest has no http_version")
    async def test_http_version_error(self):
        with pytest.raises(ValueError, match="`http_version` must be either"):
            HTTPXRequest(http_version="1.0")

    async def test_do_request_after_shutdown(self, httpx_request):
        await httpx_request.shutdown()
        with pytest.raises(RuntimeError, match="not initialized"):
            await httpx_request.do_request(url="url", method="GET")

    async def test_context_manager(self, monkeypatch):
        """Upstream stubs initialize; ours has no session to close without it, so it runs."""
        original = aiohttp.ClientSession.close

        async def close(session):
            self.test_flag.append("stop")
            await original(session)

        request = AiohttpRequest()
        monkeypatch.setattr(aiohttp.ClientSession, "close", close)
        self.test_flag = ["initialize"]

        async with request:
            pass

        assert self.test_flag == ["initialize", "stop"]

    async def test_context_manager_exception_on_init(self, monkeypatch):
        """An initialize that fails after opening the session: the session is closed."""
        request = AiohttpRequest()
        original_init = request.initialize
        original_close = aiohttp.ClientSession.close

        async def initialize():
            await original_init()
            raise RuntimeError("initialize")

        async def close(session):
            self.test_flag = "stop"
            await original_close(session)

        monkeypatch.setattr(request, "initialize", initialize)
        monkeypatch.setattr(aiohttp.ClientSession, "close", close)

        with pytest.raises(RuntimeError, match="initialize"):
            async with request:
                pass

        assert self.test_flag == "stop"

    async def test_do_request_default_timeouts(self, server, session_calls):
        url, _, _ = server
        async with AiohttpRequest(
            connect_timeout=42, read_timeout=43, write_timeout=44, pool_timeout=45
        ) as request:
            await request.do_request(method="GET", url=url)

        (call,) = session_calls
        assert (call["timeout"].sock_connect, call["timeout"].sock_read) == (42, 43)

    async def test_do_request_manual_timeouts(self, server, session_calls):
        url, _, _ = server
        async with AiohttpRequest(
            connect_timeout=42, read_timeout=43, write_timeout=44, pool_timeout=45
        ) as request:
            await request.do_request(
                method="GET",
                url=url,
                connect_timeout=52,
                read_timeout=53,
                write_timeout=54,
                pool_timeout=55,
            )

        (call,) = session_calls
        assert (call["timeout"].sock_connect, call["timeout"].sock_read) == (52, 53)

    async def test_do_request_params_no_data(self, httpx_request, server, session_calls):
        url, seen, bodies = server
        code, _ = await httpx_request.do_request(method="PUT", url=url)
        assert code == 418
        ((request,), (body,), (call,)) = seen, bodies, session_calls
        assert (request.method, body, call["data"]) == ("PUT", b"", None)

    async def test_do_request_params_with_data(self, httpx_request, server):
        """Upstream's ``mixed_rqs``: plain parameters and files, as multipart/form-data."""
        url, seen, bodies = server
        photo = InputMediaPhoto(media=b"\x89PNG photo bytes", caption="c")
        mixed_rqs = RequestData(
            [
                RequestParameter.from_input(key, value)
                for key, value in {"string": "string", "int": 1, "media": photo}.items()
            ]
        )
        code, _ = await httpx_request.do_request(method="POST", url=url, request_data=mixed_rqs)
        assert code == 418
        ((request,), (body,)) = seen, bodies
        assert request.content_type == "multipart/form-data"
        for name, value in mixed_rqs.json_parameters.items():
            assert f'name="{name}"\r\n\r\n{value}\r\n'.encode() in body
        for name, (_, content, _) in mixed_rqs.multipart_data.items():
            assert f'name="{name}"'.encode() in body and content in body

    async def test_do_request_return_value(self, httpx_request, server):
        url, _, _ = server
        code, content = await httpx_request.do_request(method="GET", url=url)
        assert code == 418
        assert content == b"content"

    @pytest.mark.parametrize(
        ("where", "expected_class", "expected_message"),
        [
            ("/slow", TimedOut, "aiohttp: SocketTimeoutError"),
            ("refused", NetworkError, "aiohttp.ClientConnectorError: Cannot connect to host"),
        ],
    )
    async def test_do_request_exceptions(
        self, httpx_request, server, unused_tcp_port, where, expected_class, expected_message
    ):
        url, _, _ = server
        url = f"http://127.0.0.1:{unused_tcp_port}/" if where == "refused" else url + where
        with pytest.raises(expected_class, match=expected_message) as exc_info:
            await httpx_request.do_request(method="GET", url=url, read_timeout=0.1)

        # Upstream: the transport's exception is the cause. Here: no cause, no secrets.
        assert exc_info.value.__cause__ is None
        assert exc_info.value.__context__ is None

    async def test_do_request_pool_timeout(self, server):
        url, _, _ = server
        async with AiohttpRequest(connection_pool_size=1, pool_timeout=0.02) as request:
            with pytest.raises(TimedOut, match="Pool timeout"):
                await asyncio.gather(
                    request.do_request(method="GET", url=url + "/slow"),
                    request.do_request(method="GET", url=url + "/slow"),
                )

    @pytest.mark.parametrize("media", [True, False])
    async def test_do_request_write_timeout(self, media, httpx_request, server, session_calls):
        url, _, _ = server
        data = {"string": "string", "int": 1, "float": 1.0}
        if media:
            data["media"] = InputMediaPhoto(media=b"photo")
        request_data = RequestData(
            parameters=[RequestParameter.from_input(key, value) for key, value in data.items()],
        )

        def timeouts():
            call = session_calls.pop()
            timeout = call["timeout"]
            return (timeout.sock_read, timeout.sock_connect, call["data"]._write_timeout)

        # First make sure that custom timeouts are always respected
        with pytest.raises(NetworkError):  # the server's 418
            await httpx_request.post(
                url,
                request_data,
                read_timeout=1,
                connect_timeout=2,
                write_timeout=3,
                pool_timeout=4,
            )
        assert timeouts() == (1, 2, 3)

        # Now also ensure that the default timeout for media requests is 20 seconds
        with pytest.raises(NetworkError):
            await httpx_request.post(url, request_data)
        assert timeouts() == (5, 5, 20 if media else 5)

    @pytest.mark.parametrize("init", [True, False])
    async def test_setting_media_write_timeout(self, init, server, session_calls, recwarn):
        url, _, _ = server
        request = AiohttpRequest(media_write_timeout=42) if init else AiohttpRequest()
        data = {"string": "string", "int": 1, "float": 1.0, "media": InputMediaPhoto(b"x")}
        request_data = RequestData(
            parameters=[RequestParameter.from_input(key, value) for key, value in data.items()],
        )
        async with request:
            # First make sure that custom timeouts are always respected
            with pytest.raises(NetworkError):
                await request.post(url, request_data, write_timeout=43)
            assert session_calls.pop()["data"]._write_timeout == 43

            # Now also ensure that the init value is respected
            with pytest.raises(NetworkError):
                await request.post(url, request_data)
            assert session_calls.pop()["data"]._write_timeout == (42 if init else 20)

        assert len(recwarn) == 0

    @pytest.mark.skip(reason="httpx-specific: socket_options reach httpx's transport")
    async def test_socket_opts(self, monkeypatch):
        pass

    @pytest.mark.parametrize("read_timeout", [None, 1, 2, 3])
    async def test_read_timeout_property(self, read_timeout):
        assert AiohttpRequest(read_timeout=read_timeout).read_timeout == read_timeout

"""The feed's http index against a hostile or broken server: the source's password never
reaches a name, a key or a log; a deeply nested index, a redirect are "feed unavailable",
told to the admins once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from journeys import ADMIN_ID

from bot.config import FeedConfig
from bot.emulator import Emulator
from bot.logs import setup_logging
from bot.services import feed
from bot.services.scheduling import FEED_JOB

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PASSWORD = "S3cretPass"


@asynccontextmanager
async def serving(routes: dict[str, Handler]) -> AsyncIterator[int]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def run_feed(app: Any) -> None:
    (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
    await job.run(app)


async def test_the_sources_password_reaches_no_name_key_or_admin(
    emulator: Emulator, restart: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def index(request: web.Request) -> web.Response:
        return web.Response(body=b'["/", "sub/"]')

    async def junk(request: web.Request) -> web.Response:
        return web.Response(body=b'title = "not an action"')

    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    async with serving({"/index.json": index, "/": junk, "/sub/": junk}) as port:
        source = f"http://feeduser:{PASSWORD}@127.0.0.1:{port}/index.json"
        async with restart(feed=FeedConfig(source=source)) as app:
            await run_feed(app)
            reports = [await admin.receive(), await admin.receive()]
            assert all("cannot import" in r.text for r in reports)
            assert f"http://127.0.0.1:{port}/" in reports[0].text
            keys = await app.bot_data.storage.db.fetch_all("SELECT source_key FROM feed_items")
            assert len(keys) == 2
            assert not any(PASSWORD in row[0] or "feeduser" in row[0] for row in keys)
            assert app.bot_data.config.secrets()[-3] == PASSWORD  # masked in every log
    for message in admin.messages:
        assert PASSWORD not in message.text
    assert PASSWORD not in caplog.text


async def test_the_log_filter_masks_the_feeds_password(
    capsys: pytest.CaptureFixture[str], config: Any
) -> None:
    source = f"http://feeduser:{PASSWORD}@feed.example.org/index.json"
    configured = type(config)(telegram=config.telegram, feed=FeedConfig(source=source))
    setup_logging(False, configured.secrets())
    root = logging.getLogger()
    handler = logging.StreamHandler()
    for old in root.handlers[0].filters:
        handler.addFilter(old)
    root.addHandler(handler)
    try:
        logging.getLogger("bot.test").warning("the password is %s", PASSWORD)
    finally:
        root.removeHandler(handler)
    assert PASSWORD not in capsys.readouterr().err


async def test_a_deeply_nested_index_is_unavailable_and_told_once(
    emulator: Emulator, restart: Any
) -> None:
    async def index(request: web.Request) -> web.Response:
        return web.Response(body=b"[" * 200_000)  # under the size limit

    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    async with serving({"/index.json": index}) as port:
        with pytest.raises(feed.FeedUnavailable, match="nested too deeply"):
            await feed.fetch(f"http://127.0.0.1:{port}/index.json")
        async with restart(feed=FeedConfig(source=f"http://127.0.0.1:{port}/index.json")) as app:
            await run_feed(app)
            told = await admin.receive()
            assert "The action feed cannot be read" in told.text
            assert "nested too deeply" in told.text
            await run_feed(app)  # the same outage: not told again
            await admin.expect_silence(0.3)


async def test_redirects_are_not_followed(emulator: Emulator, restart: Any) -> None:
    async def elsewhere(request: web.Request) -> web.Response:
        return web.Response(body=b'title = "from elsewhere"')

    async with serving({"/x.toml": elsewhere, "/index.json": elsewhere}) as other:

        async def index(request: web.Request) -> web.Response:
            return web.Response(body=b'["a.toml"]')

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"http://user:pw12@localhost:{other}/x.toml")

        async def moved_index(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"http://localhost:{other}/index.json")

        routes = {"/index.json": index, "/a.toml": moved, "/old.json": moved_index}
        async with serving(routes) as port:
            files = await feed.fetch(f"http://127.0.0.1:{port}/index.json")
            assert files == []  # not followed: left for the next poll
            with pytest.raises(feed.FeedUnavailable) as raised:
                await feed.fetch(f"http://127.0.0.1:{port}/old.json")
            assert "HTTP 302" in str(raised.value)
            assert f"http://localhost:{other}/index.json" in str(raised.value)
            admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
            async with restart(feed=FeedConfig(source=f"http://127.0.0.1:{port}/old.json")) as app:
                await run_feed(app)
                assert "redirects (HTTP 302)" in (await admin.receive()).text


async def test_a_poll_of_trickling_files_ends_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def index(request: web.Request) -> web.Response:
        return web.Response(body=b'["a.toml", "b.toml", "c.toml", "d.toml"]')

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"#")
            await asyncio.sleep(0.2)
        return response

    monkeypatch.setattr(feed, "POLL_DEADLINE_SECONDS", 1.0)
    routes = {"/index.json": index, "/{name}.toml": trickle}
    async with serving(routes) as port:
        started = time.monotonic()
        files = await feed.fetch(f"http://127.0.0.1:{port}/index.json")
        took = time.monotonic() - started
    assert files == []
    # Each file alone may take its 20 s timeout: four of them, 80 s without the deadline.
    assert took < feed.TIMEOUT_SECONDS, took
    assert "the poll's deadline passed" in caplog.text

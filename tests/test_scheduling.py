"""Scheduled work: deadline reminders on a controlled clock, the action feed, restarts."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from journeys import ADMIN_ID, FIXTURES, publish, subscriber

from bot.config import FeedConfig
from bot.emulator import Emulator, SimUser
from bot.services.scheduling import FEED_JOB, REMINDERS_JOB

DEADLINE = date(2026, 3, 3)  # of ua-012-26-1.toml; reminders 3 days before by default


async def run_job(app: Any, name: str) -> None:
    (job,) = app.job_queue.get_jobs_by_name(name)
    await job.run(app)


async def open_card(user: SimUser) -> Any:
    await user.send("/actions")
    listing = await user.receive()
    await user.tap(listing, listing.buttons[0][0].text)
    return await user.receive()


async def test_reminders_go_once_to_those_who_opened_and_did_not_confirm(
    emulator: Emulator, restart: Any
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    async with restart() as app:
        opened, confirmed, opted_out, never = [
            await subscriber(emulator, uid, code)
            for uid, code in [(1, "de"), (2, "en"), (3, "en"), (4, "en")]
        ]
        await publish(admin, "ua-012-26-1.toml")
        await admin.receive()  # the report
        for user in (opened, confirmed, opted_out, never):
            await user.receive()  # the pushed card
        for user in (opened, confirmed, opted_out):
            await open_card(user)
        card = confirmed.messages[-1]
        await confirmed.tap(card, "✅ I sent it")
        await opted_out.send("/reminders off")
        assert "Reminders are off" in (await opted_out.receive()).text

        app.bot_data.today = lambda: date(2026, 2, 27)  # four days before: too early
        await run_job(app, REMINDERS_JOB)
        await opened.expect_silence(0.2)

        app.bot_data.today = lambda: date(2026, 2, 28)
        await run_job(app, REMINDERS_JOB)
        reminder = await opened.receive()
        assert "Erinnerung" in reminder.text and "3. März 2026" in reminder.text
        assert len(reminder.buttons) == 2  # write a letter, read more / I sent it
        await run_job(app, REMINDERS_JOB)  # the same day again: nothing twice
    async with restart() as app:  # nor after a restart
        app.bot_data.today = lambda: date(2026, 3, 2)
        await run_job(app, REMINDERS_JOB)
        await opened.expect_silence(0.3)
    assert len([m for m in opened.messages if "Erinnerung:" in m.text]) == 1
    for user in (confirmed, opted_out, never):
        assert not [m for m in user.messages if "Reminder:" in m.text], user.id
    async with restart() as app:  # closing the case drops who opened it
        db = app.bot_data.storage.db
        # Who opened it, reminders on or off (follow-ups reach them either way).
        assert await db.fetch_value("SELECT COUNT(*) FROM interest") == 3
        for name in ("ua-012-26-2.toml", "ua-012-26-3.toml"):
            await publish(admin, name)
            await admin.receive()
        assert await db.fetch_value("SELECT COUNT(*) FROM interest") == 0


def write_fixture(directory: Path, name: str) -> None:
    (directory / name).write_bytes((FIXTURES / name).read_bytes())


async def test_the_feed_offers_new_revisions_to_admins_once(
    emulator: Emulator, restart: Any, config: Any, tmp_path: Path
) -> None:
    source = tmp_path / "feed"
    source.mkdir()
    write_fixture(source, "ua-012-26-1.toml")
    (source / "broken.toml").write_bytes((FIXTURES / "broken.toml").read_bytes())
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    reader_config = replace(config.feed, source=str(source))
    async with restart(feed=reader_config) as app:
        reader = await subscriber(emulator, 5, "fr")
        await admin.send("/language")  # the admin reads German (and is not a subscriber)
        await admin.tap(await admin.receive(), "Deutsch")
        await run_job(app, FEED_JOB)
        first, second = await admin.receive_many(2)
        preview = first if "Aus dem Aktionsfeed" in first.text else second
        problem = second if preview is first else first
        assert "Neuer Fall UA 012/26" in preview.text
        assert "nicht importieren kann: broken.toml" in problem.text
        assert 'deadlne: unbekannter Schlüssel „deadlne“' in problem.text
        await run_job(app, FEED_JOB)  # nothing new: no second preview, no second complaint
        await admin.expect_silence(0.3)

        write_fixture(source, "ua-012-26-2.toml")  # the follow-up waits for revision 1
        await run_job(app, FEED_JOB)
        await admin.expect_silence(0.3)
        await admin.tap(preview, preview.buttons[0][0].text)  # Publish
        assert "Une journaliste détenue" in (await reader.receive()).text
        await run_job(app, FEED_JOB)
        follow_up = next(m for m in await admin.receive_many(2) if "Folgeaktion" in m.text)
        assert "Folgeaktion 2 zu Fall UA 012/26" in follow_up.text


async def test_the_feed_publishes_at_once_with_auto_publish(
    emulator: Emulator, restart: Any, config: Any, tmp_path: Path
) -> None:
    write_fixture(tmp_path, "ua-013-26-1.toml")
    feed = FeedConfig(source=str(tmp_path), auto_publish=True)
    async with restart(feed=feed) as app:
        reader = await subscriber(emulator, 6, "de")
        await run_job(app, FEED_JOB)
        assert "Klimaaktivistinnen" in (await reader.receive()).text


async def test_the_feed_from_an_http_index_survives_a_server_that_is_down_or_garbled(
    emulator: Emulator, restart: Any, caplog: pytest.LogCaptureFixture
) -> None:
    served: dict[str, bytes] = {
        "/index.json": b'["actions/ua-013-26-1.toml"]',
        "/actions/ua-013-26-1.toml": (FIXTURES / "ua-013-26-1.toml").read_bytes(),
    }

    async def serve(request: web.Request) -> web.Response:
        if request.path not in served:
            return web.Response(status=404)
        return web.Response(body=served[request.path])

    server = web.Application()
    server.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    feed = FeedConfig(source=f"http://127.0.0.1:{port}/index.json")
    async with restart(feed=feed) as app:
        await run_job(app, FEED_JOB)
        assert "New case UA 013/26" in (await admin.receive()).text

        served["/index.json"] = b"<html>maintenance</html>"
        await run_job(app, FEED_JOB)
        assert "is not JSON" in caplog.text
        told = (await admin.receive()).text  # the admins hear of it once
        assert "The action feed cannot be read" in told and "is not JSON" in told
        await runner.cleanup()  # the server is down
        await run_job(app, FEED_JOB)
        assert "feed unavailable" in caplog.text
        await admin.expect_silence(0.2)
        await admin.send("/help")  # the bot keeps working
        assert "What I can do" in (await admin.receive()).text


async def test_after_a_restart_the_feed_waits_for_the_rest_of_its_interval(
    emulator: Emulator, restart: Any, tmp_path: Path
) -> None:
    feed = FeedConfig(source=str(tmp_path), interval_minutes=60)
    async with restart(feed=feed) as app:
        (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
        assert job.next_t.timestamp() - time.time() < 60  # a first poll soon after start
        await run_job(app, FEED_JOB)
    async with restart(feed=feed) as app:
        (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
        assert job.next_t.timestamp() - time.time() > 55 * 60  # not again right away

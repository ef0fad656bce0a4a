"""Two real ``uabot run`` processes on one PostgreSQL database behind one webhook URL (issue 16
§4): a round-robin proxy in front of them sends each update to the other instance, so every
step of a dialogue is taken by another process than the step before. The user's state must
follow them (bot/ptb/user_state.py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import docx
import pytest
from aiohttp import web
from conftest import SECRET, free_port, postgres_url_for
from fault_servers import Uabot, assert_clean, write_config
from journeys import ADMIN_ID, FIXTURES, subscriber
from telegram.ext._utils.trackingdict import TrackingDict

from bot.emulator import Emulator, SentMessage, SimUser
from bot.emulator.webhook import SECRET_HEADER
from bot.ptb.redact import token_secrets
from bot.ptb.user_state import check, conversations
from bot.ptb.user_state import handler_states as states_of
from bot.storage import Storage

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwx"
MINISTER = "Minister of Justice"


@dataclass
class RoundRobin:
    """One webhook URL in front of the instances' own servers: update n goes to instance
    n mod 2, and who took which update is kept (``taken``: instance index, update)."""

    ports: list[int]
    taken: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        index = len(self.taken) % len(self.ports)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {
            "Content-Type": "application/json",
            SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
        }
        url = f"http://127.0.0.1:{self.ports[index]}{request.path}"
        try:
            async with self._session.post(url, data=body, headers=headers) as answer:
                status, text = answer.status, await answer.read()
        except aiohttp.ClientError:
            return web.Response(status=502)  # Telegram tries again; the next goes elsewhere
        if status == 200:
            self.taken.append((index, json.loads(body)))
        return web.Response(status=status, body=text)

    def instance_of(self, predicate: Any) -> list[int]:
        """The instances that took the updates matching ``predicate``, in order."""
        return [index for index, update in self.taken if predicate(update)]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def action_file() -> bytes:
    """UA 012/26 dated around today: the processes read the real clock (not the tests')."""
    text = (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8")
    today = date.today()
    text = re.sub(r"(?m)^issued = \S+", f"issued = {today - timedelta(days=1)}", text)
    text = re.sub(r"(?m)^deadline = \S+", f"deadline = {today + timedelta(days=30)}", text)
    return text.encode()


@dataclass
class Instances:
    proxy: RoundRobin
    processes: list[Uabot]
    database: str  # the shared schema's URL


@asynccontextmanager
async def two_instances(
    emulator: Emulator, tmp_path: Path, letters: str = "", instances: str = ""
) -> AsyncIterator[Instances]:
    """Two ``uabot run`` in webhook mode on one database, behind the round-robin proxy."""
    database = tmp_path / "shared.sqlite3"  # its PostgreSQL schema stands in for it
    public, ports = free_port(), [free_port(), free_port()]
    proxy = RoundRobin(ports)
    server = web.Application()
    server.router.add_post("/telegram", proxy.handle)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", public).start()
    processes: list[Uabot] = []
    try:
        for index, port in enumerate(ports):
            folder = tmp_path / f"instance{index}"
            folder.mkdir()
            extra = (
                f'base_file_url = "{emulator.base_file_url}"\nadmins = [{ADMIN_ID}]\n'
                f'mode = "webhook"\nwebhook_url = "http://127.0.0.1:{public}/telegram"\n'
                f'listen = "127.0.0.1:{port}"\nsecret_token = "{SECRET}"\n'
                '[i18n]\ndefault_language = "en"\nlanguages = ["en", "de", "fr"]\n'
                f"[letters]\n{letters}\n[instances]\n{instances}\n"
            )
            config = write_config(folder, emulator.base_url, extra=extra, db=database)
            processes.append(await Uabot.start(config))
        for process in processes:
            await process.wait_for("started as @")
        yield Instances(proxy, processes, postgres_url_for(database))
        for process in processes:
            assert await process.interrupt() == 0, process.output
    finally:
        for process in processes:
            await process.kill()
        await proxy.close()
        await runner.cleanup()
    for process in processes:
        assert_clean(process, *token_secrets(TOKEN), "Ada Lovelace")


def is_callback(update: dict[str, Any], data_prefix: str = "") -> bool:
    query = update.get("callback_query")
    return query is not None and str(query.get("data", "")).startswith(data_prefix)


async def publish_across(emulator: Emulator, admin: SimUser) -> None:
    """The admin's upload goes to one instance, the tap on Publish to the other."""
    await admin.upload("ua-012-26-1.toml", action_file(), mime_type="application/toml")
    preview = await admin.receive(timeout=15)
    assert "UA 012/26" in preview.text, preview
    answer = await admin.tap(preview, "📣 Publish", timeout=15)
    assert answer.text in ("", None), answer
    while "Broadcast finished" not in (await admin.receive(timeout=15)).text:
        continue  # the admin's own card, then the report


async def to_review(user: SimUser, card: SentMessage) -> SentMessage:
    """Every step of the wizard, each taken by the other instance; the preview."""
    await user.tap(card, "✍️ Write a letter", timeout=15)
    await user.tap(await user.receive(timeout=15), "✓ English", timeout=15)
    await user.tap(await user.receive(timeout=15), MINISTER, timeout=15)
    await user.receive(timeout=15)  # the name
    await user.send("Ada Lovelace")
    await user.receive(timeout=15)  # the place
    await user.send("Bern, Switzerland")
    await user.receive(timeout=15)  # the personal sentence
    await user.send("Free her now.")
    review = await user.receive(timeout=15)
    assert "Ada Lovelace" in review.text and "Free her now." in review.text, review
    return review


async def counted(database: str) -> int:
    storage = await Storage.open(database)
    try:
        return await storage.tally.count("UA 012/26")
    finally:
        await storage.close()


@pytest.mark.postgres_only
async def test_a_letter_written_across_two_instances_one_document_counted_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with two_instances(emulator, tmp_path) as bots:
        admin = await subscriber(emulator, ADMIN_ID, "en")
        supporter = await subscriber(emulator, 51, "en")
        await publish_across(emulator, admin)
        card = await supporter.receive(timeout=15)
        assert "UA 012/26" in card.text
        review = await to_review(supporter, card)

        # Every step alternated: each instance took half of the wizard's updates.
        steps = bots.proxy.instance_of(
            lambda u: (
                is_callback(u, "v1:letter-")
                or u.get("message", {}).get("text") in ("Ada Lovelace", "Bern, Switzerland")
            )
        )
        assert set(steps) == {0, 1}, bots.proxy.taken

        # A double tap on "Create", split across the instances: one document.
        await asyncio.gather(
            supporter.tap(review, "📄 Create the letter", timeout=15),
            supporter.tap(review, "📄 Create the letter", timeout=15),
        )
        creates = bots.proxy.instance_of(lambda u: is_callback(u, "v1:letter-review"))
        assert sorted(creates[-2:]) == [0, 1], bots.proxy.taken  # one tap each
        document = await supporter.receive(timeout=15)
        assert document.document is not None, document
        letter = docx.Document(io.BytesIO(document.document.data))
        texts = [paragraph.text for paragraph in letter.paragraphs]
        assert texts[0] == "Ada Lovelace\nBern, Switzerland"
        assert "Free her now." in texts
        await supporter.receive_many(2, timeout=15)  # the e-mail route and its text
        await supporter.expect_silence(1.0)  # no second document
        assert sum(m.document is not None for m in supporter.messages) == 1

        # A double tap on "I sent it", split across the instances: counted once.
        answers = await asyncio.gather(
            supporter.tap(document, document.buttons[0][0].text, timeout=15),
            supporter.tap(document, document.buttons[0][0].text, timeout=15),
        )
        sent = bots.proxy.instance_of(lambda u: is_callback(u, "v1:sent"))
        assert sorted(sent[-2:]) == [0, 1], bots.proxy.taken  # one tap each
        assert sum("Thank you" in (a.text or "") for a in answers) == 1, answers
        assert sum("Already counted" in (a.text or "") for a in answers) == 1, answers
        assert await counted(bots.database) == 1


@pytest.mark.postgres_only
async def test_an_admin_dialogue_across_two_instances(emulator: Emulator, tmp_path: Path) -> None:
    async with two_instances(emulator, tmp_path) as bots:
        admin = await subscriber(emulator, ADMIN_ID, "en")
        readers = [await subscriber(emulator, uid, code) for uid, code in ((61, "en"), (62, "de"))]
        await publish_across(emulator, admin)
        upload, publish = (
            bots.proxy.instance_of(lambda u: "document" in u.get("message", {}))[-1],
            bots.proxy.instance_of(lambda u: is_callback(u, "v1:publish"))[-1],
        )
        assert upload != publish, bots.proxy.taken
        for reader in readers:
            assert "UA 012/26" in (await reader.receive(timeout=15)).text

        await admin.send("/announce")
        await admin.receive(timeout=15)
        await admin.send("Thank you all: 1,000 letters this year!")
        await admin.receive(timeout=15)
        await admin.send("Danke euch allen: 1000 Briefe in diesem Jahr!")
        await admin.tap(await admin.receive(timeout=15), "⏭ Skip", timeout=15)  # French
        reach = await admin.receive(timeout=15)
        assert "This goes to 3 subscribers." in reach.text, reach  # the admin too
        preview = await admin.receive(timeout=15)
        await admin.tap(preview, "📣 Send", timeout=15)
        steps = bots.proxy.instance_of(
            lambda u: (
                (
                    u.get("message", {}).get("from", {}).get("id") == ADMIN_ID
                    and "Danke" in u["message"].get("text", "")
                )
                or is_callback(u, "v1:announce-send")
                or is_callback(u, "v1:skip-lang")
            )
        )
        assert set(steps) == {0, 1}, bots.proxy.taken
        english, german = [await reader.receive(timeout=15) for reader in readers]
        assert "Thank you all" in english.text
        assert "Danke euch allen" in german.text


@pytest.mark.postgres_only
async def test_an_old_timeout_on_one_instance_leaves_the_letter_going_on_at_the_other(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Each instance's timeout fires after the other took the next step (steps every
    ``STEP`` s, timeouts after ``TIMEOUT`` s): it does nothing; the last one ends the letter,
    with one note."""
    step, timeout = 4.0, 6.0  # a timeout fires between the next step and the one after
    async with two_instances(emulator, tmp_path, f"timeout_minutes = {timeout / 60}") as bots:
        admin = await subscriber(emulator, ADMIN_ID, "en")
        supporter = await subscriber(emulator, 71, "en")
        await publish_across(emulator, admin)
        card = await supporter.receive(timeout=15)
        await supporter.tap(card, "✍️ Write a letter", timeout=15)
        prompt = await supporter.receive(timeout=15)
        await supporter.expect_silence(step)
        await supporter.tap(prompt, "✓ English", timeout=15)
        prompt = await supporter.receive(timeout=15)
        await supporter.expect_silence(step)  # the first step's timeout fired meanwhile
        await supporter.tap(prompt, MINISTER, timeout=15)
        await supporter.receive(timeout=15)
        await supporter.expect_silence(step)
        await supporter.send("Ada Lovelace")
        assert "city" in (await supporter.receive(timeout=15)).text.lower()
        steps = bots.proxy.instance_of(
            lambda u: (
                is_callback(u, "v1:write")
                or is_callback(u, "v1:letter-")
                or u.get("message", {}).get("text") == "Ada Lovelace"
            )
        )
        assert steps[-4:] in ([0, 1, 0, 1], [1, 0, 1, 0]), bots.proxy.taken
        note = await supporter.receive(timeout=timeout + 15)
        assert "Your letter was left for" in note.text, note
        await supporter.expect_silence(timeout)  # one note, from the instance of the last step
        await supporter.send("Bern")  # the letter is over: no step takes it
        assert "Your letter was left for" not in (await supporter.receive(timeout=15)).text
        storage = await Storage.open(bots.database)
        try:
            assert "letter" not in (await storage.conversations.user_data()).get(71, {})
        finally:
            await storage.close()


@pytest.mark.postgres_only
async def test_replies_keep_their_budget_per_instance_and_a_429_is_waited_out(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The free 30/s reply budget stays per instance (README, "Several instances"): 120 users'
    /start posted at once, half to each instance (not one by one, as the emulator's webhook
    delivers), are all answered; the instances' sum passes 30/s only until Telegram's first
    429, which each instance's limiter waits out (measured: 1, all answered in about 4 s)."""
    users = [emulator.user(2000 + n, language_code="en", started=True) for n in range(120)]
    async with two_instances(emulator, tmp_path) as bots, aiohttp.ClientSession() as session:

        async def post(number: int, user: SimUser) -> None:
            port = bots.proxy.ports[number % 2]
            update = start_update(50_000 + number, user.id)
            headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
            url = f"http://127.0.0.1:{port}/telegram"
            async with session.post(url, data=json.dumps(update), headers=headers) as answer:
                assert answer.status == 200

        await asyncio.gather(*(post(number, user) for number, user in enumerate(users)))
        for user in users:
            assert "Welcome" in (await user.receive(timeout=60)).text
        assert emulator.stats.too_many_requests < len(users) / 10


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    """A user's /start as Telegram posts it."""
    user = {"id": user_id, "is_bot": False, "first_name": "Burst", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Burst"},
            "date": 0,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_the_conversations_states_are_where_user_state_sets_them(bot: Any) -> None:
    """bot/ptb/user_state.py sets PTB's private ``ConversationHandler._conversations`` (there
    is no public way): this fails first if a PTB release keeps the states elsewhere. On
    every engine: one instance never reads them from the database, yet the check holds."""
    handlers = conversations(bot)
    assert {handler.name for handler in handlers} >= {"letter", "announce", "close"}
    for handler in handlers:
        assert isinstance(states_of(handler), TrackingDict)
        assert isinstance(handler.timeout_jobs, dict)
    broken = handlers[0]
    saved = broken._conversations
    del broken._conversations
    try:
        with pytest.raises(RuntimeError, match="_conversations"):
            check(bot)
    finally:
        broken._conversations = saved


async def until_locked(database: str, user_id: int) -> None:
    """Until some instance holds the user's lock (``user_lock``'s key, in pg_locks)."""
    import psycopg

    from bot.storage.postgres import USER_LOCK_CLASS

    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as db:
        for _ in range(300):
            cursor = await db.execute(
                "SELECT count(*) FROM pg_locks l, (SELECT hashtextextended("
                "current_schema() || '/' || %s::text, %s) AS k) u WHERE l.locktype = 'advisory'"
                " AND l.granted AND l.classid::bigint = (u.k >> 32) & 4294967295"
                " AND l.objid::bigint = u.k & 4294967295",
                (user_id, USER_LOCK_CLASS),
            )
            row = await cursor.fetchone()
            if row and row[0]:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("nobody took the user's lock")


@pytest.mark.postgres_only
async def test_a_frozen_instance_holding_a_users_lock_lets_go_within_the_lease(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Webhook mode: an instance freezes (SIGSTOP; a paused VM) in the middle of user X's
    update, X's lock held. The load balancer sends X's next update elsewhere: answered once
    the server ended the frozen session (``idle_session_timeout``, the lease), not never.
    A slow reply longer than the lease on a live instance keeps its lock (pinged)."""
    import os
    import signal

    x = emulator.user(301, language_code="en", started=True)
    y = emulator.user(302, language_code="en", started=True)
    async with two_instances(emulator, tmp_path, instances="lease_seconds = 2") as bots:
        # Alive and slow: X's reply takes longer than the lease, X's next update (on the
        # other instance) waits for it: the replies come in order.
        emulator.delay("sendMessage", 3.0)
        await x.send("/start")
        await emulator.wait_until(lambda: bots.proxy.taken, 15, "the first update")
        # The /start's instance holds X's lock before the /help goes to the other one (sent
        # at once, a busy first instance lost the race for the lock, and the help came first).
        await until_locked(bots.database, 301)
        await x.send("/help")
        await emulator.wait_until(lambda: len(bots.proxy.taken) == 2, 15, "the second")
        emulator.delay("sendMessage", 0)  # the help at once, once it has X's lock
        first = await x.receive(timeout=30)
        assert "Welcome" in (first.text or ""), first
        await x.receive(timeout=30)  # the help

        emulator.delay("sendMessage", 3.0)
        await y.send("/start")  # instance 0 (round robin: the third update)
        await emulator.wait_until(lambda: len(bots.proxy.taken) == 3, 15, "y's /start")
        frozen = bots.processes[bots.proxy.taken[-1][0]]
        await until_locked(bots.database, 302)
        os.kill(frozen.process.pid, signal.SIGSTOP)
        try:
            bots.proxy.ports = [
                port
                for port, process in zip(bots.proxy.ports, bots.processes, strict=True)
                if process is not frozen
            ]  # the load balancer's health check
            emulator.delay("sendMessage", 0)
            await y.send("/help")
            # The help, after y's welcome if the emulator took it before the pause.
            helped = await y.receive(timeout=30)
            if (helped.text or "").startswith("Welcome"):
                helped = await y.receive(timeout=30)
            assert not (helped.text or "").startswith("Welcome"), helped
        finally:
            os.kill(frozen.process.pid, signal.SIGCONT)

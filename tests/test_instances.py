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

from bot.emulator import Emulator, SentMessage, SimUser
from bot.emulator.webhook import SECRET_HEADER
from bot.ptb.redact import token_secrets
from bot.storage import Storage

pytestmark = pytest.mark.postgres_only

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
    emulator: Emulator, tmp_path: Path, letters: str = ""
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
                f"[letters]\n{letters}\n"
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
            lambda u: is_callback(u, "v1:letter-")
            or u.get("message", {}).get("text") in ("Ada Lovelace", "Bern, Switzerland")
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


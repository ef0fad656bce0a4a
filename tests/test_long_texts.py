"""Texts over Telegram's limit (4096 UTF-16 units) go in parts, through one splitter: a file
with many long addressees has a preview, a review and directions, also from the feed."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, subscriber

from bot.emulator import Emulator, SimUser
from bot.emulator.html import utf16_len
from bot.ptb.text import MESSAGE_LIMIT, split, visible_length
from bot.services.scheduling import FEED_JOB

SORRY = "something went wrong"


def long_copies_file(role_len: int = 290) -> bytes:
    """19 copy addressees, each with a long role and a ~900-character address: within the
    format's limits, far over one message."""
    text = (FIXTURES / "ua-012-26-1.toml").read_text("utf-8")
    head, rest = text.split("[[addressees]]", 1)
    first = "[[addressees]]" + rest.split("[[addressees]]", 1)[0]
    tail = rest[rest.index("[text.en]") :]
    copies = ""
    for i in range(19):
        address = "\n".join(f"Line {j} " + "Ü" * 80 for j in range(10))
        copies += (
            f'[[addressees]]\nrole = "Copy {i} ' + "R" * role_len + f'"\n'
            f'address = """{address}"""\ncopy = true\n\n'
        )
    return (head + first + copies + tail).encode()


async def until_buttons(user: SimUser) -> list[Any]:
    """The parts of one long message, up to the one that carries the buttons."""
    parts = [await user.receive()]
    while not parts[-1].buttons:
        parts.append(await user.receive())
    return parts


def test_the_splitter_keeps_tags_and_entities_whole() -> None:
    text = "<b>Title</b>\n" + "\n".join(
        "<i>" + " ".join(["w&amp;😀rd"] * 40) + "</i>" for _ in range(40)
    )
    text += '\n<a href="https://example.org">' + "x" * 9000 + "</a>"
    parts = split(text)
    assert len(parts) > 3
    for part in parts:
        assert visible_length(part) <= MESSAGE_LIMIT
        for tag in ("i", "a"):
            assert part.count(f"<{tag}") == part.count(f"</{tag}>"), part[:80]
        assert not re.search(r"&[#\w]*$", part)
    words = re.sub(r"\s|<[^>]+>", "", "".join(parts))
    assert words == re.sub(r"\s|<[^>]+>", "", text)


@pytest.mark.parametrize("role_len", [290, 60])
async def test_many_long_addressees_preview_review_and_directions_arrive(
    emulator: Emulator, bot: Any, role_len: int
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    user = await subscriber(emulator, 25, "en")
    await admin.upload("long.toml", long_copies_file(role_len), mime_type="application/toml")
    preview = await until_buttons(admin)
    assert "New case" in preview[0].text or "UA 012/26" in preview[0].text
    await admin.tap(preview[-1], "📣 Publish")
    card = await user.receive()
    await user.tap(card, "✍️ Write a letter")
    await user.tap(await user.receive(), "✓ English")
    await user.tap(await user.receive(), "Minister of Justice")
    await user.receive()
    await user.send("A. L.")
    await user.receive()
    await user.send("Bern")
    await user.receive()
    await user.tap(user.messages[-1], "⏭ Skip")
    review = await until_buttons(user)
    await user.tap(review[-1], "📄 Create the letter")
    document = await user.receive()
    assert document.document is not None
    directions = [document]
    while "every letter is counted" not in (directions[-1].text or directions[-1].caption or ""):
        directions.append(await user.receive())  # too long for a caption: they follow
    assert all(utf16_len(m.text or m.caption or "") <= MESSAGE_LIMIT for m in user.messages)
    said = "".join(m.text or m.caption or "" for m in directions)
    assert all(f"Copy {i} " in said for i in range(19))
    assert not any(SORRY in (m.text or "") for m in user.messages + admin.messages)


async def test_a_feed_file_is_handled_only_once_its_preview_reached_an_admin(
    emulator: Emulator, restart: Any, config: Any, tmp_path: Path
) -> None:
    source = tmp_path / "feed"
    source.mkdir()
    (source / "long.toml").write_bytes(long_copies_file(290))
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en", started=True)
    async with restart(feed=replace(config.feed, source=str(source))) as app:
        (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
        emulator.fail_next("sendMessage", 400, "Bad Request: message is too long")
        await job.run(app)  # the preview was refused: the file is not handled
        await admin.expect_silence(0.2)
        await job.run(app)
        parts = await until_buttons(admin)
        assert "From the action feed" in parts[0].text
        await job.run(app)  # handled now: not offered again
        await admin.expect_silence(0.3)


async def test_a_utf16_upload_is_told_to_be_saved_as_utf8(emulator: Emulator, bot: Any) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    text = (FIXTURES / "ua-012-26-1.toml").read_text("utf-8")
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        await admin.upload("utf16.toml", bom + text.encode(codec), mime_type="application/toml")
        reply = await admin.receive()
        assert "saved as UTF-16: save it as UTF-8" in reply.text
        assert SORRY not in reply.text


async def test_an_upload_telegram_does_not_hand_over_is_to_be_sent_again(
    emulator: Emulator, bot: Any
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    emulator.fail_next("getFile", 500, "Internal Server Error", times=10)
    await admin.upload(
        "ua-012-26-1.toml",
        (FIXTURES / "ua-012-26-1.toml").read_bytes(),
        mime_type="application/toml",
    )
    reply = await admin.receive(timeout=30)
    assert "send it again" in reply.text
    assert SORRY not in reply.text

"""Writing sessions after review (rev15a): who may count in a group's session (its link's
token, its group's own button), which revision a session letter books, a case closed in the
middle of a session, and what is left linking a person to a group's session once it ended.

The real Application against the emulator. Session minutes are compressed as in
tests/test_session_journeys.py (its ``config``), so a closure's close and thank-you come at
once; the sessions started through the domain (``running_session``) last 60 of them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from journeys import FIXTURES, subscriber
from test_deep_links import publish
from test_session_journeys import (  # noqa: F401  (config: compressed session minutes)
    COUNTED,
    ENDED,
    SENT,
    config,
    counts,
    current,
    published,
    session_id,
    session_messages,
    started,
    wait,
)
from test_session_journeys import local_group as subscribed_group
from test_session_links import local_group, running_session, session_link, write_letter

from bot.emulator import Emulator
from bot.ptb import callbacks
from bot.services import sessions
from bot.storage import Database, Storage

CASE = "UA 012/26"
NOT_MINE = "This writing session is over, or the link is not one of mine."
# "Your letter counts for the group's writing session", in the members' languages.
IN_SESSION = re.compile(
    "counts for the group's writing session|zählt für das Schreibtreffen der Gruppe"
    "|compte pour la séance d’écriture du groupe"
)


async def test_a_guessed_session_id_opens_no_session_and_counts_nothing_there(
    emulator: Emulator, bot: Any
) -> None:
    """Session ids are sequential: someone in no group who tries ``session-1`` learns
    nothing of the session and cannot count in it, nor through an "I sent it" naming the
    id; a member who came through the session's real link counts there."""
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (hanna, *_rest) = local_group(emulator)
    session = await running_session(bot, group)
    stranger = emulator.user(888, "Stranger", language_code="en")  # in no group at all

    await stranger.send(f"/start session-{session.id}")  # guessed: 1, 2, 3, …
    answers = await stranger.receive_many(3)  # the welcome, "not mine", the open cases
    assert answers[1].text == NOT_MINE, [a.text for a in answers]
    assert "Open actions" in answers[2].text
    assert not any("write the letter" in (a.text or "") for a in answers)  # no letter begun

    # The stranger writes the case's letter all the same, and a modified client names the
    # session on its "I sent it" (as the bot's buttons did before): the case counts, the
    # session does not.
    await stranger.send("/start write-ua-012-26")
    document = await write_letter(stranger, await stranger.receive())
    crafted = f"v1:sent:012/26:1:en:{session.id}"
    thanks = await stranger.tap(document, document.buttons[0][0].text, crafted=crafted)
    assert "Thank" in thanks.text and not IN_SESSION.search(thanks.text), thanks.text
    stored = await bot.bot_data.storage.sessions.get(session.id)
    assert stored is not None and stored.letters == 0
    assert await bot.bot_data.storage.tally.count(CASE) == 1

    # Through the session's own link (its token), a member's letter counts there.
    await hanna.send(session_link(session))
    _welcome, prompt = await hanna.receive_many(2)
    document = await write_letter(hanna, prompt)
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert IN_SESSION.search(thanks.text), thanks.text
    stored = await bot.bot_data.storage.sessions.get(session.id)
    assert stored is not None and stored.letters == 1


async def test_a_session_counts_only_taps_in_its_own_group(emulator: Emulator, bot: Any) -> None:
    """The session message's "I sent it" names its session's id: a modified client in
    another group naming that id counts nothing there; the group's own members do."""
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, _cy, _di) = await subscribed_group(emulator)
    other, eva, (fin, _gil, _hal) = await subscribed_group(emulator, "Other group", 11)
    message = await started(emulator, group, ada, f"{CASE} 60")
    elsewhere = await started(emulator, other, eva, f"{CASE} 60")
    target = session_id(message)

    crafted = callbacks.SESSION_SENT.data(target)
    toast = await other.tap(fin, elsewhere, SENT, crafted=crafted)
    assert toast.text != COUNTED, toast.text
    stored = await bot.bot_data.storage.sessions.get(target)
    assert stored is not None and stored.letters == 0
    assert await bot.bot_data.storage.tally.count(CASE) == 0

    assert (await group.tap(bo, message, SENT)).text == COUNTED
    stored = await bot.bot_data.storage.sessions.get(target)
    assert stored is not None and stored.letters == 1


async def test_a_follow_up_mid_session_leaves_the_letter_its_own_revision(
    emulator: Emulator, bot: Any
) -> None:
    """A letter of revision 1, begun from the session link, confirmed once the follow-up
    (revision 2) is out: revision 1 is booked, as outside a session, and it counts in the
    session; the member's revision-2 letter is a new one for the case."""
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (hanna, *_rest) = local_group(emulator)
    session = await running_session(bot, group)
    await hanna.send(session_link(session))
    _welcome, prompt = await hanna.receive_many(2)
    document = await write_letter(hanna, prompt)  # revision 1's letter
    await publish(emulator, "ua-012-26-2.toml")  # the follow-up, still open
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert IN_SESSION.search(thanks.text), thanks.text

    db = bot.bot_data.storage.db
    query = "SELECT revision FROM confirmations WHERE user_id = ? ORDER BY revision"
    assert [row[0] for row in await db.fetch_all(query, (hanna.id,))] == [1]
    stored = await bot.bot_data.storage.sessions.get(session.id)
    assert stored is not None and stored.letters == 1

    await hanna.send("/start write-ua-012-26")  # revision 2's letter now
    while (prompt := await hanna.receive()).buttons == []:
        pass  # the follow-up's card came first (pushed to her as a member of the bot)
    document = await write_letter(hanna, prompt)
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert "Already" not in thanks.text, thanks.text
    assert [row[0] for row in await db.fetch_all(query, (hanna.id,))] == [1, 2]


async def test_a_case_closed_mid_session_ends_the_session_with_its_outcome(
    emulator: Emulator, bot: Any
) -> None:
    """The organisation closes the case while a group writes for it: the session ends at
    once, its message shows the result and how the case ended (no buttons to write or to
    count), it is unpinned and the group is thanked."""
    await published(emulator, "ua-012-26-1.toml")
    group, ada, (bo, _cy, _di) = await subscribed_group(emulator)
    message = await started(emulator, group, ada, f"{CASE} 600")
    assert (await group.tap(bo, message, SENT)).text == COUNTED

    await published(emulator, "ua-012-26-3.toml")  # the closure
    await wait(emulator, lambda: ENDED in current(group, message).text, "not ended")
    final = current(group, message)
    assert "Abgeschlossen am 5. März 2026." in final.text, final.text
    assert counts(final) == (1, 1) and "Noch" not in final.text
    [[case]] = final.buttons  # no "Write my letter", no "I sent it": the case's link
    assert case.text == "📖 Der Fall" and case.url is not None and case.url.endswith("ua-012-26")
    await wait(emulator, lambda: group.pinned is None, "still pinned")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    assert re.fullmatch(r"🙏 1 Brief in \d+ Minuten? – danke!", group.messages[-1].text)
    assert await bot.bot_data.storage.sessions.running(group.id) is None
    assert session_messages(group) == []
    # The close is done once the thank-you is out: a restart would close nothing again.
    deadline = time.monotonic() + 30
    while await sessions.closing(bot.bot_data.storage):
        assert time.monotonic() < deadline, "the close was never recorded"
        await asyncio.sleep(0.05)


async def _rows_naming(db: Database, user_id: int) -> list[tuple[str, str]]:
    """Every row of every table that names the user (a column holding the id, or JSON text
    with it): (table, the row as text)."""
    found = []
    tables = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    for (table,) in tables:
        for row in await db.fetch_all(f'SELECT * FROM "{table}"'):
            values = tuple(row)
            text = json.dumps([str(value) for value in values])
            if user_id in values or re.search(rf"\b{user_id}\b", text):
                found.append((table, text))
    return found


async def test_once_a_session_ended_nothing_links_a_member_to_it(
    emulator: Emulator, bot: Any
) -> None:
    """A member opened "Write my letter" and has not finished when the session ends: her
    draft stays (the letter is still welcome, for the case), but no row of the database
    links her to the group's session any more (its id, its token, its group)."""
    await publish(emulator, "ua-012-26-1.toml")
    group, _admin, (hanna, ines, *_rest) = local_group(emulator)
    session = await running_session(bot, group)
    await hanna.send(session_link(session))
    _welcome, prompt = await hanna.receive_many(2)  # a draft exists now
    await ines.send(session_link(session))
    _welcome, ines_prompt = await ines.receive_many(2)
    document = await write_letter(ines, ines_prompt)
    assert IN_SESSION.search((await ines.tap(document, document.buttons[0][0].text)).text)

    storage = bot.bot_data.storage
    await sessions.end(storage, session.id, time.time())
    await bot.update_persistence()
    for user in (hanna, ines):
        rows = await _rows_naming(storage.db, user.id)
        assert rows, "the user's own rows are there (the scan finds them)"
        linked = [
            (table, text)
            for table, text in rows
            if table.startswith("session") or session.token in text or '"session' in text
        ]
        assert not linked, f"user {user.id} still linked to the ended session: {linked}"
    stored = await storage.sessions.get(session.id)
    assert stored is not None and stored.letters == 1  # the count stays

    # Hanna finishes her letter: it counts for the case alone.
    document = await write_letter(hanna, prompt)
    thanks = await hanna.tap(document, document.buttons[0][0].text)
    assert "Danke" in thanks.text and not IN_SESSION.search(thanks.text), thanks.text
    stored = await storage.sessions.get(session.id)
    assert stored is not None and stored.letters == 1


async def test_privacy_says_the_link_to_a_session_lasts_while_it_runs(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 601, "en")
    await user.send("/privacy")
    text = (await user.receive()).text
    assert (
        "if you open a group's writing session (“Write my letter” in a group): that you came "
        "through it and whether your letter counted there, only while the session runs"
    ) in text, text


async def test_an_upgrade_moves_session_drafts_out_of_user_data(tmp_path: Path) -> None:
    """Migration 016: sessions get their tokens; a draft begun from a running session keeps
    counting there (as the session's member), and no draft names a session any more."""
    path = tmp_path / "v14.sqlite3"
    old = await Database.open(path, migrate=False)
    try:
        await old.migrate(until=14)
        for user_id in (1, 2):
            await old.execute("INSERT INTO users (id, language) VALUES (?, 'de')", (user_id,))
        content = (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8")
        await old.execute(
            "INSERT INTO revisions (case_number, revision, content, fingerprint, status,"
            " issued) VALUES (?, 1, ?, 'f1', 'open', '2026-01-10')",
            (CASE, content),
        )
        sessions_sql = (
            "INSERT INTO sessions (id, group_id, case_number, started_at, minutes, ends_at,"
            " ended_at) VALUES (?, -1001, ?, 0, 60, 3600, ?)"
        )
        await old.execute(sessions_sql, (1, CASE, 3600.0))  # ended
        await old.execute(sessions_sql, (2, CASE, None))  # running
        for user_id, named in ((1, 2), (2, 1)):
            draft = {"letter": {"case": CASE, "revision": 1, "session": named}, "x": 1}
            await old.execute(
                "INSERT INTO user_data (user_id, data) VALUES (?, ?)",
                (user_id, json.dumps(draft)),
            )
    finally:
        await old.close()

    storage = await Storage.open(path)
    try:
        db = storage.db
        tokens = [row[0] for row in await db.fetch_all("SELECT token FROM sessions")]
        assert len(set(tokens)) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", t) for t in tokens)
        members = await db.fetch_all("SELECT session_id, user_id FROM session_members")
        assert [tuple(row) for row in members] == [(2, 1)]
        data = await storage.conversations.user_data()
        for user_id in (1, 2):
            assert data[user_id] == {"letter": {"case": CASE, "revision": 1}, "x": 1}
        joined = await storage.sessions.joined(1, CASE)
        assert joined is not None and joined.id == 2
    finally:
        await storage.close()

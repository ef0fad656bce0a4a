"""Journeys: admins close cases, announce, read statistics, export counts, see the audit."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, TODAY, publish, subscriber, upload

from bot.cli import main
from bot.emulator import Emulator, SimUser
from bot.i18n import format_date

# The export's per-case session columns, empty for a case no group held a session for.
NO_SESSIONS = {"groups": "", "sessions": "", "session_letters": ""}


def admin_of(emulator: Emulator) -> SimUser:
    """The admin, not subscribed: their chat holds only what the admin commands answer."""
    return emulator.user(ADMIN_ID, first_name="Admin", language_code="en")


async def finished(admin: SimUser) -> None:
    """Receive the admin's messages up to the next broadcast report."""
    while "Broadcast finished" not in (await admin.receive(timeout=10)).text:
        pass


@pytest.mark.parametrize(
    "command", ["/close UA 012/26", "/announce", "/stats", "/export", "/audit", "/broadcasts"]
)
async def test_a_non_admin_gets_the_unknown_command_answer(
    emulator: Emulator, bot: Any, command: str
) -> None:
    user = await subscriber(emulator, 41, "de")
    await user.send(command)
    assert "Diesen Befehl kenne ich nicht" in (await user.receive()).text
    await user.send("Er wurde freigelassen.")
    assert "Ich verstehe nur Befehle" in (await user.receive()).text
    storage = bot.bot_data.storage
    assert await storage.broadcasts.unfinished() == []
    assert await storage.audit.latest() == []


async def test_a_closure_reaches_everyone_and_thanks_the_writers(
    emulator: Emulator, bot: Any
) -> None:
    users = {
        uid: await subscriber(emulator, uid, code)
        for uid, code in {1: "en", 2: "de", 3: "fr"}.items()
    }
    admin = admin_of(emulator)
    await publish(admin, "ua-012-26-1.toml")
    cards = {uid: await user.receive() for uid, user in users.items()}
    await finished(admin)
    for uid in (1, 2):  # two of them wrote
        await users[uid].tap(cards[uid], cards[uid].buttons[1][0].text)

    await admin.send("/close UA 012/26")
    assert "Send it in English" in (await admin.receive()).text
    await admin.send("Nadia Berger was released on 3 March; all charges were dropped.")
    german = await admin.receive()
    assert "Send it in German" in german.text and german.buttons  # skippable
    await admin.send("Nadia Berger kam am 3. März frei; alle Anklagen fallen gelassen.")
    french = await admin.receive()
    assert "Send it in French" in french.text
    await admin.tap(french, "⏭ Skip")
    kind = await admin.receive()
    assert "good, mixed or bad" in kind.text
    await admin.tap(kind, "🟢 Good outcome")
    preview = await admin.receive()
    assert "Close UA 012/26?" in preview.text
    assert "It will reach 3 subscribers." in preview.text
    assert "✅ Case closed · FI 012/26-2" in preview.text
    await admin.tap(preview, "✅ Close the case")
    await finished(admin)

    english, german, french = [(await users[uid].receive()).text for uid in (1, 2, 3)]
    assert "✅ Case closed · FI 012/26-2" in english
    assert "all charges were dropped" in english
    assert format_date(TODAY, "en") in english
    assert "Your letter was one of 2. Thank you!" in english
    assert "alle Anklagen fallen gelassen" in german and "Dein Brief war einer von 2" in german
    assert "all charges were dropped" in french  # no French outcome: the default's
    assert "2 lettres envoyées" in french and "Votre lettre" not in french

    # Afterwards: gone from /actions, no new letters, the card says closed.
    await users[1].send("/actions")
    assert "no open actions" in (await users[1].receive()).text
    await users[1].tap(cards[1], "✍️ Write a letter")
    assert "is closed" in (await users[1].receive()).text
    await users[1].tap(cards[1], "📖 Read more")
    assert "Nadia Berger" in (await users[1].receive()).text


async def test_closing_twice_or_an_unknown_case_changes_nothing(
    emulator: Emulator, bot: Any
) -> None:
    admin = admin_of(emulator)
    await admin.send("/close UA 999/26")
    assert "There is no published case UA 999/26." in (await admin.receive()).text
    reader = await subscriber(emulator, 1, "en")
    for name in ("ua-012-26-1.toml", "ua-012-26-2.toml", "ua-012-26-3.toml"):
        await publish(admin, name)  # the closure by action file takes the same path
        await admin.receive()  # the report
    closure = (await reader.receive_many(3))[-1]
    assert "Case closed · FI 012/26-3" in closure.text
    assert "Journalist released, charges dropped" in closure.text
    await admin.send("/close UA 012/26")
    assert (
        "UA 012/26 is already closed (on March 5, 2026); nothing changed."
        in (await admin.receive()).text
    )
    preview = await upload(admin, "ua-012-26-3.toml")
    assert "Nothing changed" in preview.text


async def test_announce_with_and_without_translations(emulator: Emulator, bot: Any) -> None:
    users = {
        uid: await subscriber(emulator, uid, code)
        for uid, code in {1: "en", 2: "de", 3: "fr"}.items()
    }
    admin = admin_of(emulator)
    await users[3].send("/unsubscribe")
    await users[3].receive()

    await admin.send("/announce")
    await admin.receive()
    await admin.send("Thank you all: 1,000 letters this year!")
    await admin.receive()
    await admin.send("Danke euch allen: 1000 Briefe in diesem Jahr!")
    french = await admin.receive()
    await admin.tap(french, "⏭ Skip")
    reach = await admin.receive()
    assert "This goes to 2 subscribers." in reach.text
    assert "Readers of French get the English text." in reach.text
    preview = await admin.receive()
    assert "Thank you all: 1,000 letters this year!" in preview.text
    await admin.tap(preview, "📣 Send")
    await finished(admin)
    assert "Thank you all" in users[1].messages[-1].text
    assert "📢" in users[2].messages[-1].text and "Danke euch allen" in users[2].messages[-1].text
    assert not any("Thank you all" in m.text for m in users[3].messages)  # paused

    await users[3].send("/subscribe")
    await users[3].receive()
    await admin.send("/announce")
    await admin.receive()
    await admin.send("Only English this time.")
    await admin.tap(await admin.receive(), "⏭ Skip")
    await admin.tap(await admin.receive(), "⏭ Skip")
    await admin.receive()
    await admin.tap(await admin.receive(), "📣 Send")
    await finished(admin)
    assert "Only English this time." in users[3].messages[-1].text
    assert "Annonce" in users[3].messages[-1].text  # the heading in the reader's language


async def test_stats_export_and_audit(
    emulator: Emulator, bot: Any, config: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writers = [
        await subscriber(emulator, uid, code)
        for uid, code in [(987651, "en"), (987652, "de"), (987653, "de")]
    ]
    await subscriber(emulator, 987654, "fr")
    admin = admin_of(emulator)
    await publish(admin, "ua-012-26-1.toml")
    await finished(admin)
    for writer in writers:
        card = await writer.receive()
        await writer.tap(card, card.buttons[1][0].text)
    await writers[0].send("/unsubscribe")
    await writers[0].receive()

    await admin.send("/stats")
    stats = (await admin.receive()).text
    assert "active: 3" in stats and "paused: 1" in stats and "unreachable: 0" in stats
    assert "used the bot in the last 30 days: 4" in stats
    assert "Deutsch: 2" in stats
    assert "UA 012/26: 3" in stats
    assert "revision 1, German: 2" in stats and "revision 1, English: 1" in stats

    await admin.send("/export")
    export = await admin.receive()
    assert export.document is not None and export.document.file_name.endswith(".csv")
    data = export.document.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert rows == [
        {"case": "UA 012/26", "revision": "1", "language": "de", "letters": "2"} | NO_SESSIONS,
        {"case": "UA 012/26", "revision": "1", "language": "en", "letters": "1"} | NO_SESSIONS,
    ]
    assert "98765" not in data  # no user ids

    await admin.send("/audit")
    audit = (await admin.receive()).text
    for action in ("import UA 012/26", "publish UA 012/26", "export uabot-letters-"):
        assert f"{ADMIN_ID} · {action}" in audit

    config_file = tmp_path / "cli.toml"
    config_file.write_text(
        f'[telegram]\ntoken = "1:a"\n[storage]\npath = "{config.storage.path}"\n', "utf-8"
    )
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["stats", "--config", str(config_file)]) == 0
    assert "UA 012/26: 3" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["audit", "--config", str(config_file)]) == 0
    assert "publish UA 012/26" in capsys.readouterr().out

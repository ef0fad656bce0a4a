"""Journeys: the bot in groups (issue 15 §1). Added by a German speaker it introduces itself
in German and records the group; /help@bot answers there; only group admins change the
group's language; personal commands get a button to the private chat and run nowhere; the
rest of the group's talk is ignored; removed, it forgets the group; a migration to a
supergroup keeps the language. And the emulator's 403 for a chat the user never opened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from journeys import ADMIN_ID, publish, subscriber
from telegram.error import Forbidden

from bot.emulator import BOT_USER, Emulator, SentMessage, SimGroup, SimUser
from bot.services import sessions
from bot.services.sessions import live

BOT = BOT_USER["username"]
PRIVATE_CHAT = f"https://t.me/{BOT}"


def people(emulator: Emulator) -> tuple[SimUser, SimUser, SimUser, SimUser]:
    """A group admin who speaks German and three supporters, none of whom started the bot."""
    return (
        emulator.user(1, "Ada", language_code="de"),
        emulator.user(2, "Bo", language_code="fr"),
        emulator.user(3, "Cy", language_code="en"),
        emulator.user(4, "Di"),
    )


def local_group(emulator: Emulator, *, supergroup: bool = False) -> SimGroup:
    admin, *members = people(emulator)
    return emulator.group("Local group", members=members, admins=[admin], supergroup=supergroup)


async def stats(emulator: Emulator) -> str:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await admin.send("/stats")
    return (await admin.receive()).text


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.02)


async def moved(bot: Any, new_id: int) -> bool:
    return await bot.bot_data.storage.groups.get(new_id) is not None


def button_urls(message: SentMessage) -> list[str | None]:
    return [button.url for row in message.buttons for button in row]


async def test_added_by_a_german_speaker_it_introduces_itself_once_in_german(
    emulator: Emulator, bot: Any
) -> None:
    group = local_group(emulator)
    group.add_bot()  # by its creator, Ada (language_code de)
    intro = await group.receive()
    assert intro.text.startswith("👋 Hallo!"), intro.text
    assert "/session" in intro.text and "/help" in intro.text and "/language" in intro.text
    assert "„✍️ Meinen Brief schreiben“" in intro.text, intro.text
    assert button_urls(intro) == [PRIVATE_CHAT]
    group.promote_bot()  # a change of the bot's rights is no second arrival
    await group.expect_silence()
    assert "groups with the bot: 1" in await stats(emulator)
    assert len(group.messages) == 1


async def test_the_adders_stored_language_wins_over_their_telegram_language(
    emulator: Emulator, bot: Any
) -> None:
    """The adder's language is decided where every reader's is: their stored choice first."""
    cy = await subscriber(emulator, 3, "en")
    await cy.send("/language")
    await cy.tap(await cy.receive(), "Français")  # the picker is edited: no new message
    group = emulator.group("Groupe local", members=[cy])
    group.add_bot(by=cy)
    assert (await group.receive()).text.startswith("👋 Bonjour")


async def test_help_at_the_bot_answers_in_the_group_with_the_group_commands(
    emulator: Emulator, bot: Any
) -> None:
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    bo = emulator.user(2)  # speaks French, but the group speaks German
    await group.send(bo, f"/help@{BOT}")
    help_text = await group.receive()
    assert help_text.text.startswith("Was ich in dieser Gruppe mache"), help_text.text
    for command in ("/session ", "/session_end ", "/language ", "/help "):
        assert command in help_text.text
    assert "/mine" not in help_text.text and "/forget" not in help_text.text
    assert button_urls(help_text) == [PRIVATE_CHAT]
    await group.send(bo, "/help")  # without the mention, as privacy mode lets it through
    assert (await group.receive()).text == help_text.text


async def test_only_group_admins_change_the_groups_language(emulator: Emulator, bot: Any) -> None:
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    ada, bo, cy = emulator.user(1), emulator.user(2), emulator.user(3)

    await group.send(cy, "/language")
    refusal = await group.receive()
    assert refusal.text == "Nur wer die Gruppe verwaltet, kann ihre Sprache ändern."
    assert refusal.buttons == []

    await group.send(ada, f"/language@{BOT}")
    picker = await group.receive()
    assert picker.text == "Wähle die Sprache der Gruppe:"
    assert [b.text for row in picker.buttons for b in row] == ["English", "✓ Deutsch", "Français"]

    # A member taps the admin's picker: told no (in their own language), nothing changes.
    tapped = await group.tap(bo, picker, "Français")
    assert tapped.show_alert and tapped.text == (
        "Seuls les admins du groupe peuvent changer sa langue."
    ), tapped
    await group.send(cy, "/help")
    assert (await group.receive()).text.startswith("Was ich in dieser Gruppe mache")

    done = await group.tap(ada, picker, "Français")
    assert done.text is not None and done.text.startswith("Langue choisie"), done

    async def picker_edited() -> bool:  # the picker, edited in place after the answer
        shown = next(m for m in group.messages if m.message_id == picker.message_id)
        return shown.text == done.text

    await until(picker_edited)
    await group.send(cy, "/help")
    assert (await group.receive()).text.startswith("Ce que je fais dans ce groupe")
    # A group admin chose the group's language, not their own: Ada's stays German.
    assert emulator.user(1).messages == []
    await ada.send("/start")
    assert (await ada.receive()).text.startswith("Willkommen!")


@pytest.mark.parametrize(
    ("command", "url", "label"),
    [
        ("/mine", PRIVATE_CHAT, "💬 Privaten Chat mit mir öffnen"),
        (f"/forget@{BOT}", PRIVATE_CHAT, "💬 Privaten Chat mit mir öffnen"),
        ("/subscribe", PRIVATE_CHAT, "💬 Privaten Chat mit mir öffnen"),
        ("/write UA 012/26", f"{PRIVATE_CHAT}?start=write-ua-012-26", "✍️ Meinen Brief schreiben"),
        ("/start write-ua-012-26", f"{PRIVATE_CHAT}?start=write-ua-012-26", None),
        ("/start ua-012-26", f"{PRIVATE_CHAT}?start=ua-012-26", None),
        ("/start UA 012/26", f"{PRIVATE_CHAT}?start=ua-012-26", None),
        ("/write", PRIVATE_CHAT, None),
    ],
)
async def test_personal_commands_in_a_group_get_a_button_to_the_private_chat(
    emulator: Emulator, bot: Any, command: str, url: str, label: str | None
) -> None:
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    cy = emulator.user(3)
    await group.send(cy, command)
    answer = await group.receive()
    assert answer.text == (
        "Das ist persönlich und läuft deshalb nur im privaten Chat mit mir."
    )
    assert button_urls(answer) == [url]
    if label is not None:
        assert answer.buttons[0][0].text == label
    await group.expect_silence()
    assert cy.messages == []  # nothing started in private either: Cy must open the chat
    assert (
        "subscribers" in (report := await stats(emulator)) and "groups with the bot: 1" in report
    )


async def test_the_rest_of_the_groups_talk_is_ignored(emulator: Emulator, bot: Any) -> None:
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    bo = emulator.user(2)
    await group.send(bo, "/frobnicate")  # an unknown command: the private hint stays private
    await group.send(bo, "/stats")  # the organisation's admin commands are none of a group's
    await group.send(bo, f"thanks @{BOT}!")
    await group.send(bo, "hello everyone")  # plain talk: privacy mode hides it
    sent = await group.send(bo, "done!")
    await group.send(emulator.user(3), "ok", reply_to=group.messages[0])
    assert sent is not None
    await group.expect_silence(0.5)
    assert len(group.messages) == 1  # the intro only
    group.join(emulator.user(9, "Eve"))  # a member joins: no greeting for them either
    await group.expect_silence()


async def test_removed_it_forgets_the_group_and_added_again_it_introduces_itself_again(
    emulator: Emulator, bot: Any
) -> None:
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    assert "groups with the bot: 1" in await stats(emulator)
    group.remove_bot()
    await group.expect_silence()
    assert "groups with the bot: 0" in await stats(emulator)

    superg = emulator.group("Marathon", members=[emulator.user(3)], supergroup=True)
    superg.add_bot(by=emulator.user(3))
    assert (await superg.receive()).text.startswith("👋 Hello!")
    assert "groups with the bot: 1" in await stats(emulator)
    await superg.send(emulator.user(3), "/leave_please")  # noise
    superg.remove_bot()  # removing from a supergroup bans ("kicked")
    await superg.expect_silence()
    assert "groups with the bot: 0" in await stats(emulator)

    group.add_bot(by=emulator.user(3))  # English this time: a new arrival, a new intro
    assert (await group.receive()).text.startswith("👋 Hello!")
    assert "groups with the bot: 1" in await stats(emulator)


async def test_a_migration_to_a_supergroup_keeps_the_language(
    emulator: Emulator, bot: Any
) -> None:
    group = local_group(emulator)
    old_id = group.id
    group.add_bot()
    await group.receive()
    ada = emulator.user(1)
    await group.send(ada, "/language")
    await group.tap(ada, await group.receive(), "Français")
    new_id = group.migrate()
    assert new_id != old_id
    # Updates are handled concurrently: the next message waits until the two service
    # messages (which Telegram sends at once) were handled, as members' messages come later.
    await until(lambda: moved(bot, new_id))
    await group.send(emulator.user(3), f"/help@{BOT}")
    assert (await group.receive()).text.startswith("Ce que je fais dans ce groupe")
    report = await stats(emulator)
    assert "groups with the bot: 1" in report, report
    await group.expect_silence()  # the upgrade itself is no occasion for a message


async def test_the_emulator_refuses_a_private_chat_the_user_never_opened(
    emulator: Emulator, bot: Any
) -> None:
    """Real Telegram answers 403 to a bot writing first to a user it met in a group."""
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.bot.send_message(2, "hello")
    emulator.block(3)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.bot.send_message(3, "hello")
    emulator.unblock(3)
    bo = emulator.user(2)
    await bo.send("/start")
    assert (await bo.receive()).text.startswith("Bienvenue")
    await bot.bot.send_message(2, "hello")  # now Bo has opened the chat


async def test_removed_during_a_session_it_ends_the_session_and_stops_its_jobs(
    emulator: Emulator, bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing can be posted in a group the bot left: its running session ends with its
    count, and its jobs are cancelled (``live.stop``, sessionlive's)."""
    stopped: list[int] = []
    monkeypatch.setattr(live, "stop", lambda app, session_id: stopped.append(session_id))
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await publish(admin, "ua-012-26-1.toml")
    while "Broadcast finished" not in (await admin.receive(timeout=10)).text:
        pass  # no subscribers: the report comes at once
    group = local_group(emulator)
    group.add_bot()
    await group.receive()
    data = bot.bot_data
    started = await sessions.start(
        data.storage, data.config.sessions, group.id, time.time(), today=data.today()
    )
    assert started.session is not None
    assert "sessions: 1 (1 running)" in await stats(emulator)
    group.remove_bot()
    await until(lambda: stopped_yet(stopped))
    assert stopped == [started.session.id]
    report = await stats(emulator)
    assert "sessions: 1 (0 running)" in report and "groups with the bot: 0" in report, report
    await group.expect_silence()


async def stopped_yet(stopped: list[int]) -> bool:
    return bool(stopped)


async def test_a_new_group_language_shows_on_the_running_session_message(
    emulator: Emulator, bot: Any
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await publish(admin, "ua-012-26-1.toml")
    group = local_group(emulator)
    group.add_bot(admin=True)
    await group.receive()
    ada = emulator.user(1)
    await group.send(ada, "/session UA 012/26 60")
    session = await group.receive()
    assert "✅ Ich habe ihn verschickt" in [b.text for row in session.buttons for b in row]
    await group.send(ada, "/language")
    await group.tap(ada, await group.receive(), "Français")

    async def in_french() -> bool:
        labels = [b.text for row in session.buttons for b in row]
        return "✅ Je l’ai envoyée" in labels

    await until(in_french)
    assert len(group.messages) == 3  # the intro, the session, the picker: edited, not posted


async def test_groups_have_their_own_command_menu(emulator: Emulator, bot: Any) -> None:
    """Telegram's "/" menu in a group lists what works there, not the personal commands."""
    groups = {"type": "all_group_chats"}
    german = dict(emulator.commands(language_code="de", scope=groups))
    assert list(german) == ["session", "session_end", "language", "help"]
    assert german["help"] == "Anzeigen, was der Bot in dieser Gruppe macht"
    assert dict(emulator.commands(scope=groups))["help"] == "What the bot does in this group"
    assert "mine" in dict(emulator.commands(language_code="de"))  # private chats keep theirs

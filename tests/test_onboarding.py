"""Journeys: a new supporter meets the bot, picks a language, pauses alerts, erases themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from journeys import ADMIN_ID

from bot.emulator import Emulator

CHECKOUT = str(Path(__file__).resolve().parent.parent)

# language_code Telegram reports -> (language the bot must answer in, a phrase of its greeting)
GREETINGS = {
    "en-GB": ("en", "Welcome!"),
    "de-CH": ("de", "Willkommen!"),
    "fr-BE": ("fr", "Bienvenue\u202f!"),
    "it": ("en", "Welcome!"),
}


@pytest.mark.parametrize("language_code", list(GREETINGS))
async def test_start_greets_in_the_users_language_and_subscribes(
    emulator: Emulator, bot: object, language_code: str
) -> None:
    expected_language, greeting = GREETINGS[language_code]
    user = emulator.user(1001, first_name="Ada", language_code=language_code)
    await user.send("/start")
    reply = await user.receive()
    assert greeting in reply.text
    assert "/privacy" in reply.text and "/forget" in reply.text
    assert "/language" in reply.text  # the command list
    assert len(reply.buttons[0]) == 2

    await user.send("/subscribe")
    again = await user.receive()
    already = {
        "en": "already subscribed",
        "de": "bereits angemeldet",
        "fr": "abonnement est déjà actif",
    }[expected_language]
    assert already in again.text


async def test_language_picker_changes_the_language_of_every_later_answer(
    emulator: Emulator, bot: object
) -> None:
    user = emulator.user(1002, first_name="Bo", language_code="en-US")
    await user.send("/start")
    start = await user.receive()
    await user.tap(start, "🌐 Change language")
    picker = await user.receive()
    names = [row[0].text for row in picker.buttons]
    assert names == ["✓ English", "Deutsch", "Français"]

    answer = await user.tap(picker, "Français")
    assert answer.text == "Langue choisie\u00a0: Français."
    await emulator.wait_until(lambda: picker_text(user, picker.message_id) == answer.text)

    await user.send("/help")
    help_reply = await user.receive()
    assert "Ce que je sais faire" in help_reply.text
    assert "/unsubscribe – Mettre les alertes en pause" in help_reply.text

    await user.send("/language")
    picker = await user.receive()
    assert [row[0].text for row in picker.buttons][2] == "✓ Français"


def picker_text(user: object, message_id: int) -> str:
    return next(m.text for m in user.messages if m.message_id == message_id)  # type: ignore[attr-defined]


async def test_unsubscribe_pauses_and_subscribe_resumes(emulator: Emulator, bot: object) -> None:
    user = emulator.user(1003, first_name="Cy", language_code="de")
    await user.send("/unsubscribe")
    assert "bereits aus" in (await user.receive()).text  # never subscribed

    await user.send("/start")
    start = await user.receive()
    answer = await user.tap(start, "🔕 Keine Benachrichtigungen")
    assert "pausiert" in answer.text
    assert "pausiert" in (await user.receive()).text

    await user.send("/unsubscribe")
    assert "bereits aus" in (await user.receive()).text
    await user.send("/subscribe")
    assert "Du bist angemeldet" in (await user.receive()).text


async def test_privacy_says_what_is_stored(emulator: Emulator, bot: object) -> None:
    user = emulator.user(1004, first_name="Di", language_code="fr")
    await user.send("/privacy")
    text = (await user.receive()).text
    assert "Ce que ce bot conserve sur vous" in text
    assert "identifiant Telegram" in text
    assert "/forget" in text


async def test_forget_asks_first_then_erases_everything(emulator: Emulator, bot: object) -> None:
    storage = bot.bot_data.storage  # type: ignore[attr-defined]
    user = emulator.user(1005, first_name="Ed", language_code="en")
    await user.send("/start")
    await user.receive()
    assert await storage.users.get(1005) is not None

    await user.send("/forget")
    question = await user.receive()
    await user.tap(question, "No, keep my data")
    await emulator.wait_until(
        lambda: "Nothing was deleted" in picker_text(user, question.message_id)
    )
    assert await storage.users.get(1005) is not None

    await user.send("/forget")
    question = await user.receive()
    await user.tap(question, "Yes, delete everything")
    await emulator.wait_until(lambda: "is deleted" in picker_text(user, question.message_id))
    assert await storage.users.get(1005) is None

    # Talking to the bot afterwards does not store the user again.
    await user.send("/help")
    await user.receive()
    assert await storage.users.get(1005) is None


@pytest.mark.parametrize(
    ("language_code", "command_hint", "text_hint"),
    [
        ("en", "I don't know that command", "I only understand commands"),
        ("de", "Diesen Befehl kenne ich nicht", "Ich verstehe nur Befehle"),
        ("fr", "Je ne connais pas cette commande", "Je ne comprends que les commandes"),
    ],
)
async def test_unknown_commands_and_free_text_get_a_localised_hint(
    emulator: Emulator, bot: object, language_code: str, command_hint: str, text_hint: str
) -> None:
    user = emulator.user(1006, first_name="Fa", language_code=language_code)
    await user.send("/frobnicate")
    assert command_hint in (await user.receive()).text
    await user.send("hello there")
    assert text_hint in (await user.receive()).text


async def test_command_menu_is_published_in_every_language(
    emulator: Emulator, bot: object
) -> None:
    de = dict(emulator.commands(language_code="de"))
    fr = dict(emulator.commands(language_code="fr"))
    default = dict(emulator.commands())
    assert de["unsubscribe"] == "Benachrichtigungen pausieren"
    assert fr["unsubscribe"] == "Mettre les alertes en pause"
    assert default["unsubscribe"] == "Pause alerts"
    assert set(de) == set(fr) == set(default) >= {"start", "help", "language", "forget"}


async def test_a_language_no_longer_configured_falls_back_to_the_default(
    emulator: Emulator, config: object, restart: object
) -> None:
    user = emulator.user(1007, first_name="Gu", language_code="fr")
    async with restart():  # type: ignore[operator]
        await user.send("/start")
        await user.receive()
    async with restart(i18n=type(config.i18n)(default_language="de", languages=("en", "de"))):  # type: ignore[attr-defined,operator]
        await user.send("/help")
        assert "Was ich kann" in (await user.receive()).text


async def test_a_crashing_handler_is_logged_and_the_user_told(
    emulator: Emulator,
    bot: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = bot.bot_data.storage  # type: ignore[attr-defined]

    async def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage.users, "subscribe", broken)
    user = emulator.user(1008, first_name="Hu", language_code="de")
    await user.send("/start")
    assert "etwas ist schiefgegangen" in (await user.receive()).text
    assert "disk on fire" in caplog.text
    # no message texts in the log (the traceback's paths hold the checkout's folder name)
    assert "/start" not in caplog.text.replace(CHECKOUT, "")


async def test_an_admins_help_lists_the_admin_commands_of_their_menu(
    emulator: Emulator, bot: object
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="de")
    await admin.send("/start")
    await admin.receive()
    await admin.send("/help")
    help_text = (await admin.receive()).text
    assert "Befehle für Admins" in help_text
    assert "Schick mir eine Aktionsdatei (.toml)" in help_text
    # The same commands, worded the same, as the admin's "/" menu (one list for both).
    menu = dict(emulator.commands(language_code="de", scope={"type": "chat", "chat_id": ADMIN_ID}))
    public = dict(emulator.commands(language_code="de"))
    admin_only = {name: text for name, text in menu.items() if name not in public}
    assert {"close", "announce", "broadcasts", "stats", "export", "audit"} <= set(admin_only)
    for name, description in menu.items():
        assert f"/{name} – {description}" in help_text

    supporter = emulator.user(15, first_name="S", language_code="de")
    await supporter.send("/start")
    await supporter.receive()
    await supporter.send("/help")
    supporter_help = (await supporter.receive()).text
    assert "Befehle für Admins" not in supporter_help
    assert not any(f"/{name} " in supporter_help for name in admin_only)

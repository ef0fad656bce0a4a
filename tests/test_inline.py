"""Inline mode: ``@bot …`` in any chat lists the open cases in the typist's language, filtered
by text, number or country name; choosing one posts the card with a link to write a letter."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from journeys import ADMIN_ID, publish, subscriber

from bot import logs
from bot.emulator import Button, Emulator, InlineAnswer, SimUser
from bot.emulator.methods import QUERY_TOO_OLD
from bot.services import sharing
from handlers.inline import CACHE_SECONDS

TODAY = date(2026, 3, 10)  # 013/26 and 014/26 in time; 012/26 expired a week ago
WRITE_014 = "https://t.me/uabot_test_bot?start=write-ua-014-26"


@pytest.fixture(autouse=True)
def _inline_mode_on(emulator: Emulator) -> None:
    """/setinline at @BotFather (off for a new bot, so the emulator's default is off)."""
    emulator.inline_mode = True


async def published(emulator: Emulator, bot: Any, *readers: SimUser) -> None:
    """The admin publishes three cases (012/26 in Belgium, 013/26 in Austria, 014/26 in
    Kazakhstan); each reader gets their cards."""
    bot.bot_data.today = lambda: TODAY
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    for name in ("ua-012-26-1.toml", "ua-013-26-1.toml", "ua-014-26-1.toml"):
        await publish(admin, name)
        await admin.receive()  # the report
        for reader in readers:
            await reader.receive()


def titles(answer: InlineAnswer) -> list[str]:
    return [result["title"] for result in answer.results]


def ids(answer: InlineAnswer) -> list[str]:
    return [result["id"] for result in answer.results]


async def test_an_english_reader_who_never_started_the_bot_finds_cases(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, bot)
    stranger = emulator.user(501, first_name="Ann", language_code="en-GB")

    everything = await stranger.inline("")
    assert ids(everything) == ["ua-014-26", "ua-013-26", "ua-012-26"]  # newest first
    assert titles(everything)[0] == "Activist held for speaking about camps"
    assert everything.results[0]["description"] == (
        "UA 014/26 · Please write before December 31, 2026. · 0 letters sent"
    )
    assert everything.results[2]["description"] == (
        "UA 012/26 · Deadline passed on March 3, 2026. · 0 letters sent"
    )
    # Short-lived and per user: counts change, and the language differs from user to user.
    assert (everything.cache_time, everything.is_personal) == (CACHE_SECONDS, True)
    assert CACHE_SECONDS <= 300 and everything.next_offset == ""

    assert ids(await stranger.inline("kazakhstan")) == ["ua-014-26"]  # the country, by CLDR
    assert ids(await stranger.inline("Belgium journalist")) == ["ua-012-26"]  # every word
    assert ids(await stranger.inline("climate")) == ["ua-013-26"]  # the title

    # What is offered is what /actions lists: a case expired longer than expired_days is not.
    bot.bot_data.today = lambda: TODAY + timedelta(days=14)
    assert ids(await stranger.inline("")) == ["ua-014-26", "ua-013-26"]
    assert ids(await stranger.inline("sit-in")) == ["ua-013-26"]  # the summary
    for number in ("014/26", "UA 014/26", "ua-014-26", "ua 014"):
        assert ids(await stranger.inline(number)) == ["ua-014-26"], number
    assert (await stranger.inline("zanzibar")).results == []  # nothing: an empty answer
    assert (await stranger.inline("Kasachstan")).results == []  # the German name is not his
    assert ids(await stranger.inline("kz")) == ["ua-014-26"]  # the ISO code, in any case

    # Typing @bot told the bot nothing about him: no row, no message in a private chat.
    assert await bot.bot_data.storage.users.get(501) is None
    assert stranger.messages == []


async def test_a_german_reader_gets_german_cases_and_country_names(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, bot)
    leser = emulator.user(502, first_name="Lea", language_code="de-CH")

    everything = await leser.inline("")
    assert titles(everything) == [
        "Aktivist in Haft, weil er über Lager berichtet hat",
        "Klimaaktivistinnen und -aktivisten nach friedlichem Sitzstreik gebüsst",
        "Journalistin nach Recherchen über Haftzentren inhaftiert",
    ]
    assert everything.results[0]["description"] == (
        "UA 014/26 · Bitte schreib vor dem 31. Dezember 2026. · 0 Briefe verschickt"
    )
    assert ids(await leser.inline("Kasachstan")) == ["ua-014-26"]
    assert ids(await leser.inline("kasachstan haft")) == ["ua-014-26"]
    assert ids(await leser.inline("Österreich")) == ["ua-013-26"]
    assert ids(await leser.inline("osterreich")) == ["ua-013-26"]  # accents need not be typed
    assert ids(await leser.inline("belgien")) == ["ua-012-26"]
    assert ids(await leser.inline("UA 013/26")) == ["ua-013-26"]
    # The default language's name (the files' language) and the ISO code find it too.
    assert ids(await leser.inline("kazakhstan")) == ["ua-014-26"]
    assert ids(await leser.inline("KZ")) == ["ua-014-26"]
    assert ids(await leser.inline("belgium")) == ["ua-012-26"]
    assert (await leser.inline("Kazachstan")).results == []  # Dutch: neither hers nor the default


async def test_a_subscriber_is_answered_in_the_language_they_chose(
    emulator: Emulator, bot: Any
) -> None:
    """The stored choice wins over the app's language, as in the private chat."""
    lecteur = await subscriber(emulator, 503, "en")
    await lecteur.send("/language")
    await lecteur.tap(await lecteur.receive(), "Français")  # the picker becomes the answer
    await published(emulator, bot, lecteur)
    (result,) = (await lecteur.inline("kazakhstan militant")).results
    assert result["title"] == "Un militant détenu pour avoir parlé des camps"
    assert ids(await lecteur.inline("belgique")) == ["ua-012-26"]
    # The summary is typeset for French ("d’investigation"); a keyboard types "d'".
    for typed in ("journaliste d'investigation", "journaliste d’investigation"):
        assert ids(await lecteur.inline(typed)) == ["ua-012-26"], typed
    # English is the default language: its country names are known to every reader.
    assert ids(await lecteur.inline("belgium")) == ["ua-012-26"]
    assert (await lecteur.inline("belgien")).results == []  # German is neither


async def test_choosing_a_case_posts_its_card_with_a_link_to_write(
    emulator: Emulator, bot: Any
) -> None:
    reader = await subscriber(emulator, 504, "de")
    await published(emulator, bot, reader)
    pushed = reader.messages[-1]  # the card 014/26 was pushed with
    await reader.tap(pushed, "✅ Ich habe ihn verschickt")  # one letter so far

    answer = await reader.inline("kasachstan")
    assert answer.results[0]["description"].endswith("· 1 Brief verschickt")
    posted = await reader.choose(answer)
    # The card as the supporter knows it, posted by them via the bot into their other chat.
    assert posted.text == pushed.text.replace("0 Briefe verschickt", "1 Brief verschickt")
    assert "Kasachstan" not in posted.text and "Aidos Serikbajew" in posted.text
    assert posted.chat_id == reader.other_chat.id != reader.id
    assert posted.via_bot is not None and posted.via_bot["username"] == "uabot_test_bot"
    assert posted.entities and posted.entities[0]["type"] == "bold"  # HTML was parsed
    # One link: whoever reads it there may never have started the bot.
    assert posted.buttons == [[Button("✍️ Brief schreiben", url=WRITE_014)]]

    stranger = emulator.user(505, language_code="en")
    shared = await stranger.choose(await stranger.inline("014/26"))
    assert shared.buttons == [[Button("✍️ Write a letter", url=WRITE_014)]]
    assert shared.text.startswith("🆕 New Urgent Action · UA 014/26\n")


async def test_many_cases_come_page_by_page(
    emulator: Emulator, bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram takes 50 results per answer; the client asks for the rest by next_offset."""
    monkeypatch.setattr(sharing, "PAGE_SIZE", 2)
    await published(emulator, bot)
    user = emulator.user(506, language_code="en")
    first = await user.inline("")
    assert (ids(first), first.next_offset) == (["ua-014-26", "ua-013-26"], "2")
    rest = await user.inline("", offset=first.next_offset)
    assert (ids(rest), rest.next_offset) == (["ua-012-26"], "")
    # Crafted offsets start from the beginning: "²" and "０" are digits to str.isdigit(), not
    # to int() or to us.
    for crafted in ("crafted", "²", "０", "-1", "1.5"):
        assert ids(await user.inline("", offset=crafted)) == ids(first), crafted


async def test_no_open_case_is_an_empty_answer_and_queries_are_not_logged(
    emulator: Emulator, bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The bot's own modules at every verbosity (-v); libraries stay at INFO (bot.logs).
    for own in logs.OWN_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=own)
    user = emulator.user(507, language_code="en")
    answer = await user.inline("Rosalind Franklin Strasse 12")
    assert answer.results == [] and answer.next_offset == ""
    # An answer Telegram refuses (the query expired meanwhile) is logged, still without it.
    emulator.fail_next("answerInlineQuery", 400, f"Bad Request: {QUERY_TOO_OLD}")
    with pytest.raises(AssertionError, match="no answerInlineQuery"):
        await user.inline("Rosalind Franklin", timeout=0.5)
    await emulator.wait_until(lambda: "(inline_query)" in caplog.text, timeout=5)
    assert "Rosalind" not in caplog.text and "Strasse" not in caplog.text
    assert user.messages == []  # no apology in a chat the user never opened
    assert (await user.inline("")).results == []  # and the next query is answered


async def test_typing_at_bot_does_not_make_a_blocked_subscriber_reachable(
    emulator: Emulator, bot: Any
) -> None:
    """Inline mode works in other chats even for a bot one blocked: only a message to it
    (the private chat) says the user is back."""
    users = bot.bot_data.storage.users
    reader = await subscriber(emulator, 508, "en")
    await users.mark_unreachable(508)  # a broadcast met 403: they blocked the bot
    assert (await reader.inline("")).results == []
    assert (await users.get(508)).blocked
    await reader.send("/help")
    await reader.receive()
    assert not (await users.get(508)).blocked

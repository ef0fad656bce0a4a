"""Journeys: supporters choose what reaches them (/topics); a case reaches whom it concerns.

A new case reaches those who follow everything and those whose topics, countries or regions
match it; its follow-up also reaches whoever opened it or wrote for it. The admin's preview
says how many that is, /stats how many follow what.
"""

from __future__ import annotations

from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, subscriber, upload

from bot.actions.model import ActionRevision
from bot.actions.parse import ActionFileError, parse_action
from bot.emulator import Emulator, SentMessage, SimUser

CASE_TITLE = "Journalist detained for reporting on detention centres"


def with_topics(name: str, topics: str) -> bytes:
    """A fixture file with a ``topics = ...`` line added after its status."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text.replace('status = "open"', f'status = "open"\ntopics = {topics}', 1).encode()


def current(user: SimUser, message_id: int) -> SentMessage:
    found = user.chat.by_id[message_id]
    assert isinstance(found, SentMessage)
    return found


def labels(message: SentMessage) -> list[str]:
    return [button.text for row in message.buttons for button in row]


async def tap_until(
    emulator: Emulator, user: SimUser, message_id: int, button: str, shown: str
) -> str:
    """Tap ``button`` on the /topics message; wait until it shows ``shown`` (a text or a
    button's label); the toast the bot answered with."""
    toast = (await user.tap(message_id, button)).text or ""
    await emulator.wait_until(
        lambda: (
            shown in current(user, message_id).text or shown in labels(current(user, message_id))
        ),
        message=f"{shown!r} after tapping {button!r}",
    )
    return toast


async def topics_menu(user: SimUser) -> SentMessage:
    await user.send("/topics")
    return await user.receive()


async def follow_topic(emulator: Emulator, user: SimUser, topic: str, name: str) -> None:
    """/topics -> Topics -> tap the topic (by its callback data: any language)."""
    menu = await topics_menu(user)
    await tap_until(emulator, user, menu.message_id, "v1:follow:topics", name)
    await tap_until(
        emulator, user, menu.message_id, f"v1:follow-set:topic:{topic}:on:topics", f"✓ {name}"
    )


async def published(admin: SimUser, preview: SentMessage) -> str:
    """Tap Publish; the admins' final report of the broadcast."""
    await admin.tap(preview, "📣 Publish")
    while True:
        message = await admin.receive(timeout=10)
        if "Broadcast finished" in message.text:
            return message.text


def cards(user: SimUser, label: str) -> list[SentMessage]:
    """The bot's messages to ``user`` that contain ``label`` (" 012/26-2": the number, as each
    language labels it its own way: FI, UA, AU)."""
    return [m for m in user.chat.bot_messages if isinstance(m, SentMessage) and label in m.text]


async def test_a_case_reaches_its_followers_and_its_follow_up_also_who_opened_or_wrote(
    emulator: Emulator, bot: Any
) -> None:
    torture = await subscriber(emulator, 101, "en")
    death_penalty = await subscriber(emulator, 102, "de")
    kazakhstan = await subscriber(emulator, 103, "fr")
    asia = await subscriber(emulator, 104, "en")
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")

    await follow_topic(emulator, torture, "torture", "Torture")
    await follow_topic(emulator, death_penalty, "death-penalty", "Todesstrafe")
    # Kazakhstan, through the regions: world -> Asia -> Central Asia -> the country.
    menu = await topics_menu(kazakhstan)
    mid = menu.message_id
    await tap_until(emulator, kazakhstan, mid, "v1:follow:area:001:0", "Asie ›")
    await tap_until(emulator, kazakhstan, mid, "Asie ›", "Asie centrale ›")
    await tap_until(emulator, kazakhstan, mid, "Asie centrale ›", "Kazakhstan")
    toast = await tap_until(emulator, kazakhstan, mid, "Kazakhstan", "✓ Kazakhstan")
    assert toast == "Vous suivez désormais\u00a0: Kazakhstan."
    # All of Asia.
    menu = await topics_menu(asia)
    await tap_until(emulator, asia, menu.message_id, "🌍 Regions and all countries", "Asia ›")
    await tap_until(emulator, asia, menu.message_id, "Asia ›", "All of Asia")
    await tap_until(emulator, asia, menu.message_id, "All of Asia", "✓ All of Asia")

    # A new case about torture in Belgium reaches the follower of torture only.
    await admin.upload(
        "ua-012-26-1.toml", with_topics("ua-012-26-1.toml", '["torture"]'), "application/toml"
    )
    preview = await admin.receive()
    assert "It will reach 1 subscriber of 4." in preview.text
    report = await published(admin, preview)
    assert "Delivered: 1" in report
    assert len(cards(torture, CASE_TITLE)) == 1
    for user in (death_penalty, kazakhstan, asia):
        assert cards(user, " 012/26") == []

    # The follower of Kazakhstan (who wants no deadline reminders) opens the case from
    # /actions; the follower of Asia writes.
    await kazakhstan.send("/reminders off")
    await kazakhstan.receive()
    await kazakhstan.send("/actions")
    listing = await kazakhstan.receive()
    await kazakhstan.tap(listing, listing.buttons[0][0].text)
    assert "AU 012/26" in (await kazakhstan.receive()).text  # French: action urgente
    await asia.send("/actions")
    listing = await asia.receive()
    await asia.tap(listing, listing.buttons[0][0].text)
    card = await asia.receive()
    assert "Thank you" in ((await asia.tap(card, "✅ I sent it")).text or "")

    # Its follow-up (no topics of its own: it keeps "torture") reaches those three.
    preview = await upload(admin, "ua-012-26-2.toml")
    assert "It will reach 3 subscribers of 4." in preview.text
    report = await published(admin, preview)
    assert "Delivered: 3" in report
    for user in (torture, kazakhstan, asia):
        assert len(cards(user, " 012/26-2")) == 1, user.id
    assert cards(death_penalty, " 012/26") == []
    assert cards(death_penalty, " 012/26-2") == []
    before = len(death_penalty.chat.bot_messages)

    # So does its closure (the openers are forgotten only once it is queued for them).
    preview = await upload(admin, "ua-012-26-3.toml")
    assert "It will reach 3 subscribers of 4." in preview.text
    assert "Delivered: 3" in await published(admin, preview)
    for user in (torture, kazakhstan, asia):
        assert len(cards(user, "Case closed")) + len(cards(user, "Cas clos")) == 1, user.id
    assert len(death_penalty.chat.bot_messages) == before

    # /stats counts the followers.
    await admin.send("/stats")
    stats = await admin.receive()
    assert "What active subscribers follow" in stats.text
    assert "everything: 0" in stats.text
    for line in ("Torture: 1", "Death penalty: 1", "Kazakhstan: 1", "Asia: 1"):
        assert line in stats.text


async def test_topics_menu_summary_everything_paging_and_stale_buttons(
    emulator: Emulator, bot: Any
) -> None:
    user = emulator.user(201, first_name="Ada", language_code="en")
    await user.send("/topics")
    assert "Send /start first" in (await user.receive()).text

    await user.send("/start")
    start = await user.receive()
    await user.tap(start, "🏷 Choose topics")
    menu = await user.receive()
    assert "What reaches you" in menu.text
    assert "You follow everything" in menu.text
    assert labels(menu)[0] == "✓ 🌐 Everything"
    mid = menu.message_id

    await tap_until(emulator, user, mid, "🏷 Topics", "Torture")
    assert len(current(user, mid).buttons) == 11  # ten topics and Back
    # A second tap on "Topics" that arrives after the first one's edit changes nothing.
    assert not (await user.tap(mid, "« Back", crafted="v1:follow:topics")).show_alert
    await tap_until(
        emulator, user, mid, "Women's rights and gender", "✓ Women's rights and gender"
    )
    await tap_until(emulator, user, mid, "« Back", "What reaches you")
    summary = current(user, mid)
    assert "Topics: Women's rights and gender" in summary.text
    assert labels(summary)[0] == "🌐 Everything"

    # Western Africa has 17 countries: two pages of ten, two a row.
    await tap_until(emulator, user, mid, "🌍 Regions and all countries", "Africa ›")
    await tap_until(emulator, user, mid, "Africa ›", "Western Africa ›")
    await tap_until(emulator, user, mid, "Western Africa ›", "All of Western Africa")
    page = current(user, mid)
    assert "(page 1 of 2)" in page.text
    assert labels(page)[1:3] == ["Benin", "Burkina Faso"]
    await tap_until(emulator, user, mid, "▶️", "(page 2 of 2)")
    await tap_until(emulator, user, mid, "Togo", "✓ Togo")
    await tap_until(emulator, user, mid, "« Back", "Western Africa ›")
    await tap_until(emulator, user, mid, "« Back", "Europe ›")
    await tap_until(emulator, user, mid, "« Back", "What reaches you")
    assert "Countries: Togo" in current(user, mid).text

    answer = await user.tap(mid, "🌐 Everything")
    assert answer.text == "You follow everything again."
    await emulator.wait_until(lambda: "You follow everything" in current(user, mid).text)
    await user.tap(mid, "✓ 🌐 Everything")  # again: the same menu, nothing to change
    await user.send("/topics")
    assert "What reaches you" in (await user.receive()).text  # no "something went wrong"

    for crafted in (
        "v1:follow-set:topic:tortures:on:topics",
        "v1:follow-set:country:ZZ:on:topics",
        "v1:follow-set:topic:torture:maybe:topics",
        "v1:follow:area:999:0",
        "v1:follow:cases:x",
    ):
        answer = await user.tap(mid, "🏷 Topics", crafted=crafted)
        assert answer.show_alert, crafted


async def test_the_countries_of_the_cases_come_first_and_forget_erases_the_choice(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 301, "de")
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await published(admin, await upload(admin, "ua-012-26-1.toml"))
    assert "UA 012/26" in (await user.receive()).text

    menu = await topics_menu(user)
    mid = menu.message_id
    await tap_until(emulator, user, mid, "v1:follow:cases:0", "Belgien")
    toast = await tap_until(emulator, user, mid, "Belgien", "✓ Belgien")
    assert toast == "Du folgst jetzt: Belgien."
    await user.send("/privacy")
    assert "Themen, Länder und Regionen" in (await user.receive()).text

    await user.send("/forget")
    await user.tap(await user.receive(), "v1:forget:yes")
    await emulator.wait_until(lambda: "gelöscht" in user.chat.bot_messages[-1].text)
    await user.send("/start")
    await user.receive_many(2)  # a new subscriber again: the welcome, then the open cases
    menu = await topics_menu(user)
    assert "Du folgst allem" in menu.text


async def test_an_unknown_topic_is_a_problem_with_did_you_mean(
    emulator: Emulator, bot: Any
) -> None:
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await admin.upload(
        "ua-012-26-1.toml",
        with_topics("ua-012-26-1.toml", '["tortur", "torture", "torture", "climate"]'),
        "application/toml",
    )
    problems = (await admin.receive()).text
    assert 'topics[1]: unknown topic "tortur"; did you mean "torture"?' in problems
    assert 'topics[3]: "torture" is listed twice' in problems
    assert 'topics[4]: unknown topic "climate"; expected one of arbitrary-detention' in problems


def test_topics_keep_the_fingerprints_of_files_without_them() -> None:
    data = (FIXTURES / "ua-012-26-1.toml").read_bytes()
    plain = parse_action(
        data, source="a.toml", languages=("en", "de", "fr"), default_language="en"
    )
    assert plain.topics == () and '"topics"' not in plain.to_json()
    tagged = parse_action(
        with_topics("ua-012-26-1.toml", '["torture", "death-penalty"]'),
        source="a.toml",
        languages=("en", "de", "fr"),
        default_language="en",
    )
    assert tagged.topics == ("torture", "death-penalty")
    assert tagged.fingerprint != plain.fingerprint
    assert ActionRevision.from_json(tagged.to_json()) == tagged
    with pytest.raises(ActionFileError):
        parse_action(
            with_topics("ua-012-26-1.toml", '"torture"'),
            source="a.toml",
            languages=("en", "de", "fr"),
            default_language="en",
        )


async def test_the_close_preview_counts_whom_the_closure_reaches(
    emulator: Emulator, bot: Any
) -> None:
    """The closure reaches the followers of its topics, country or regions, and whoever
    opened the case or wrote for it: the preview counts those, as the upload preview does."""
    storage = bot.bot_data.storage
    everything = await subscriber(emulator, 401, "en")
    torture = await subscriber(emulator, 402, "en")
    kazakhstan = await subscriber(emulator, 403, "en")
    opener = await subscriber(emulator, 404, "en")  # follows torture, but opened the case
    await storage.selections.add_many(
        [(402, "topic", "torture"), (403, "country", "KZ"), (404, "topic", "torture")]
    )
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    await admin.upload(
        "ua-013-26-1.toml",
        with_topics("ua-013-26-1.toml", '["death-penalty"]'),
        "application/toml",
    )
    preview = await admin.receive()
    assert "It will reach 1 subscriber of 4." in preview.text
    assert "Delivered: 1" in await published(admin, preview)
    await opener.send("/start ua-013-26")
    assert "UA 013/26" in (await opener.receive()).text

    await admin.send("/close UA 013/26")
    await admin.receive()
    await admin.send("They were acquitted.")
    await admin.tap(await admin.receive(), "⏭ Skip")
    await admin.tap(await admin.receive(), "🟢 Good outcome")
    preview = await admin.receive()
    assert "Close UA 013/26?" in preview.text
    assert "It will reach 2 subscribers of 4." in preview.text
    await admin.tap(preview, "✅ Close the case")
    while "Broadcast finished" not in (report := (await admin.receive(timeout=10)).text):
        pass
    assert "Delivered: 2" in report
    assert len(cards(everything, "Case closed")) == len(cards(opener, "Case closed")) == 1
    assert cards(torture, "Case closed") == cards(kazakhstan, "Case closed") == []


async def test_a_double_tap_or_an_older_menu_does_not_undo_a_choice(
    emulator: Emulator, bot: Any
) -> None:
    """Each button says what it does (follow or stop): two taps at once, or a tap in an
    older /topics message that still shows the topic unticked, leave it followed."""
    import asyncio

    storage = bot.bot_data.storage
    user = await subscriber(emulator, 501, "en")
    old = (await topics_menu(user)).message_id
    await tap_until(emulator, user, old, "🏷 Topics", "Torture")
    new = (await topics_menu(user)).message_id
    await tap_until(emulator, user, new, "🏷 Topics", "Torture")

    await asyncio.gather(user.tap(new, "Torture"), user.tap(new, "Torture"))
    await emulator.wait_until(lambda: "✓ Torture" in labels(current(user, new)))
    assert await storage.selections.get(501) == {("topic", "torture")}

    assert "Torture" in labels(current(user, old))  # unticked there: it means "follow"
    toast = await tap_until(emulator, user, old, "Torture", "✓ Torture")
    assert toast == "Following: Torture."
    assert await storage.selections.get(501) == {("topic", "torture")}

    # Ticked, it means "stop", twice over.
    await asyncio.gather(user.tap(new, "✓ Torture"), user.tap(new, "✓ Torture"))
    await emulator.wait_until(lambda: "Torture" in labels(current(user, new)))
    assert await storage.selections.get(501) == set()
    # A button from before the state was in the data does nothing but say it is stale.
    answer = await user.tap(new, "Torture", crafted="v1:follow-set:topic:torture:topics")
    assert answer.show_alert
    assert await storage.selections.get(501) == set()


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_a_summary_of_many_countries_counts_them(
    emulator: Emulator, bot: Any, language: str
) -> None:
    """Every country and region chosen: the summary counts them instead of naming 249
    countries (the message would near Telegram's 4,096 characters)."""
    from bot.actions import audience
    from bot.actions.model import TOPICS

    storage = bot.bot_data.storage
    user = await subscriber(emulator, 601, language)
    countries = sorted(audience.countries_in(audience.WORLD))
    regions = [code for code in audience._containment() if audience.is_region(code)]
    await storage.selections.add_many(
        [(601, "country", c) for c in countries]
        + [(601, "region", r) for r in regions]
        + [(601, "topic", t) for t in TOPICS]
    )
    menu = await topics_menu(user)
    counted = {
        "en": f"Countries: {len(countries)} chosen",
        "de": f"Länder: {len(countries)} ausgewählt",
        "fr": f"Pays\u00a0: {len(countries)} choisis",
    }[language]
    assert counted in menu.text
    assert len(menu.text) < 1500
    # A few are still named.
    await storage.selections.clear(601)
    await storage.selections.add_many([(601, "country", "KZ"), (601, "country", "AT")])
    menu = await topics_menu(user)
    assert {
        "en": "Countries: Austria, Kazakhstan",
        "de": "Länder: Kasachstan, Österreich",
        "fr": "Pays\u00a0: Autriche, Kazakhstan",
    }[language] in menu.text


async def test_a_paused_supporter_is_told_alerts_are_paused_first(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 701, "en")
    await user.send("/unsubscribe")
    await user.receive()
    menu = await topics_menu(user)
    first = menu.text.split("\n")[1]
    assert first.startswith("Alerts are paused"), menu.text
    assert "every new case reaches you" not in menu.text
    await user.send("/subscribe")
    await user.receive()
    menu = await topics_menu(user)
    assert "Alerts are paused" not in menu.text
    assert "every new case reaches you" in menu.text

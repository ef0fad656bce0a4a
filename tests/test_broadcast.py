"""Journeys: an admin publishes; every subscriber receives it, whatever Telegram does."""

from __future__ import annotations

import asyncio
from typing import Any

from journeys import ADMIN_ID, publish, subscriber, upload

from bot.emulator import Emulator, SimUser


async def subscribers(emulator: Emulator, codes: dict[int, str]) -> dict[int, SimUser]:
    return {uid: await subscriber(emulator, uid, code) for uid, code in codes.items()}


async def admin_of(emulator: Emulator) -> SimUser:
    return await subscriber(emulator, ADMIN_ID, "en")


async def test_a_new_action_reaches_every_subscriber_in_their_language(
    emulator: Emulator, bot: Any
) -> None:
    users = await subscribers(emulator, {1: "en-GB", 2: "de-CH", 3: "fr-BE", 4: "it"})
    admin = await admin_of(emulator)

    preview = await upload(admin, "ua-012-26-1.toml")
    assert "New case UA 012/26" in preview.text
    assert "Texts: English, German, French" in preview.text
    assert "It will reach 5 subscribers." in preview.text
    assert "Journalist detained for reporting on detention centres" in preview.text
    assert [b.text for b in preview.buttons[0]] == ["📣 Publish", "🗑 Discard"]

    await admin.tap(preview, "📣 Publish")
    titles = {
        1: "Journalist detained for reporting on detention centres",
        2: "Journalistin nach Recherchen über Haftzentren inhaftiert",
        3: "Une journaliste détenue pour avoir enquêté sur des centres de rétention",
        4: "Journalist detained for reporting on detention centres",
    }
    for uid, user in users.items():
        card = await user.receive()
        assert titles[uid] in card.text
        assert ("AU 012/26" if uid == 3 else "UA 012/26") in card.text  # fr: action urgente
        assert len(card.buttons) == 2 and len(card.buttons[0]) == 2
        assert "not available in your language" not in card.text
    german = users[2].messages[-1]
    assert "🆕 Neue Urgent Action" in german.text
    assert "3. März 2026" in german.text  # the deadline, babel-formatted
    assert "0 Briefe verschickt" in german.text
    assert "3 mars 2026" in users[3].messages[-1].text

    await admin.receive()  # the admin is a subscriber too: their own card
    report = await admin.receive()
    assert "Broadcast finished: UA 012/26" in report.text
    assert "Delivered: 5" in report.text
    assert "Unreachable: 0" in report.text


async def test_a_case_without_the_readers_language_comes_in_the_default_with_a_note(
    emulator: Emulator, bot: Any
) -> None:
    users = await subscribers(emulator, {1: "fr", 2: "de"})
    admin = await admin_of(emulator)
    await publish(admin, "ua-013-26-1.toml")  # English and German only
    french = await users[1].receive()
    assert "Climate activists fined for a peaceful sit-in" in french.text
    assert "anglais" in french.text  # "... ici en anglais."
    german = await users[2].receive()
    assert "Klimaaktivistinnen" in german.text
    assert "nicht in deiner Sprache" not in german.text


async def test_a_follow_up_reaches_everyone_with_what_is_new(emulator: Emulator, bot: Any) -> None:
    users = await subscribers(emulator, {1: "en", 2: "de", 3: "fr"})
    admin = await admin_of(emulator)
    await publish(admin, "ua-012-26-1.toml")
    for user in users.values():
        await user.receive()
    await admin.receive_many(2)  # card + report

    preview = await upload(admin, "ua-012-26-2.toml")
    assert "Follow-up 2 of case UA 012/26" in preview.text
    await admin.tap(preview, "📣 Publish")
    english = await users[1].receive()
    assert "🔄 Follow-up · FI 012/26-2" in english.text
    assert "What's new:" in english.text
    assert "Journalist's detention extended by two months" in english.text
    assert "Untersuchungshaft der Journalistin" in (await users[2].receive()).text
    assert "prolongée de deux mois" in (await users[3].receive()).text


async def test_a_blocked_user_is_marked_unreachable_and_the_broadcast_finishes(
    emulator: Emulator, bot: Any
) -> None:
    users = await subscribers(emulator, {1: "en", 2: "en", 3: "en"})
    admin = await admin_of(emulator)
    emulator.block(2)
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive()  # card
    report = await admin.receive()
    assert "Delivered: 3" in report.text and "Unreachable: 1" in report.text
    assert (await bot.bot_data.storage.users.get(2)).blocked
    assert await bot.bot_data.storage.users.count_reachable_subscribers() == 3
    assert not [m for m in users[2].messages if "UA 012/26" in m.text]

    # The next broadcast no longer counts them.
    preview = await upload(admin, "ua-013-26-1.toml")
    assert "It will reach 3 subscribers." in preview.text


async def test_telegrams_429_is_obeyed_and_nothing_is_lost(emulator: Emulator, bot: Any) -> None:
    users = await subscribers(emulator, dict.fromkeys(range(1, 31), "en"))
    admin = await admin_of(emulator)
    emulator.paid_rate_limit = 10  # the bot believes it may send 200/s
    await publish(admin, "ua-012-26-1.toml")
    await emulator.wait_until(
        lambda: any("Broadcast finished" in m.text for m in admin.messages), timeout=20
    )
    assert emulator.stats.too_many_requests > 0
    for user in users.values():
        cards = [m for m in user.messages if "UA 012/26" in m.text]
        assert len(cards) == 1, user.id
    assert "Delivered: 31" in admin.messages[-1].text


async def test_a_network_failure_is_retried_and_then_recorded(
    emulator: Emulator, bot: Any
) -> None:
    users = await subscribers(emulator, {1: "en", 2: "en"})
    admin = await admin_of(emulator)
    preview = await upload(admin, "ua-012-26-1.toml")
    emulator.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    await admin.tap(preview, "📣 Publish")
    await emulator.wait_until(
        lambda: any("Broadcast finished" in m.text for m in admin.messages), timeout=20
    )
    assert "Delivered: 3" in admin.messages[-1].text
    for user in users.values():
        assert len([m for m in user.messages if "UA 012/26" in m.text]) == 1


async def test_a_restart_mid_broadcast_delivers_the_rest_without_loss(
    emulator: Emulator, config: Any, restart: Any
) -> None:
    from dataclasses import replace

    slow = replace(config.broadcast, messages_per_second=20)
    ids = list(range(1, 61))
    async with restart(broadcast=slow) as app:
        in_flight = app.bot_data.broadcasts.workers
        users = {uid: await subscriber(emulator, uid, "en") for uid in ids}
        admin = await admin_of(emulator)
        await publish(admin, "ua-012-26-1.toml")
        await emulator.wait_until(
            lambda: sum(bool(u.messages[1:]) for u in users.values()) >= 15, timeout=10
        )
    delivered_before = sum(bool(u.messages[1:]) for u in users.values())
    assert delivered_before < len(ids), "the broadcast must still be running at the stop"

    async with restart(broadcast=slow):
        await emulator.wait_until(
            lambda: any("Broadcast finished" in m.text for m in admin.messages), timeout=20
        )
    cards = {
        uid: len([m for m in u.messages if "UA 012/26" in m.text]) for uid, u in users.items()
    }
    assert all(n >= 1 for n in cards.values()), "nobody is lost"
    # At most the requests in flight at the stop (one per worker) are sent twice.
    assert sum(cards.values()) - len(ids) <= in_flight


async def test_replies_overtake_a_running_broadcast(
    emulator: Emulator, config: Any, restart: Any
) -> None:
    from dataclasses import replace

    async with restart(broadcast=replace(config.broadcast, messages_per_second=5)) as app:
        users = {uid: await subscriber(emulator, uid, "en") for uid in range(1, 41)}
        admin = await admin_of(emulator)
        talker = await subscriber(emulator, 500, "en")
        await publish(admin, "ua-012-26-1.toml")
        await emulator.wait_until(lambda: any(u.messages[1:] for u in users.values()))
        await talker.send("/help")
        reply = await talker.receive(timeout=10)
        # User 500 is last in line for the card: the answer does not wait for the broadcast.
        assert "What I can do" in reply.text
        assert not [m for m in talker.messages if "UA 012/26" in m.text]
        assert any(not u.messages[1:] for u in users.values()), "the broadcast still runs"
        await app.bot_data.broadcasts.stop()


async def test_paused_users_are_skipped_and_new_ones_do_not_stall_it(
    emulator: Emulator, bot: Any
) -> None:
    users = await subscribers(emulator, {1: "en", 2: "en"})
    admin = await admin_of(emulator)
    await users[2].send("/unsubscribe")
    await users[2].receive()
    await publish(admin, "ua-012-26-1.toml")
    late = await subscriber(emulator, 3, "en")
    await emulator.wait_until(
        lambda: any("Broadcast finished" in m.text for m in admin.messages), timeout=10
    )
    assert "Delivered: 2" in admin.messages[-1].text  # user 1 and the admin
    assert not users[2].messages[2:]
    await asyncio.sleep(0)
    # Not pushed to them (their /start lists the open cases, the push is the card).
    assert not [m for m in late.messages if "New Urgent Action" in m.text]


async def test_deactivated_and_vanished_accounts_are_unreachable(
    emulator: Emulator, bot: Any
) -> None:
    await subscribers(emulator, {1: "en", 2: "en"})
    admin = await admin_of(emulator)
    emulator.deactivate(1)
    storage = bot.bot_data.storage
    await storage.users.subscribe(424242, "en")  # a chat Telegram does not know
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive()  # own card
    report = await admin.receive()
    assert "Delivered: 2" in report.text and "Unreachable: 2" in report.text
    assert (await storage.users.get(1)).blocked and (await storage.users.get(424242)).blocked


async def test_broadcasts_shows_the_progress_of_a_running_broadcast(
    emulator: Emulator, config: Any, restart: Any
) -> None:
    from dataclasses import replace

    async with restart(broadcast=replace(config.broadcast, messages_per_second=5)):
        await subscribers(emulator, dict.fromkeys(range(1, 31), "en"))
        admin = await admin_of(emulator)
        await publish(admin, "ua-012-26-1.toml")
        await emulator.wait_until(lambda: emulator.user(3).messages[1:])
        await admin.send("/broadcasts")
        progress = await admin.receive()
        while "Running broadcasts" not in progress.text:
            progress = await admin.receive()
        assert "UA 012/26:" in progress.text and "of 31 sent" in progress.text
        assert "min left" in progress.text

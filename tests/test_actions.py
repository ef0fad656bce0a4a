"""Journeys around action files: previews, refusals, /actions, cards, "read more", the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, publish, subscriber, upload

from bot.cli import main
from bot.emulator import Emulator


async def test_a_broken_file_lists_every_problem_with_its_key(
    emulator: Emulator, bot: Any
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    answer = await upload(admin, "broken.toml")
    assert "broken.toml has 13 problems:" in answer.text
    assert 'deadlne: unknown key "deadlne"; did you mean "deadline"?' in answer.text
    assert "issued: wrong type: got a string" in answer.text
    assert 'text.it: language "it" is not configured' in answer.text
    assert not answer.buttons
    assert await bot.bot_data.storage.revisions.latest("UA 12/2026") is None


async def test_a_file_that_is_not_toml_gets_a_hint(emulator: Emulator, bot: Any) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await admin.upload("photo.jpg", b"\xff\xd8\xff", mime_type="image/jpeg")
    assert "a .toml document" in (await admin.receive()).text
    await admin.upload("garbage.toml", b"\x00\x01 not toml [[[", mime_type="application/toml")
    assert "garbage.toml has" in (await admin.receive()).text


async def test_a_non_admins_upload_is_not_read(emulator: Emulator, bot: Any) -> None:
    user = await subscriber(emulator, 77, "de")
    await user.upload("ua.toml", (FIXTURES / "ua-012-26-1.toml").read_bytes())
    assert "Ich verstehe nur Befehle" in (await user.receive()).text
    assert await bot.bot_data.storage.revisions.latest("UA 012/26") is None
    assert emulator.stats.requests["getFile"] == 0


async def test_reimports_follow_the_revision_rules(
    emulator: Emulator, bot: Any, tmp_path: Path
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, "ua-012-26-2.toml")
    await admin.receive_many(2)  # own card + report

    same = await upload(admin, "ua-012-26-2.toml")
    assert "Nothing changed: revision 2 of UA 012/26 is already published." in same.text
    assert not same.buttons

    older = await upload(admin, "ua-012-26-1.toml")
    assert "UA 012/26 is already at revision 2; revision 1 is older." in older.text

    changed = (FIXTURES / "ua-012-26-2.toml").read_text().replace("2026-04-10", "2026-04-11")
    await admin.upload("changed.toml", changed.encode())
    answer = await admin.receive()
    assert "already stored with different content" in answer.text
    assert "next revision number, 3" in answer.text


async def test_discard_publishes_nothing(emulator: Emulator, bot: Any) -> None:
    reader = await subscriber(emulator, 5, "en")
    admin = await subscriber(emulator, ADMIN_ID, "en")
    preview = await upload(admin, "ua-013-26-1.toml")
    await admin.tap(preview, "🗑 Discard")
    await emulator.wait_until(lambda: "Discarded" in admin.messages[-1].text)
    assert await bot.bot_data.storage.revisions.latest("UA 013/26") is None
    await reader.expect_silence(0.3)
    assert not admin.messages[-1].buttons  # no Publish left to tap


async def test_actions_lists_open_cases_and_shows_cards_and_details(
    emulator: Emulator, bot: Any
) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    reader = await subscriber(emulator, 6, "de")
    await reader.send("/actions")
    assert "Gerade gibt es keine offenen Aktionen" in (await reader.receive()).text

    for name in ("ua-012-26-1.toml", "ua-013-26-1.toml"):
        await publish(admin, name)
        await reader.receive()  # the pushed card
        await admin.receive_many(2)  # the admin's own card and the report
    await reader.send("/actions")
    listing = await reader.receive()
    labels = [row[0].text for row in listing.buttons]
    assert labels[0].startswith("UA 013/26 · Klimaaktivist")  # newest first
    assert labels[1].startswith("UA 012/26 · Journalistin")
    assert all(len(label) <= 52 for label in labels)

    await reader.tap(listing, labels[1])
    card = await reader.receive()
    assert "Journalistin nach Recherchen über Haftzentren inhaftiert" in card.text
    await reader.tap(card, card.buttons[0][1].text)  # read more
    details = await reader.receive()
    assert "Nadia Berger, 34" in details.text
    assert "minister.justice@example.org" in details.text
    assert "Federal Prosecutor (copy)" in details.text


async def test_actions_paginates(emulator: Emulator, bot: Any, tmp_path: Path) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    template = (FIXTURES / "ua-013-26-1.toml").read_text()
    for number in range(20, 27):
        text = template.replace("UA 013/26", f"UA 0{number}/26")
        await admin.upload(f"ua-{number}.toml", text.encode())
        preview = await admin.receive()
        await admin.tap(preview, "📣 Publish")
        await admin.receive_many(2)
    await admin.send("/actions")
    listing = await admin.receive()
    assert "(page 1 of 2)" in listing.text
    assert len(listing.buttons) == 6 and [b.text for b in listing.buttons[-1]] == ["▶️"]
    await admin.tap(listing, "▶️")
    await emulator.wait_until(
        lambda: (
            "(page 2 of 2)" in admin.messages[-1].text
            or any("(page 2 of 2)" in m.text for m in admin.messages)
        )
    )
    page_two = next(m for m in admin.messages if m.message_id == listing.message_id)
    assert [b.text for b in page_two.buttons[-1]] == ["◀️"]
    assert len(page_two.buttons) == 3  # 2 cases + navigation


async def test_broadcasts_is_for_admins_only(emulator: Emulator, bot: Any) -> None:
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await admin.send("/broadcasts")
    assert "No broadcast is running." in (await admin.receive()).text
    user = await subscriber(emulator, 8, "en")
    await user.send("/broadcasts")
    assert "I don't know that command" in (await user.receive()).text


def test_uabot_check_exits_1_on_any_problem(capsys: pytest.CaptureFixture[str]) -> None:
    good = [str(FIXTURES / name) for name in ("ua-012-26-1.toml", "ua-013-26-1.toml")]
    assert main(["check", *good]) == 0
    assert "ok: UA 012/26" in capsys.readouterr().out
    assert main(["check", *good, str(FIXTURES / "broken.toml")]) == 1
    err = capsys.readouterr().err
    assert 'broken.toml: deadlne: unknown key "deadlne"' in err
    assert main(["check", "/nonexistent.toml"]) == 1


async def test_uabot_import_publish_is_delivered_by_the_running_bot(
    emulator: Emulator, config: Any, restart: Any, tmp_path: Path
) -> None:
    reader = emulator.user(11, first_name="R", language_code="fr")
    async with restart():
        await reader.send("/start")
        await reader.receive()
    config_file = tmp_path / "uabot.toml"
    config_file.write_text(
        f'[telegram]\ntoken = "1:a"\n[storage]\npath = "{config.storage.path}"\n', "utf-8"
    )
    args = ["import", "--config", str(config_file), "--publish"]
    assert await _in_thread(main, [*args, str(FIXTURES / "ua-012-26-1.toml")]) == 0
    async with restart():
        card = await reader.receive()
        assert "Une journaliste détenue" in card.text


async def _in_thread(func: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(func, *args)


async def test_admin_commands_show_only_in_admin_menus_and_refusals_are_logged(
    emulator: Emulator, bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def admin_menu() -> dict[str, str]:
        scope = {"type": "chat", "chat_id": ADMIN_ID}
        return dict(emulator.commands(language_code="de", scope=scope))

    public = dict(emulator.commands(language_code="de"))
    assert "broadcasts" not in public
    # The admin had never opened the bot when it started: Telegram refused the chat's menu
    # ("chat not found"), which did not stop the start; it is set when the admin first writes.
    assert admin_menu() == {} and bot.bot_data.admin_menus_waiting == {ADMIN_ID}
    await subscriber(emulator, ADMIN_ID, "en")
    assert "broadcasts" in admin_menu() and set(public) < set(admin_menu())
    assert not bot.bot_data.admin_menus_waiting

    user = await subscriber(emulator, 12, "en")
    await user.send("/broadcasts")
    assert "I don't know that command" in (await user.receive()).text
    assert "refused admin command /broadcasts from user 12" in caplog.text

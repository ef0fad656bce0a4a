"""A writing session speaks to the group as a group (issue 17 review, rev17de/rev17fr): the
case label of the group's language in the heading, "ihr" in German, no thanks for no letters.

Time is compressed as in test_session_journeys.py (a session minute lasts a second).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from journeys import ADMIN_ID, FIXTURES, subscriber
from test_session_journeys import MINUTE, WAIT, current, published, started, wait

from bot.config import Config
from bot.emulator import Emulator, SimGroup, SimUser


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    emulator.set_group_limit(20, 60 * MINUTE / 60)
    return make_config(emulator, tmp_path / "uabot.sqlite3", sessions={"minute_seconds": MINUTE})


async def group_in(emulator: Emulator, language: str) -> tuple[SimGroup, SimUser]:
    """A group whose admin (and so the group) speaks ``language``, with the bot as admin."""
    admin = emulator.user(1, "Admin", language_code=language)
    members = [await subscriber(emulator, 2, language)]
    group = emulator.group("Local group", members=members, admins=[admin])
    group.add_bot(admin=True)
    await group.receive(timeout=WAIT)  # the bot introduces itself
    return group, admin


async def test_a_german_group_is_asked_to_write_as_ihr_and_not_thanked_for_nothing(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml")
    group, ada = await group_in(emulator, "de")
    message = await started(emulator, group, ada, "")
    assert "⏰ Bitte schreibt bis zum 3. März 2026." in message.text, message.text  # not "schreib"
    tap = "Tippt auf „✅ Ich habe ihn verschickt“, sobald euer Brief geschrieben ist"
    assert tap in message.text, message.text  # was "Tippe …, sobald dein Brief …"
    await group.send(ada, "/session_end")
    await wait(emulator, lambda: group.messages[-1].text.startswith("🙏"), "no thank-you")
    # was "🙏 0 Briefe in 1 Minute – danke!"
    assert group.messages[-1].text == "🙏 Schreibtreffen beendet – diesmal ohne Briefe."
    ended = current(group, message).text
    assert "danke" not in ended, ended


async def test_a_french_group_session_names_the_follow_up_as_the_card_does(
    emulator: Emulator, bot: Any
) -> None:
    await published(emulator, "ua-012-26-1.toml", "ua-012-26-2.toml")
    group, ada = await group_in(emulator, "fr")
    message = await started(emulator, group, ada, "AU 012/26")  # the label French readers see
    heading = message.text.splitlines()[0]
    assert heading == "✍️ Séance d’écriture · AU 012/26-2", heading  # was "… · FI 012/26-2"
    await group.send(ada, "/actions")
    await wait(emulator, lambda: group.messages[-1].text.startswith("Actions"), "no /actions")
    how = group.messages[-1].text.splitlines()[-1]
    assert how.endswith("l’une d’elles\u00a0: /session AU 012/26 60"), how  # was UA 046/19


async def test_a_closed_case_shows_the_french_outcome_typeset_when_french_is_the_default(
    emulator: Emulator, config: Config, restart: Any
) -> None:
    """The organisation writes in French (its default language) and gave no German outcome:
    the German group's session message shows the French one as the case card would, set in
    French typography (was the file's raw "2026 ; toutes")."""
    async with restart(i18n=replace(config.i18n, default_language="fr")):
        admin = emulator.user(ADMIN_ID, language_code="en")  # publishes in English
        await published(emulator, "ua-012-26-1.toml")
        group, ada = await group_in(emulator, "de")
        message = await started(emulator, group, ada, "")
        closure = (FIXTURES / "ua-012-26-3.toml").read_text(encoding="utf-8")
        german = 'outcome = "Am 3. März 2026 freigelassen'
        closure = "\n".join(line for line in closure.splitlines() if not line.startswith(german))
        await admin.upload("ua-012-26-3.toml", closure.encode(), mime_type="application/toml")
        await admin.tap(await admin.receive(timeout=WAIT), "📣 Publish")
        shown = "Libérée le 3 mars 2026\u202f; toutes les charges abandonnées."
        await wait(emulator, lambda: shown in current(group, message).text, "no typeset outcome")

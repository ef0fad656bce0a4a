"""One place per decision (issue 12): the language, the clock and the end of abandoned work are
decided once, the same way for replies and for jobs."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journeys import ADMIN_ID, FIXTURES, publish, subscriber, upload
from test_letters import reach_name_step

from bot.cli import main
from bot.emulator import Emulator
from bot.i18n import reader_language
from bot.services.scheduling import FEED_JOB, SWEEP_JOB


async def test_a_refused_feed_file_is_explained_in_the_admins_language(
    emulator: Emulator, restart: Any, config: Any, tmp_path: Path
) -> None:
    """The feed imports under no reader's locale; the refusal inside the notice must still be
    rendered in the admin's language, like the heading around it."""
    source = tmp_path / "feed"
    source.mkdir()
    original = (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8")
    (source / "a.toml").write_text(original, encoding="utf-8")
    # The same revision with other content: whichever comes second is refused by the import.
    (source / "b.toml").write_text(original.replace("placeholder street", "other street"))
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="en")
    async with restart(feed=replace(config.feed, source=str(source))) as app:
        await admin.send("/language")
        await admin.tap(await admin.receive(), "Deutsch")
        (job,) = app.job_queue.get_jobs_by_name(FEED_JOB)
        await job.run(app)
        messages = await admin.receive_many(2)
    problem = next(m for m in messages if "nicht importieren kann" in m.text)
    assert "bereits mit anderem Inhalt gespeichert" in problem.text, problem.text


async def test_the_final_report_speaks_the_language_the_admin_was_answered_in(
    emulator: Emulator, bot: Any
) -> None:
    """An admin who never sent /start is answered in Telegram's language; the broadcast's
    final report (a job: no language_code) must speak it too."""
    reader = emulator.user(7, first_name="R", language_code="fr")
    await reader.send("/start")
    await reader.receive()
    admin = emulator.user(ADMIN_ID, first_name="Admin", language_code="de")
    preview = await upload(admin, "ua-012-26-1.toml")
    assert "Neuer Fall" in preview.text  # German, from Telegram's language_code
    await admin.tap(preview, "📣 Veröffentlichen")
    await reader.receive()
    await emulator.wait_until(
        lambda: any("finished" in m.text or "abgeschlossen" in m.text for m in admin.messages[1:]),
        timeout=10,
    )
    report = admin.messages[-1].text
    assert "Broadcast finished" not in report, report
    assert "Rundsendung abgeschlossen" in report, report


async def test_a_removed_language_falls_back_alike_in_replies_and_in_jobs(
    emulator: Emulator, restart: Any, config: Any
) -> None:
    """A subscriber whose stored language was taken out of i18n.languages: replies (which
    know Telegram's language_code) and jobs (which do not) must agree on the fallback."""
    user = emulator.user(64, first_name="F", language_code="de")
    async with restart():
        await user.send("/start")
        await user.receive()
        await user.send("/language")
        await user.tap(await user.receive(), "Français")
    only = replace(config.i18n, languages=("en", "de"), default_language="en")
    async with restart(i18n=only) as app:
        stored = await app.bot_data.storage.users.get(64)
        assert stored is not None and stored.language == "fr"
        in_jobs = reader_language(app.bot_data.config.i18n, stored.language)
        await user.send("/help")
        answer = (await user.receive()).text
    assert in_jobs == "en"
    assert "Was ich kann" not in answer, answer  # German, from language_code: not the job's


async def test_a_draft_swept_after_the_load_ends_like_one_dropped_at_the_load(
    emulator: Emulator, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft loaded fresh has no timeout job; when it goes stale later, the sweep ends the
    letter's conversation too, as the load does: the next text is no wizard step."""
    async with restart():
        user = await subscriber(emulator, 63, "en")
        await reach_name_step(emulator, user)
    real_time = time.time
    async with restart() as app:  # loaded fresh: no timeout job any more
        assert "letter" in app.user_data.get(63, {})
        monkeypatch.setattr(time, "time", lambda: real_time() + 30 * 60 + 60)
        (sweep,) = app.job_queue.get_jobs_by_name(SWEEP_JOB)
        await sweep.run(app)
        assert "letter" not in app.user_data[63]
        await user.send("Bern")  # as after a draft dropped at load: the letter is over
        answer = (await user.receive()).text
    assert "I only understand commands" in answer, answer
    async with restart() as app:  # and the conversation's end reached the database
        await user.send("Bern")
        assert "I only understand commands" in (await user.receive()).text


async def test_the_sweep_ends_the_stale_letter_but_not_the_admins_other_dialogue(
    emulator: Emulator, restart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin with a stale letter draft who just began /announce keeps the announcement."""
    real_time = time.time
    async with restart():
        admin = await subscriber(emulator, ADMIN_ID, "en")
        await publish(admin, "ua-012-26-1.toml")
        # the card and the final report, in either order
        card = next(m for m in await admin.receive_many(2) if m.buttons)
        await admin.tap(card, card.buttons[0][0].text)
        await admin.tap(await admin.receive(), "✓ English")
        await admin.tap(await admin.receive(), "Minister of Justice")
        assert "name" in (await admin.receive()).text
    async with restart() as app:
        monkeypatch.setattr(time, "time", lambda: real_time() + 30 * 60 + 60)
        await admin.send("/announce")
        prompt = (await admin.receive()).text
        (sweep,) = app.job_queue.get_jobs_by_name(SWEEP_JOB)
        await sweep.run(app)
        assert "letter" not in app.user_data[ADMIN_ID]
        await admin.send("Meeting on Friday.")
        answer = first_answer = (await admin.receive()).text
        assert "I only understand commands" not in answer, (prompt, answer)
        # Again with a stale letter: now the load of the persisted data drops it.
        await admin.tap(card, card.buttons[0][0].text)
        await admin.tap(await admin.receive(), "✓ English")
        await admin.receive()
        assert "letter" in app.user_data[ADMIN_ID]
        monkeypatch.setattr(time, "time", lambda: real_time() + 2 * (30 * 60 + 60))
        await admin.send("/announce")
        assert (await admin.receive()).text == prompt
    async with restart() as app:
        assert "letter" not in app.user_data[ADMIN_ID]
        await admin.send("Meeting on Friday.")
        answer = (await admin.receive()).text
    assert "I only understand commands" not in answer, answer
    assert answer == first_answer


def test_the_command_line_speaks_the_configs_default_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`uabot check` and `uabot stats` print in one language: the config's default."""
    config_file = tmp_path / "uabot.toml"
    config_file.write_text(
        '[telegram]\ntoken = "1:a"\n[i18n]\nlanguages = ["en", "de"]\ndefault_language = "de"\n',
        "utf-8",
    )
    assert main(["check", "--config", str(config_file), str(FIXTURES / "broken.toml")]) == 1
    err = capsys.readouterr().err
    assert 'unbekannter Schlüssel „deadlne“' in err, err


async def test_handlers_date_by_the_one_clock_the_jobs_use(emulator: Emulator, bot: Any) -> None:
    """A closure and the export are dated by bot_data.today, as reminders are."""
    bot.bot_data.today = lambda: date(2030, 7, 14)
    admin = await subscriber(emulator, ADMIN_ID, "en")
    await publish(admin, "ua-012-26-1.toml")
    await admin.receive_many(2)  # the card and the report
    await admin.send("/close UA 012/26")
    await admin.receive()
    await admin.send("Nadia Berger was released.")
    await admin.tap(await admin.receive(), "⏭ Skip")
    await admin.tap(await admin.receive(), "⏭ Skip")
    await admin.tap(await admin.receive(), "🟡 Mixed outcome")
    preview = await admin.receive()
    assert "Closed on July 14, 2030." in preview.text, preview.text
    await admin.send("/export")
    await emulator.wait_until(lambda: admin.messages[-1].document is not None)
    assert admin.messages[-1].document.file_name == "uabot-letters-2030-07-14.csv"


async def test_an_uploaded_file_is_refused_in_the_admins_language(
    emulator: Emulator, bot: Any
) -> None:
    """The upload path renders the refusal where it is read: in the admin's language."""
    admin = await subscriber(emulator, ADMIN_ID, "de")
    await admin.tap(await upload(admin, "ua-012-26-1.toml"), "📣 Veröffentlichen")
    await admin.receive_many(2)  # the card and the report
    original = (FIXTURES / "ua-012-26-1.toml").read_text(encoding="utf-8")
    changed = original.replace("placeholder street", "other street").encode()
    await admin.upload("changed.toml", changed, mime_type="application/toml")
    refusal = (await admin.receive()).text
    assert "bereits mit anderem Inhalt gespeichert" in refusal, refusal

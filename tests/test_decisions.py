"""One place per decision (issue 12): the language, the clock and the end of abandoned work are
decided once, the same way for replies and for jobs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from journeys import ADMIN_ID, FIXTURES, upload

from bot.emulator import Emulator
from bot.i18n import reader_language
from bot.services.scheduling import FEED_JOB


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

"""One place per decision (issue 12): the language, the clock and the end of abandoned work are
decided once, the same way for replies and for jobs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from journeys import ADMIN_ID, FIXTURES

from bot.emulator import Emulator
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

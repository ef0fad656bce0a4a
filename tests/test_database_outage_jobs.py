"""The repeating jobs during a database outage (issue 16 §4, an operator's finding): one
warning a failed run instead of a traceback, one line when the database answers again; a
failure while the database answers stays a traceback (a bug)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from transitions import record

from bot.app import build_application, running
from bot.emulator import Emulator


async def test_a_job_run_while_the_database_is_down_is_one_warning_then_one_line_when_back(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    app = record(build_application(make_config(emulator, tmp_path / "bot.sqlite3")))
    async with running(app, poll_timeout=1):
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name("resume-broadcasts")
        engine = app.bot_data.broadcasts
        db = app.bot_data.storage.db

        async def down(*args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(engine, "resume_all", down)
        monkeypatch.setattr(db, "ping", down)
        caplog.clear()
        caplog.set_level(logging.INFO, logger="bot.app")
        for _ in range(2):
            await job.run(app)
        said = [r for r in caplog.records if "the database does not answer" in r.getMessage()]
        assert len(said) == 2 and all(r.levelno == logging.WARNING for r in said)
        assert not any(r.exc_info for r in caplog.records)

        monkeypatch.undo()
        await job.run(app)
        assert caplog.text.count("database answers again") == 1
        await job.run(app)
        assert caplog.text.count("database answers again") == 1

"""The work a stop may have to cut short: the running tasks of update handlers and of jobs.

PTB's stop waits for every handler and job to end, however long a call that Telegram does not
answer or a feed that trickles in takes, and keeps their tasks to itself. Two of its public
extension points let the bot see them: an update processor
(``ApplicationBuilder.concurrent_updates``) and a wrapper around each job callback it
schedules.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, TypeVar

from telegram.ext import SimpleUpdateProcessor

# PTB's number for ``concurrent_updates(True)``.
CONCURRENT_UPDATES = 256

C = TypeVar("C")


class Running:
    """The tasks of handlers and jobs now running."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    @contextmanager
    def tracked(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.tasks.discard(task)

    def job(
        self, callback: Callable[[C], Awaitable[Any]]
    ) -> Callable[[C], Coroutine[Any, Any, None]]:
        """``callback`` as a job callback whose run a stop can cancel."""

        @functools.wraps(callback)
        async def run(context: C) -> None:
            with self.tracked():
                await callback(context)

        return run


class TrackedUpdates(SimpleUpdateProcessor):
    """PTB's default processor for concurrent updates, with each update's task in ``running``."""

    def __init__(
        self,
        running: Running,
        max_concurrent_updates: int = CONCURRENT_UPDATES,
        *,
        handled: Callable[[object, float], None] | None = None,
        scope: Callable[[object], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.running = running
        self.handled = handled  # told each update and its handling time (bot.metrics)
        # Around each update's handling: its user's state across instances (bot.ptb.user_state).
        self.scope = scope

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.monotonic()
        try:
            with self.running.tracked():
                if self.scope is None:
                    await coroutine
                else:
                    async with self.scope(update):
                        await coroutine
        finally:
            if self.handled is not None:
                self.handled(update, time.monotonic() - started)

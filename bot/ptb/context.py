"""The typed callback context every handler receives.

Services are attributes of ``bot_data`` rather than dict entries, so a typo is an
AttributeError at the first test, not a KeyError in production. The reader's language is the
locale the update's first handler (group -1) set, read back through ``language``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ExtBot

from bot.config import Config
from bot.i18n import current_locale
from bot.metrics import Metrics, MetricsServer
from bot.ptb.tasks import Running
from bot.storage import SharedStorage, Storage

if TYPE_CHECKING:  # an annotation only: plumbing does not import the domain
    from bot.broadcast.engine import BroadcastEngine
    from bot.ptb.http import PollingRequest
    from bot.ptb.user_state import UserState
    from bot.services.sessions.pacing import EditPacer


class BotData:
    """Application-wide services: set by ``build_application`` and ``post_init``."""

    config: Config
    # Opened by PTB's persistence in initialize() or by post_init, whichever is first.
    shared_storage: SharedStorage
    storage: Storage
    broadcasts: BroadcastEngine
    # The edits of groups' session messages, within Telegram's per-group limit (one pacer
    # for the application: bot.services.sessions.live).
    session_pacer: EditPacer
    # One lock per running session: its message's edits go one at a time, in order.
    session_locks: dict[int, asyncio.Lock]
    # The handlers' and jobs' tasks now running: a stop cuts short those that outlast it.
    running: Running
    # A user's updates and jobs, alone and on fresh state, when instances share the database.
    user_state: UserState
    # This application's counters and registry (``[metrics]``; counted even when not served).
    metrics: Metrics
    metrics_server: MetricsServer | None = None  # [metrics] listen: /healthz and /metrics
    # The updater's start returned: updates are taken (the webhook server listens, or the
    # long poll runs); /healthz is not healthy before.
    serving: bool = False
    # Several instances (issue 16 §4): when this one last stood by (monotonic) while another
    # polls; /healthz takes it as a poll answered (a standby is healthy).
    standby_at: float | None = None
    # The long poll's backend (its ``failing_since``): a leader cut off from Telegram hands over.
    poller: PollingRequest | None = None
    # Admins who never opened the bot: Telegram refused their admin menu ("chat not found");
    # it is set when they first write (handlers/locale.py).
    admin_menus_waiting: set[int]
    # The one idea of today, for jobs and handlers alike (and `uabot check`, which reads the
    # class's); tests set a fixed clock (tests/conftest.py).
    today: Callable[[], date] = date.today


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the services and the update's language."""

    @property
    def language(self) -> str:
        """The reader's language: the locale set for this update (or job run), not a copy."""
        return current_locale.get()

    @property
    def config(self) -> Config:
        return self.bot_data.config

    @property
    def storage(self) -> Storage:
        return self.bot_data.storage

    @property
    def broadcasts(self) -> BroadcastEngine:
        return self.bot_data.broadcasts

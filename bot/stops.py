"""How ``uabot run`` stops: SIGINT or SIGTERM, from its first line to its last, one stop.

Python-level handlers (``signal.signal``), not the loop's ``add_signal_handler``: removing
those puts the defaults back (SIGTERM's kill, a KeyboardInterrupt) before SIG_IGN can follow,
and a signal in between, in any thread, ended the process mid-stop. Here each change of
disposition is one call: caught (until the loop listens, a stop asked is remembered), then
ignored until the process exits.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_asked = False
_listener: Callable[[], object] | None = None


def _caught(signum: int, frame: FrameType | None) -> None:
    global _asked
    _asked = True
    if _listener is not None:
        _listener()


def catch() -> None:
    """From now on a stop signal is remembered, not Python's default (``uabot run``'s start:
    the config, the database, the loop not yet there)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _caught)


def listen(stop: Callable[[], object]) -> None:
    """Call ``stop`` (in the main thread, between two steps: it must only schedule) at each
    stop signal; at once if one came since ``catch``."""
    global _listener
    catch()
    _listener = stop
    if _asked:
        stop()


def asked() -> bool:
    """Whether a stop came since ``catch`` (a wait before the loop runs ends on it)."""
    return _asked


def ignore() -> None:
    """Until the process exits, a stop signal changes nothing."""
    global _asked, _listener
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    _asked, _listener = False, None

"""``python -m bot`` on a machine so loaded that a stop's last steps are far apart: each
change of a signal's disposition (``signal.signal``, also inside asyncio's
``remove_signal_handler``, which puts the default back) is followed by a pause.
tests/test_stop.py runs it to hit a window between two such changes every time, not once in a
while."""

from __future__ import annotations

import signal
import time

from bot.cli import main

_signal = signal.signal


def _slowly(sig: int, handler: signal._HANDLER) -> signal._HANDLER:
    previous = _signal(sig, handler)
    time.sleep(0.3)
    return previous


signal.signal = _slowly

raise SystemExit(main())

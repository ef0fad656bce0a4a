"""``python -m bot`` on a machine so loaded that a stop's last steps are far apart: each
``remove_signal_handler`` (which puts the signal's default back) is followed by a pause.
tests/test_stop.py runs it to hit that window every time, not once in a while."""

import asyncio.unix_events
import time

from bot.cli import main

_remove = asyncio.unix_events._UnixSelectorEventLoop.remove_signal_handler


def _slowly_removed(self: asyncio.unix_events._UnixSelectorEventLoop, sig: int) -> bool:
    removed = _remove(self, sig)
    time.sleep(0.3)
    return removed


asyncio.unix_events._UnixSelectorEventLoop.remove_signal_handler = _slowly_removed  # type: ignore[method-assign]

raise SystemExit(main())

"""Did-you-mean for mistyped names: one rule for config keys and action-file keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, or None when none is close (difflib's 0.6 ratio)."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None

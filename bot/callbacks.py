"""Callback data of every inline button, versioned and in one place.

``v1:<verb>:<arg>...`` fits Telegram's 64 bytes, and handlers match on ``pattern(verb)``, so
buttons left in users' chats keep working after an upgrade or fail into the stale-button answer.
"""

from __future__ import annotations

VERSION = "v1"
CASE_PREFIX = "UA "


def data(verb: str, *args: object) -> str:
    """Build callback data; raises if it would not fit Telegram's 64 bytes."""
    value = ":".join((VERSION, verb, *(str(arg) for arg in args)))
    if len(value.encode("utf-8")) > 64:
        raise ValueError(f"callback data too long: {value!r}")
    return value


def pattern(verb: str) -> str:
    """The regex matching every button of ``verb``."""
    return rf"^{VERSION}:{verb}(:|$)"


def args(callback_data: str) -> list[str]:
    """The arguments after ``v1:<verb>``."""
    return callback_data.split(":")[2:]


def case_ref(case: str) -> str:
    """``UA 046/19`` -> ``046/19`` (saves bytes in callback data)."""
    return case.removeprefix(CASE_PREFIX)


def case_from_ref(ref: str) -> str:
    return CASE_PREFIX + ref


def number(arg: str) -> int | None:
    """A button's numeric argument, or None: ``"²".isdigit()`` is true, yet int() refuses it,
    so crafted data must not reach int()."""
    return int(arg) if arg.isascii() and arg.isdigit() else None

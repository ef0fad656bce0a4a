"""Callback data of every inline button, versioned and in one registry.

``v1:<button>:<arg>...`` fits Telegram's 64 bytes. Each button is a ``Button`` below: its data
is built by ``Button.data`` and handlers match it only through ``Button.pattern`` (or ``any_of``),
so no code is written or split by hand elsewhere. Buttons still in users' chats from an older
release carry the short codes of then (``wl``, ``annok``...): each button lists them as
``legacy`` and its patterns match them too, so they keep working or fail into the stale-button
answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
CASE_PREFIX = "UA "
MAX_BYTES = 64  # Telegram's limit for callback_data

# Every regex a Button handed out: a test checks the app registers no other.
PATTERNS: set[str] = set()


@dataclass(frozen=True)
class Button:
    """One kind of inline button: its readable name and the codes older releases used."""

    name: str
    legacy: tuple[str, ...] = ()

    def data(self, *args: object) -> str:
        """Build callback data; raises if it would not fit Telegram's 64 bytes."""
        value = ":".join((VERSION, self.name, *(str(arg) for arg in args)))
        if len(value.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"callback data too long: {value!r}")
        return value

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.name, *self.legacy)

    def pattern(self, arity: int | None = None) -> str:
        """The regex matching this button (and its legacy codes); with ``arity``, only data
        with exactly that many arguments."""
        return any_of(self, arity=arity)

    def matches(self, callback_data: str | None) -> bool:
        return callback_data is not None and re.match(self.pattern(), callback_data) is not None

    def parse(
        self, callback_data: str | None, *kinds: type[int] | type[str], optional: int = 0
    ) -> Args | None:
        """This button's arguments, typed: ``kinds`` says how many and which are numbers, and
        up to ``optional`` text arguments may follow. None for data the bot never builds
        (another button, a wrong count, a number that is none): the caller answers "this
        button no longer works" instead of raising on crafted data."""
        if not self.matches(callback_data):
            return None
        values = tuple(args(callback_data))
        if not len(kinds) <= len(values) <= len(kinds) + optional:
            return None
        for kind, value in zip(kinds, values, strict=False):
            if not value or (kind is int and (number(value) is None or len(value) > 9)):
                return None
        return Args(values, len(kinds))


@dataclass(frozen=True)
class Args:
    """A button's checked arguments (``Button.parse``): positions given as ``int`` are numbers."""

    values: tuple[str, ...]
    required: int

    def text(self, index: int) -> str:
        return self.values[index]

    def integer(self, index: int) -> int:
        return int(self.values[index])  # checked by Button.parse

    @property
    def rest(self) -> tuple[str, ...]:
        """The optional arguments after the required ones."""
        return self.values[self.required :]


def any_of(*buttons: Button, arity: int | None = None) -> str:
    """One regex for several buttons (a handler that answers all of them)."""
    codes = "|".join(re.escape(code) for button in buttons for code in button.codes)
    tail = "(:|$)" if arity is None else "".join(r":[^:]+" for _ in range(arity)) + "$"
    value = rf"^{VERSION}:({codes}){tail}"
    PATTERNS.add(value)
    return value


def args(callback_data: str | None) -> list[str]:
    """The arguments after ``v1:<button>`` (none for missing data)."""
    return (callback_data or "").split(":")[2:]


def case_ref(case: str) -> str:
    """``UA 046/19`` -> ``046/19`` (saves bytes in callback data)."""
    return case.removeprefix(CASE_PREFIX)


def case_from_ref(ref: str) -> str:
    return CASE_PREFIX + ref


def number(arg: str) -> int | None:
    """A button's numeric argument, or None: ``"²".isdigit()`` is true, yet int() refuses it,
    so crafted data must not reach int()."""
    return int(arg) if arg.isascii() and arg.isdigit() else None


# The registry. Names are what a log or a test shows; keep them short (64 bytes in all).
# Action cards (bot/actions/render.py).
WRITE = Button("write")
MORE = Button("more")
SENT = Button("sent")
CARD = Button("card")
PUBLISH = Button("publish", legacy=("pub",))
DISCARD = Button("discard")
ACTIONS_PAGE = Button("actions")
ARCHIVE_PAGE = Button("archive")  # handlers/archive.py: v1:archive:<page>
# Settings (handlers/onboarding.py): "language" alone opens the picker, with a code sets it.
LANGUAGE = Button("language", legacy=("lang",))
ALERTS = Button("alerts")
FORGET = Button("forget")
# handlers/groups.py: a group admin picks the group's language (v1:group-lang:<code>).
GROUP_LANGUAGE = Button("group-lang")
# What reaches a supporter (handlers/topics.py): "follow" alone opens the menu in a new message,
# "follow:<view>[:<arg>:<page>]" shows a view in place;
# "follow-set:<kind>:<code>:<on|off>:<view>..." follows or unfollows (the state wanted, so a
# double tap changes nothing), then shows that view again (older data without on|off is stale);
# "follow-all" forgets the choice.
FOLLOW = Button("follow")
FOLLOW_SET = Button("follow-set")
FOLLOW_ALL = Button("follow-all")
# The letter wizard (handlers/letters.py): v1:<button>:<case>:<revision>:<step>[:<arg>].
LETTER_LANGUAGE = Button("letter-lang", legacy=("wl",))
LETTER_ADDRESSEE = Button("letter-addressee", legacy=("wa",))
LETTER_INITIALS = Button("letter-initials", legacy=("wi",))
LETTER_SKIP = Button("letter-skip", legacy=("wskip",))
LETTER_REVIEW = Button("letter-review", legacy=("wr",))
LETTER_EDIT = Button("letter-edit", legacy=("we",))
# Admins' conversations (handlers/collect.py, announce.py, closing.py).
SKIP_LANGUAGE = Button("skip-lang", legacy=("skiplang",))
ANNOUNCE_SEND = Button("announce-send", legacy=("annok",))
ANNOUNCE_CANCEL = Button("announce-cancel", legacy=("annno",))
CLOSE_CONFIRM = Button("close-confirm", legacy=("closeok",))
CLOSE_CANCEL = Button("close-cancel", legacy=("closeno",))
CLOSE_OUTCOME = Button("close-outcome")  # v1:close-outcome:<good|mixed|bad>
# A group's writing session (handlers/sessions.py): "✅ I sent it" under the session message,
# v1:session-sent:<session id>.
SESSION_SENT = Button("session-sent")

BUTTONS: tuple[Button, ...] = tuple(v for v in globals().values() if isinstance(v, Button))

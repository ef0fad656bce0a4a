"""The button registry (bot/ptb/callbacks.py): every registered pattern comes from it, every
button's data survives build -> match -> parse within 64 bytes, and a button left in a chat by
the previous release (short codes such as ``wl``) still works."""

from __future__ import annotations

import re
from typing import Any

import pytest
from journeys import subscriber
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler
from test_wizard import card_of

from bot.emulator import Emulator
from bot.ptb import callbacks

# The longest arguments each button carries: a case number of a long year-and-suffix form,
# a six-digit revision, a three-digit step, the longest argument the bot writes after them.
CASE = callbacks.case_ref("UA 1234/2026-12")
LONGEST: dict[callbacks.Button, tuple[object, ...]] = {
    callbacks.WRITE: (CASE, 999999),
    callbacks.MORE: (CASE, 999999),
    callbacks.SENT: (CASE, 999999, "fil", 999999999),  # under a letter begun for a session
    callbacks.CARD: (CASE,),
    callbacks.PUBLISH: (CASE, 999999),
    callbacks.DISCARD: (CASE, 999999),
    callbacks.ACTIONS_PAGE: (9999,),
    callbacks.ARCHIVE_PAGE: (9999,),
    callbacks.LANGUAGE: ("fil",),
    callbacks.ALERTS: ("off",),
    callbacks.FORGET: ("yes",),
    callbacks.GROUP_LANGUAGE: ("fil",),
    # /topics: the longest view (a subregion's page) and the longest topic code.
    callbacks.FOLLOW: ("area", "029", 99),
    callbacks.FOLLOW_SET: ("topic", "enforced-disappearance", "area", "029", 99),
    callbacks.FOLLOW_ALL: (),
    callbacks.LETTER_LANGUAGE: (CASE, 999999, 999, "fil"),
    callbacks.LETTER_ADDRESSEE: (CASE, 999999, 999, 99),
    callbacks.LETTER_INITIALS: (CASE, 999999, 999),
    callbacks.LETTER_SKIP: (CASE, 999999, 999, "personal"),
    callbacks.LETTER_REVIEW: (CASE, 999999, 999, "remember"),
    callbacks.LETTER_EDIT: (CASE, 999999, 999, "personal"),
    callbacks.SKIP_LANGUAGE: (),
    callbacks.ANNOUNCE_SEND: (),
    callbacks.ANNOUNCE_CANCEL: (),
    callbacks.CLOSE_CONFIRM: (),
    callbacks.CLOSE_CANCEL: (),
    callbacks.CLOSE_OUTCOME: ("mixed",),
    callbacks.SESSION_SENT: (999999999,),  # a session's id: Button.parse takes 9 digits
}


def _callback_handlers(handlers: list[BaseHandler[Any, Any, Any]]) -> list[CallbackQueryHandler]:
    found: list[CallbackQueryHandler] = []
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            nested = [*handler.entry_points, *handler.fallbacks]
            for state in handler.states.values():
                nested.extend(state)
            found.extend(_callback_handlers(nested))
        elif isinstance(handler, CallbackQueryHandler):
            found.append(handler)
    return found


def _patterns(app: Any) -> list[str]:
    """The regex of every button handler; the one without is the catch-all stale answer."""
    handlers = _callback_handlers([h for group in app.handlers.values() for h in group])
    catch_all = [h for h in handlers if h.pattern is None]
    assert [h.callback.__qualname__ for h in catch_all] == ["stale_button"]
    return [h.pattern.pattern for h in handlers if isinstance(h.pattern, re.Pattern)]


def test_every_button_is_in_the_table_above() -> None:
    assert set(LONGEST) == set(callbacks.BUTTONS)
    assert len({button.name for button in callbacks.BUTTONS}) == len(callbacks.BUTTONS)


async def test_every_registered_pattern_comes_from_the_registry(bot: Any) -> None:
    patterns = _patterns(bot)
    assert len(patterns) >= len(callbacks.BUTTONS)  # the walk found the conversations' too
    assert [p for p in patterns if p not in callbacks.PATTERNS] == []


@pytest.mark.parametrize("button", callbacks.BUTTONS, ids=lambda b: b.name)
async def test_a_button_round_trips_within_64_bytes(button: callbacks.Button, bot: Any) -> None:
    args = LONGEST[button]
    data = button.data(*args)
    assert len(data.encode("utf-8")) <= 64
    assert button.matches(data)
    assert [other for other in callbacks.BUTTONS if other.matches(data)] == [button]
    assert callbacks.args(data) == [str(arg) for arg in args]
    # Some handler of the running app takes it, and so the old release's codes of it.
    assert any(re.match(p, data) for p in _patterns(bot)), data
    for code in button.legacy:
        old = ":".join((callbacks.VERSION, code, *map(str, args)))
        assert button.matches(old) and callbacks.args(old) == callbacks.args(data)


def test_data_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        callbacks.LETTER_REVIEW.data("x" * 40, 1, 1, "remember")


async def test_a_language_button_of_the_previous_release_still_picks_the_language(
    emulator: Emulator, bot: Any
) -> None:
    user = await subscriber(emulator, 81, "en")
    card = await card_of(emulator, user)
    await user.tap(card, "✍️ Write a letter")
    prompt = await user.receive()
    button = prompt.find_button("Deutsch")
    assert button is not None and button.callback_data is not None
    assert button.callback_data.startswith("v1:letter-lang:")
    old = button.callback_data.replace("v1:letter-lang:", "v1:wl:")  # as 0.x wrote it
    await user.tap(prompt, "Deutsch", crafted=old)
    await emulator.wait_until(
        lambda: user.chat.by_id[prompt.message_id].text == "Language: Deutsch ✓"
    )
    assert "To whom do you want to write?" in (await user.receive()).text


@pytest.mark.parametrize(
    ("button", "crafted"),
    [
        ("📖 Read more", "v1:actions:x"),  # a page that is no number
        ("📖 Read more", "v1:actions:²"),  # "²".isdigit(), yet int() refuses it
        ("📖 Read more", "v1:more"),  # no case
        ("📖 Read more", "v1:card"),
        ("✍️ Write a letter", "v1:write"),
        ("✍️ Write a letter", "v1:write:046/19:x"),  # a revision that is no number
        ("✅ I sent it", "v1:sent:046/19:²"),
    ],
)
async def test_crafted_button_data_gets_this_button_no_longer_works(
    emulator: Emulator, bot: Any, button: str, crafted: str
) -> None:
    """Each button's arguments are read by ``Button.parse`` (arity and numbers checked): data
    a modified client makes up is answered politely, not with an error."""
    user = await subscriber(emulator, 82, "en")
    card = await card_of(emulator, user)
    answer = await user.tap(card, button, crafted=crafted)
    assert answer.text is not None
    assert "no longer" in answer.text, answer.text

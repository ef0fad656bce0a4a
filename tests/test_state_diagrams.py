"""Each conversation of the running bot has a Mermaid state diagram beside its module, naming
exactly the states its handler has: a state added, renamed or dropped in one but not the other
fails here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from telegram.ext import ConversationHandler

# "A --> B" or "A --> B: label"; [*] is the start or the end, not a state.
_TRANSITION = re.compile(r"^\s*(\S+)\s*-->\s*([^\s:]+)")


def diagram_states(path: Path) -> set[str]:
    """The state names a diagram's transitions mention (comments and [*] left out)."""
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("%%"):
            continue
        if match := _TRANSITION.match(line):
            names.update(match.groups())
    names.discard("[*]")
    return names


def _conversations(app: Any) -> list[ConversationHandler]:
    return [
        handler
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler)
    ]


def _module_of(conversation: ConversationHandler) -> str:
    """The handlers module that defines the conversation: where its entry callbacks live."""
    modules = {
        entry.callback.__module__
        for entry in conversation.entry_points
        if entry.callback.__module__.startswith("handlers.")
        and entry.callback.__module__ != "handlers.conversations"
    }
    assert len(modules) == 1, f"{conversation.name}: entry points in {modules}"
    return modules.pop()


async def test_every_conversation_has_a_diagram_naming_its_states(bot: Any) -> None:
    conversations = _conversations(bot)
    assert {c.name for c in conversations} >= {"letter", "announce", "close"}
    for conversation in conversations:
        module = importlib.import_module(_module_of(conversation))
        diagram = Path(module.__file__ or "").with_suffix(".mmd")
        assert diagram.is_file(), f"{conversation.name}: no state diagram {diagram.name}"
        drawn = diagram_states(diagram)
        assert drawn, f"{diagram.name} draws no states"
        unknown = {name for name in drawn if not isinstance(getattr(module, name, None), int)}
        assert not unknown, f"{diagram.name} draws {unknown}, not states of {module.__name__}"
        states = set(conversation.states) - {ConversationHandler.TIMEOUT}
        by_value = {getattr(module, name): name for name in drawn}
        assert len(by_value) == len(drawn), f"{diagram.name}: two names for one state"
        missing = {state for state in states if state not in by_value}
        assert not missing, f"{diagram.name} lacks the states numbered {missing}"
        assert set(by_value) == states, f"{diagram.name} draws states the handler lacks"


def test_the_diagram_parser_reads_transitions_not_comments(tmp_path: Path) -> None:
    diagram = tmp_path / "x.mmd"
    diagram.write_text(
        "%% A --> COMMENTED\nstateDiagram-v2\n    [*] --> ONE: start\n    ONE --> TWO\n"
        "    TWO --> [*]: done: really\n",
        encoding="utf-8",
    )
    assert diagram_states(diagram) == {"ONE", "TWO"}

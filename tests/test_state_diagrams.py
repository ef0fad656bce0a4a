"""Each conversation of the running bot has a Mermaid state diagram beside its module, naming
exactly the states its handler has and drawing every transition the journey tests take: a
state added, renamed or dropped, or a way between states that the diagram does not show, fails
here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ConversationHandler
from transitions import END, RECORDED, TAKEN, conversations, module_of, state_names

# "A --> B" or "A --> B: label"; [*] is the start or the end, not a state.
_TRANSITION = re.compile(r"^\s*(\S+)\s*-->\s*([^\s:]+)")
# "state NAME" (alone or with a description) and "note left of NAME" also name a state.
_DECLARED = re.compile(r"^\s*state\s+(?:\"[^\"]*\"\s+as\s+)?([A-Za-z_]\w*)")
_NOTE = re.compile(r"^\s*note\s+(?:left|right)\s+of\s+([A-Za-z_]\w*)")


def _lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("%%")
    ]


def diagram_edges(path: Path) -> set[tuple[str, str]]:
    """The (from, to) arrows a diagram draws ([*] for the start and the end)."""
    return {(m.group(1), m.group(2)) for line in _lines(path) if (m := _TRANSITION.match(line))}


def diagram_states(path: Path) -> set[str]:
    """The state names a diagram mentions: in arrows, ``state`` declarations and notes."""
    names = {name for edge in diagram_edges(path) for name in edge}
    for line in _lines(path):
        if match := _DECLARED.match(line) or _NOTE.match(line):
            names.add(match.group(1))
    names.discard(END)
    return names


def _diagram_of(conversation: ConversationHandler) -> tuple[Any, Path]:
    module = importlib.import_module(module_of(conversation))
    return module, Path(module.__file__ or "").with_suffix(".mmd")


async def test_every_conversation_has_a_diagram_naming_its_states(bot: Any) -> None:
    found = conversations(bot)
    assert {c.name for c in found} >= {"letter", "announce", "close"}
    for conversation in found:
        module, diagram = _diagram_of(conversation)
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
        starts = {to for start, to in diagram_edges(diagram) if start == END}
        assert starts, f"{diagram.name} draws no way in"
        ends = {start for start, to in diagram_edges(diagram) if to == END}
        assert ends >= set(drawn), (
            f"{diagram.name}: no way out (/cancel, timeout) of {drawn - ends}"
        )


@pytest.mark.after_journeys
async def test_every_transition_the_journeys_take_is_drawn(bot: Any) -> None:
    """Runs after every other test (tests/conftest.py): the journeys recorded what they took."""
    journeys = {name for name, _, _ in TAKEN}
    if not journeys:
        pytest.skip("no journey test ran in this session: nothing was recorded")
    assert {"letter", "announce", "close"} <= RECORDED
    undrawn = []
    for conversation in conversations(bot):
        _, diagram = _diagram_of(conversation)
        edges = diagram_edges(diagram)
        real = {*state_names(conversation).values(), END}
        assert {name for edge in edges for name in edge} <= real
        for name, start, to in sorted(TAKEN):
            if name == conversation.name and (start, to) not in edges:
                undrawn.append(f"{diagram.name}: {start} --> {to}")
    assert undrawn == [], "taken but not drawn:\n" + "\n".join(undrawn)


def test_the_diagram_parser_reads_transitions_declarations_and_notes(tmp_path: Path) -> None:
    diagram = tmp_path / "x.mmd"
    diagram.write_text(
        "%% A --> COMMENTED\nstateDiagram-v2\n    state LONELY\n    [*] --> ONE: start\n"
        "    ONE --> TWO\n    TWO --> [*]: done: really\n    note right of NOTED: why\n",
        encoding="utf-8",
    )
    assert diagram_states(diagram) == {"ONE", "TWO", "LONELY", "NOTED"}
    assert diagram_edges(diagram) == {(END, "ONE"), ("ONE", "TWO"), ("TWO", END)}

"""Urgent Action files: the domain model of a case revision and the file parser."""

from bot.actions.model import ActionRevision, Addressee, CaseText, LetterTemplate
from bot.actions.parse import ActionFileError, Problem, parse_action

__all__ = [
    "ActionFileError",
    "ActionRevision",
    "Addressee",
    "CaseText",
    "LetterTemplate",
    "Problem",
    "parse_action",
]

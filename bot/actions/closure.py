"""Closing a case from the chat: the closure becomes the case's next revision.

So a closure typed with /close and one imported from an action file with ``status =
"closed"`` take the same path: import as a draft, publish, broadcast.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.actions.model import OUTCOME_MAX, STATUS_CLOSED, ActionRevision


def closing_revision(latest: ActionRevision, outcomes: dict[str, str], on: date) -> ActionRevision:
    """``latest`` closed on ``on`` with the outcome texts given per language."""
    texts = {
        language: replace(text, update=None, outcome=outcomes.get(language))
        for language, text in latest.texts.items()
    }
    return replace(
        latest,
        revision=latest.revision + 1,
        issued=max(on, latest.issued),
        deadline=None,
        status=STATUS_CLOSED,
        closed_on=max(on, latest.issued),
        texts=texts,
    )


__all__ = ["OUTCOME_MAX", "closing_revision"]

"""Closing a case from the chat: the closure becomes the case's next revision.

So a closure typed with /close and one imported from an action file with ``status =
"closed"`` take the same path: import as a draft, publish, broadcast.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.actions.model import OUTCOME_MAX, OUTCOMES, STATUS_CLOSED, ActionRevision


def closing_revision(
    latest: ActionRevision, outcomes: dict[str, str], on: date, kind: str | None = None
) -> ActionRevision:
    """``latest`` closed on ``on`` with the outcome texts given per language and the outcome
    ``kind`` (good, mixed or bad).

    The open case's summary ("…has not been allowed to see her lawyer") stays in the
    revision (every text has one, within ``SUMMARY_MAX``) but is no longer true of a closed
    case: a closure's card shows the outcome in its place (``render.card_text``).
    """
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
        outcome=kind,
    )


__all__ = ["OUTCOMES", "OUTCOME_MAX", "closing_revision"]

"""Where a case belongs once its deadline passed: /actions, "recently expired", or the archive.

One place for the rule, so /actions, /archive and the tests agree: an open case stays in
/actions until its deadline, then ``expired_days`` (``actions.expired_days``) more days under
"recently expired" (letters still help now and then; the wizard adds a note), and after that
only in the archive, next to the closed cases. "Passed" itself is
``ActionRevision.deadline_passed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.actions.model import ActionRevision
from bot.storage import Storage


@dataclass(frozen=True)
class Listing:
    """The open cases as /actions shows them: in time first, then the recently expired."""

    current: list[ActionRevision] = field(default_factory=list)
    recent: list[ActionRevision] = field(default_factory=list)

    @property
    def all(self) -> list[ActionRevision]:
        return self.current + self.recent


def recently_expired(revision: ActionRevision, today: date, expired_days: int) -> bool:
    """Past its deadline by at most ``expired_days`` days: still listed, marked expired."""
    return (
        revision.deadline_passed(today)
        and revision.deadline is not None
        and today - revision.deadline <= timedelta(days=expired_days)
    )


def archived(revision: ActionRevision, today: date, expired_days: int) -> bool:
    """Closed, or expired longer ago than ``expired_days``: found only in /archive."""
    return revision.is_closed or (
        revision.deadline_passed(today) and not recently_expired(revision, today, expired_days)
    )


def ended_on(revision: ActionRevision) -> date:
    """When an archived case ended: its closing day, else its deadline (archive order)."""
    if revision.is_closed:
        return revision.closed_on or revision.issued
    return revision.deadline or revision.issued


def listing(revisions: Iterable[ActionRevision], today: date, expired_days: int) -> Listing:
    """Split open cases (in the order given, newest first) for /actions; archived ones drop."""
    found = Listing()
    for revision in revisions:
        if revision.is_closed or archived(revision, today, expired_days):
            continue
        if recently_expired(revision, today, expired_days):
            found.recent.append(revision)
        else:
            found.current.append(revision)
    return found


async def listed(storage: Storage, today: date, expired_days: int) -> Listing:
    """The published open cases as /actions lists them: the one reading for /actions, a new
    subscriber's newest cases and inline mode, so all three offer the same cases."""
    stored = await storage.revisions.published_cases(status="open")
    return listing(
        (ActionRevision.from_json(item.content) for item in stored), today, expired_days
    )

"""Importing a revision: classify it against what is stored, keep it as a draft, publish it.

The same path serves the admin's upload, /close (a closing revision), ``uabot import`` and
the feed, so the rules about revisions live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.actions.audience import audience
from bot.actions.labels import case_label
from bot.actions.model import REVISION_MAX, ActionRevision, revision_label
from bot.i18n import gettext as _
from bot.storage import Storage


class ImportKind(Enum):
    NEW = "new"
    FOLLOW_UP = "follow-up"
    CLOSURE = "closure"
    UNCHANGED = "unchanged"


class ImportRefused(Exception):
    """The revision contradicts what is stored; ``str()`` says why, in the current locale.

    The message is rendered when read, not when raised: the feed imports under no reader's
    locale, and its notice is rendered once per admin, each in their own language.
    """

    def __init__(self, render: Callable[[], str], *, retry_later: bool = False) -> None:
        super().__init__()
        self.render = render
        # True when the refusal can lift by itself (an earlier draft awaits Publish/Discard).
        self.retry_later = retry_later

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class ImportResult:
    kind: ImportKind
    revision: ActionRevision
    published: bool  # for UNCHANGED: whether the stored twin was already published


async def import_revision(
    storage: Storage, revision: ActionRevision, *, by: int | None
) -> ImportResult:
    """Store ``revision`` as a draft, or say why it is refused or changes nothing.

    ``by`` is the admin's Telegram id for the audit trail (None: no admin, as for the
    command line and the feed).
    """
    if not 1 <= revision.revision <= REVISION_MAX:
        # The parser bounds files; this guards the other makers of revisions (a closure of a
        # case at the last number, a script), as SQLite would raise OverflowError past 2**63.
        raise ImportRefused(
            lambda: _("{case} cannot take revision {new}: revisions go from 1 to {limit}.").format(
                case=case_label(revision.case), new=revision.revision, limit=REVISION_MAX
            )
        )
    async with storage.db.transaction():
        latest = await storage.revisions.latest(revision.case)
        if latest is not None:
            if revision.revision < latest.revision:
                raise ImportRefused(
                    lambda: _(
                        "{case} is already at revision {stored}; revision {new} is older."
                    ).format(
                        case=case_label(revision.case),
                        stored=latest.revision,
                        new=revision.revision,
                    )
                )
            if revision.revision == latest.revision:
                if revision.fingerprint == latest.fingerprint:
                    return ImportResult(ImportKind.UNCHANGED, revision, latest.published)
                raise ImportRefused(
                    lambda: _(
                        "Revision {new} of {case} is already stored with different content. "
                        "Give the changes the next revision number, {next}."
                    ).format(
                        new=revision.revision,
                        case=case_label(revision.case),
                        next=latest.revision + 1,
                    )
                )
            if not latest.published:
                raise ImportRefused(
                    lambda: _(
                        "Revision {stored} of {case} is still a draft: publish or discard it "
                        "first."
                    ).format(stored=latest.revision, case=case_label(revision.case)),
                    retry_later=True,
                )
            stored = ActionRevision.from_json(latest.content)
            if stored.is_closed:
                raise ImportRefused(
                    lambda: _("{case} is closed; it takes no further revisions.").format(
                        case=case_label(revision.case)
                    )
                )
        await storage.revisions.add_draft(
            revision.case,
            revision.revision,
            revision.to_json(),
            revision.fingerprint,
            revision.status,
            revision.issued.isoformat(),
        )
        await storage.audit.record(by, "import", revision.label)
    if revision.is_closed:
        kind = ImportKind.CLOSURE
    elif latest is None:
        kind = ImportKind.NEW
    else:
        kind = ImportKind.FOLLOW_UP
    return ImportResult(kind, revision, published=False)


async def publish(
    storage: Storage, case: str, revision: int, requested_by: int | None
) -> int | None:
    """Publish a draft and queue its broadcast, atomically; None if it was already published."""
    async with storage.db.transaction():
        stored = await storage.revisions.get(case, revision)
        if stored is None or stored.published:
            return None
        content = ActionRevision.from_json(stored.content)
        recipients = await audience(storage, content)
        if not await storage.revisions.mark_published(case, revision):
            return None
        await storage.audit.record(requested_by, "publish", revision_label(case, revision))
        broadcast_id = await storage.broadcasts.create(
            kind="action",
            case_number=case,
            revision=revision,
            requested_by=requested_by,
            audience=recipients,
        )
        if content.is_closed:
            # No more reminders for a closed case: who opened it need not be kept (once its
            # closure is queued for them).
            await storage.reminders.forget_case(case)
        return broadcast_id


async def discard(storage: Storage, case: str, revision: int, by: int | None) -> bool:
    """Drop a draft; False when it was already published or discarded."""
    async with storage.db.transaction():
        if not await storage.revisions.discard_draft(case, revision):
            return False
        await storage.audit.record(by, "discard", revision_label(case, revision))
        return True


async def load(storage: Storage, case: str, revision: int | None = None) -> ActionRevision | None:
    """A stored revision (the latest published one when ``revision`` is None)."""
    stored = (
        await storage.revisions.latest(case, published_only=True)
        if revision is None
        else await storage.revisions.get(case, revision)
    )
    return None if stored is None else ActionRevision.from_json(stored.content)

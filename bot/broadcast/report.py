"""The admins' view of broadcasts: the final report and the progress lines of /broadcasts."""

from __future__ import annotations

from bot.actions.model import revision_label
from bot.broadcast.engine import Progress
from bot.i18n import format_number
from bot.i18n import gettext as _
from bot.storage import Broadcast
from bot.telegram_text import escape


def _name(broadcast: Broadcast) -> str:
    if broadcast.case_number is None or broadcast.revision is None:
        return _("Broadcast {id}").format(id=broadcast.id)
    return revision_label(broadcast.case_number, broadcast.revision)


def final_report(broadcast: Broadcast) -> str:
    seconds = max(0.0, (broadcast.finished_at or 0) - (broadcast.started_at or 0))
    return "\n".join(
        [
            "<b>" + escape(_("Broadcast finished: {name}").format(name=_name(broadcast))) + "</b>",
            escape(_("Delivered: {n}").format(n=format_number(broadcast.delivered))),
            escape(_("Unreachable: {n}").format(n=format_number(broadcast.unreachable))),
            escape(_("Failed: {n}").format(n=format_number(broadcast.failed))),
            escape(
                _("Skipped (paused meanwhile): {n}").format(n=format_number(broadcast.skipped))
            ),
            escape(_("Duration: {seconds} s").format(seconds=format_number(round(seconds, 1)))),
        ]
    )


def progress_lines(progress: list[Progress]) -> str:
    if not progress:
        return _("No broadcast is running.")
    lines = ["<b>" + escape(_("Running broadcasts")) + "</b>"]
    for item in progress:
        left = item.seconds_left
        lines.append(
            escape(
                _("{name}: {done} of {total} sent, about {minutes} min left").format(
                    name=_name(item.broadcast),
                    done=format_number(item.done),
                    total=format_number(item.broadcast.total),
                    minutes=format_number(round(left / 60, 1)) if left is not None else "?",
                )
            )
        )
    return "\n".join(lines)

"""The admins' view of broadcasts: the final report and the progress lines of /broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.actions.render import case_label
from bot.broadcast.engine import Burst, Progress
from bot.i18n import format_number, format_time, ngettext
from bot.i18n import gettext as _
from bot.ptb.text import escape
from bot.storage import Broadcast


def _name(broadcast: Broadcast) -> str:
    if broadcast.case_number is None or broadcast.revision is None:
        return _("Broadcast {id}").format(id=broadcast.id)
    return case_label(broadcast.case_number, broadcast.revision)


def final_report(broadcast: Broadcast) -> str:
    seconds = max(0.0, (broadcast.finished_at or 0) - (broadcast.started_at or 0))
    return "\n".join(
        [
            "<b>" + escape(_("Broadcast finished: {name}").format(name=_name(broadcast))) + "</b>",
            escape(_("Delivered: {n}").format(n=format_number(broadcast.delivered))),
            escape(_("Unreachable: {n}").format(n=format_number(broadcast.unreachable))),
            escape(_("Failed: {n}").format(n=format_number(broadcast.failed))),
            escape(
                _("Unconfirmed (sent twice, Telegram did not answer): {n}").format(
                    n=format_number(broadcast.unconfirmed)
                )
            ),
            escape(
                _("Skipped (paused meanwhile): {n}").format(n=format_number(broadcast.skipped))
            ),
            escape(_("Duration: {seconds} s").format(seconds=format_number(round(seconds, 1)))),
        ]
    )


def burst_notice(broadcast: Broadcast, burst: Burst) -> str:
    """Why the circuit breaker paused a broadcast, for the admins."""
    if burst.unanswered:
        return "\n".join(
            [
                "<b>"
                + escape(_("Broadcast paused: {name}").format(name=_name(broadcast)))
                + "</b>",
                escape(
                    _(
                        "Telegram did not answer the last messages in time: the link to "
                        "Telegram is slow. They may have arrived; each person gets at most one "
                        "more copy. The broadcast tries again by itself. /broadcasts shows it."
                    )
                ),
                "<code>" + escape(burst.description) + "</code>",
            ]
        )
    seen = (
        ngettext(
            "{count} recipient in a row got the same answer from Telegram:",
            "{count} recipients in a row got the same answer from Telegram:",
            burst.count,
        )
        if burst.in_a_row
        else ngettext(
            "{count} of the last 100 recipients got the same answer from Telegram:",
            "{count} of the last 100 recipients got the same answer from Telegram:",
            burst.count,
        )
    )
    return "\n".join(
        [
            "<b>" + escape(_("Broadcast paused: {name}").format(name=_name(broadcast))) + "</b>",
            escape(seen.format(count=format_number(burst.count))),
            "<code>" + escape(burst.description) + "</code>",
            escape(
                _(
                    "So many identical answers look like a fault, not like people: nobody was "
                    "marked unreachable. The broadcast tries again by itself and goes on when "
                    "messages go through. /broadcasts shows it."
                )
            ),
        ]
    )


def progress_lines(progress: list[Progress]) -> str:
    if not progress:
        return _("No broadcast is running.")
    lines = ["<b>" + escape(_("Running broadcasts")) + "</b>"]
    for item in progress:
        if item.paused_since is not None:
            lines.append(
                escape(
                    _(
                        "{name}: paused since {time} UTC, {done} of {total} sent; "
                        "it goes on when Telegram answers again."
                    ).format(
                        name=_name(item.broadcast),
                        time=format_time(datetime.fromtimestamp(item.paused_since, UTC)),
                        done=format_number(item.done),
                        total=format_number(item.broadcast.total),
                    )
                )
            )
            if item.pause_reason:
                lines.append(escape(_("Seen: {reason}").format(reason=item.pause_reason)))
            if item.unanswered:
                lines.append(escape(_unanswered(item.unanswered)))
            continue
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
        if item.unanswered:
            lines.append(escape(_unanswered(item.unanswered)))
    return "\n".join(lines)


def _unanswered(count: int) -> str:
    return ngettext(
        "{n} message went out without Telegram's answer (unconfirmed, sent at most twice).",
        "{n} messages went out without Telegram's answer (unconfirmed, sent at most twice).",
        count,
    ).format(n=format_number(count))

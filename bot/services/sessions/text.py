"""What a session message says about the session: counts, time left, the end. In the group's
language (gettext) with its numbers (babel), whatever the locale of the update at hand."""

from __future__ import annotations

import math
from datetime import date

from babel.lists import format_list

from bot.actions import render
from bot.actions.model import ActionRevision
from bot.i18n import babel_locale, format_number, ngettext, pgettext, use_locale
from bot.i18n import gettext as _
from bot.ptb.text import escape, truncate, utf16_length
from bot.storage import StoredSession

# The case's summary and its addressees on the session message, in UTF-16 units: the message
# stays about one screen in a busy group; the whole text is one tap away (the letter's link).
SUMMARY_UNITS = 600
ADDRESSEES_UNITS = 300


def minutes_left(session: StoredSession, now: float, minute_seconds: float = 60.0) -> int:
    """Whole minutes left, rounded up ("1 minute left" until the end); 0 once time is up."""
    remaining = session.ends_at - now
    if remaining <= 0:
        return 0
    # A tick a hair late must not show one minute less: 2699.999 s is still 45 minutes.
    return math.ceil(round(remaining / minute_seconds, 6))


def minutes_held(session: StoredSession, minute_seconds: float = 60.0) -> int:
    """How long an ended session ran, in whole minutes: what it was given, or less when an
    admin ended it early (at least 1); a running one: what it was given."""
    if session.ended_at is None:
        return session.minutes
    ran = round((session.ended_at - session.started_at) / minute_seconds)
    return max(1, min(session.minutes, ran))


def counts_line(group_letters: int, case_letters: int) -> str:
    """ "7 letters from this group · 1,234 in all" (the case's letters, every confirmation)."""
    return ngettext(
        "{n} letter from this group · {total} in all",
        "{n} letters from this group · {total} in all",
        group_letters,
    ).format(n=format_number(group_letters), total=format_number(case_letters))


def time_left_line(minutes: int) -> str:
    return ngettext("{n} minute left", "{n} minutes left", minutes).format(
        n=format_number(minutes)
    )


def summary_line(letters: int, minutes: int) -> str:
    """ "14 letters in 60 minutes — thank you!" (the thank-you and the ended message), or,
    with no letter, a line that thanks nobody for nothing; both said to the group."""
    if letters == 0:
        # Translators: said to the group when a writing session ended without a letter.
        return pgettext("group", "Session ended — no letters this time.")
    duration = ngettext("{n} minute", "{n} minutes", minutes).format(n=format_number(minutes))
    return ngettext(
        # Translators: said to the group (German "euch": "danke euch!").
        "{n} letter in {duration} — thank you!",
        "{n} letters in {duration} — thank you!",
        letters,
    ).format(n=format_number(letters), duration=duration)


def status_lines(
    session: StoredSession,
    case_letters: int,
    now: float,
    language: str,
    minute_seconds: float = 60.0,
) -> list[str]:
    """The session message's changing part, in ``language``: counts and the countdown while
    it runs; "Session ended" and the summary once it has ended."""
    with use_locale(language):
        if session.running:
            left = minutes_left(session, now, minute_seconds)
            return [
                counts_line(session.letters, case_letters),
                time_left_line(left) if left else _("Time is up"),
            ]
        ended = [_("Session ended"), counts_line(session.letters, case_letters)]
        if session.letters:  # without letters, the counts say all there is
            ended.append(summary_line(session.letters, minutes_held(session, minute_seconds)))
        return ended


def thank_you(session: StoredSession, language: str, minute_seconds: float = 60.0) -> str:
    """The short message posted when a session ends ("14 letters in 60 minutes — thank
    you!"), with the minutes it really ran."""
    with use_locale(language):
        return summary_line(session.letters, minutes_held(session, minute_seconds))


def _shortened(text: str, units: int) -> str:
    return text if utf16_length(text) <= units else truncate(text, units - 1).rstrip() + "…"


def message_text(
    session: StoredSession,
    revision: ActionRevision,
    case_letters: int,
    now: float,
    language: str,
    default_language: str,
    today: date,
    minute_seconds: float = 60.0,
) -> str:
    """The session message (HTML), in the group's ``language``: the case's title and summary,
    whom to write to, the deadline, then the counts and the countdown; once the session has
    ended, the title and the result (and how the case ended, if it was closed)."""
    with use_locale(language):
        text, _fell_back = revision.text_for(language, default_language)
        label = render.case_label(revision.case, revision.revision)
        heading = "✍️ " + _("Writing session") + " · " + label
        blocks = [f"<b>{escape(heading)}</b>\n<b>{escape(text.title)}</b>"]
        if session.running:
            blocks.append(escape(_shortened(text.summary, SUMMARY_UNITS)))
            roles = [
                a.role_in(language, default_language) for a in revision.addressees if not a.copy
            ]
            if roles:
                to = _shortened(
                    format_list(roles, locale=babel_locale(language)), ADDRESSEES_UNITS
                )
                write_to = _("Write to:")
                blocks.append(f"<b>{escape(write_to)}</b> {escape(to)}")
            if deadline := render.deadline_line(revision, today, group=True):
                blocks.append(escape(deadline))
            tap = pgettext(
                "group", "Tap “✅ I sent it” once your letter is written, before the session ends."
            )
            blocks.append(escape(tap))
        elif revision.is_closed:  # its case was closed (what ended it, or since): how it ended
            outcome = (
                text.outcome or revision.text_for(default_language, default_language)[0].outcome
            )
            blocks.append(render.closed_line(revision, outcome))
        lines = status_lines(session, case_letters, now, language, minute_seconds)
        blocks.append(
            "\n".join(
                f"<b>{escape(line)}</b>" if i == 0 else escape(line)
                for i, line in enumerate(lines)
            )
        )
    return "\n\n".join(blocks)

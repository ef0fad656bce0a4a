"""What admins read: statistics, the letters CSV and the audit trail, for chat and CLI alike.

Plain text lines, localised; the chat escapes them, the command line prints them. Counts only:
no user ids or names ever leave the database through here.
"""

from __future__ import annotations

import csv
import io
import re

from bot.actions.audience import topic_name
from bot.actions.labels import case_label
from bot.i18n import N_, current_locale, format_number, language_name, territory_name
from bot.i18n import gettext as _
from bot.services.following import Followers
from bot.storage import AuditEntry, LetterCount, SessionCounts, Storage, SubscriberCounts


def count_line(name: str, count: int) -> str:
    """One "<name>: <count>" line of /stats; the catalog writes the colon (French: U+00A0)."""
    # Translators: a line of /stats: a language, case, topic or country, then its count.
    return _("{name}: {count}").format(name=name, count=format_number(count))


def stats_lines(
    subscribers: SubscriberCounts,
    letters: list[LetterCount],
    followers: Followers | None = None,
    sessions: SessionCounts | None = None,
) -> list[str]:
    lines = [
        _("Subscribers"),
        "  " + _("active: {n}").format(n=format_number(subscribers.active)),
        "  " + _("paused: {n}").format(n=format_number(subscribers.paused)),
        "  " + _("unreachable: {n}").format(n=format_number(subscribers.unreachable)),
        "  "
        + _("used the bot in the last 30 days: {n}").format(
            n=format_number(subscribers.seen_30_days)
        ),
    ]
    for language, count in subscribers.by_language.items():
        lines.append("  " + count_line(language_name(language), count))
    if followers is not None:
        lines += _follower_lines(followers)
    lines.append(_("Letters confirmed"))
    if not letters:
        lines.append("  " + _("none yet"))
    totals: dict[str, int] = {}
    for row in letters:
        totals[row.case_number] = totals.get(row.case_number, 0) + row.letters
    for case, total in totals.items():
        lines.append("  " + count_line(case_label(case), total))
        for row in letters:
            if row.case_number == case:
                lines.append(
                    "    "
                    + _("revision {revision}, {language}: {n}").format(
                        revision=row.revision,
                        language=language_name(row.language, current_locale.get()),
                        n=format_number(row.letters),
                    )
                )
    if sessions is not None:
        lines += _session_lines(sessions)
    return lines


def _session_lines(sessions: SessionCounts) -> list[str]:
    """Writing sessions in groups: counts only (no group names, no writers)."""
    return [
        _("Writing sessions in groups"),
        "  " + _("groups with the bot: {n}").format(n=format_number(sessions.groups)),
        "  "
        + _("groups that held a session: {n}").format(
            n=format_number(sessions.groups_with_sessions)
        ),
        "  "
        + _("sessions: {n} ({running} running)").format(
            n=format_number(sessions.sessions), running=format_number(sessions.running)
        ),
        "  " + _("letters in sessions: {n}").format(n=format_number(sessions.letters)),
    ]


def _follower_lines(followers: Followers) -> list[str]:
    """Active subscribers per topic, country and region they follow (/topics)."""
    lines = [
        _("What active subscribers follow"),
        "  " + _("everything: {n}").format(n=format_number(followers.everything)),
    ]
    for code, count in followers.topics.items():
        lines.append("  " + count_line(topic_name(code), count))
    for code, count in (*followers.countries.items(), *followers.regions.items()):
        lines.append("  " + count_line(territory_name(code), count))
    return lines


# A cell starting with one of these is run as a formula by spreadsheets (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a ``'``."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def letters_csv(
    letters: list[LetterCount], sessions: dict[str, tuple[int, int, int]] | None = None
) -> bytes:
    """case,revision,language,letters,groups,sessions,session_letters — one row per count;
    UTF-8 with BOM for spreadsheets.

    The session columns are per case (``Sessions.per_case``: groups, sessions, letters in
    them), filled on the case's first row only, so a column's sum is the total; a case that
    had sessions but no letter yet gets a row of its own with 0 letters.
    """
    sessions = dict(sessions or {})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted too
    writer.writerow(
        ["case", "revision", "language", "letters", "groups", "sessions", "session_letters"]
    )
    rows: list[tuple[object, ...]] = [
        (row.case_number, row.revision, row.language, row.letters) for row in letters
    ]
    known = {row.case_number for row in letters}
    rows += [(case, "", "", 0) for case in sessions if case not in known]
    rows.sort(key=lambda row: str(row[0]))  # stable: each case's rows keep their order
    for row in rows:
        per_case = sessions.pop(str(row[0]), None)
        cells = (*row, *(per_case if per_case is not None else ("", "", "")))
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


# The audit trail stores its verbs and subjects in English, as machine words ("publish",
# "broadcast 7"); they are put into the reader's language only when shown.
_AUDIT_VERBS = {
    # Translators: an admin action in /audit: a case file was imported.
    "import": N_("import"),
    # Translators: an admin action in /audit: a case was published.
    "publish": N_("publish"),
    # Translators: an admin action in /audit: an imported case was discarded unpublished.
    "discard": N_("discard"),
    # Translators: an admin action in /audit: the letter counts were exported as a file.
    "export": N_("export"),
    # Translators: an admin action in /audit: an announcement was sent.
    "announce": N_("announce"),
}
_BROADCAST_SUBJECT = re.compile(r"broadcast (?P<id>\d+)")


_LABEL_SUBJECT = re.compile(r"(?:UA|FI) (?P<number>[0-9]+/[0-9]{2})(?:-(?P<revision>[0-9]+))?")


def audit_subject(subject: str) -> str:
    """A stored subject as the reader says it: "broadcast 7" -> "Rundsendung 7", "FI 012/26-2"
    -> "AU 012/26-2" (``case_label``); a file name stays as it is."""
    if match := _BROADCAST_SUBJECT.fullmatch(subject):
        # Translators: the subject of an /audit line: the broadcast with this number.
        return _("broadcast {id}").format(id=match.group("id"))
    if match := _LABEL_SUBJECT.fullmatch(subject):
        return case_label("UA " + match.group("number"), int(match.group("revision") or 1))
    return subject


def audit_lines(entries: list[AuditEntry]) -> list[str]:
    if not entries:
        return [_("Nothing recorded yet.")]
    lines = []
    for entry in entries:
        who = str(entry.admin_id) if entry.admin_id is not None else _("command line")
        verb = _AUDIT_VERBS.get(entry.action)
        action = _(verb) if verb is not None else entry.action
        lines.append(f"{entry.at} UTC · {who} · {action} {audit_subject(entry.subject)}".rstrip())
    return lines


async def record_export(storage: Storage, admin_id: int, file_name: str) -> None:
    """The audit trail notes who took the counts out of the bot, and as which file."""
    await storage.audit.record(admin_id, "export", file_name)

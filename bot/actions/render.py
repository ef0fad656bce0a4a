"""How a case looks to a reader: the push message (also the card), "read more", the preview.

Everything renders in the current locale (``bot.i18n.current_locale``); action texts come from
the revision in the reader's language, else the default language with a note saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions.importer import ImportKind, ImportResult
from bot.actions.labels import case_label
from bot.actions.links import case_payload, deep_link, share_url, write_payload
from bot.actions.model import OUTCOME_BAD, OUTCOME_GOOD, OUTCOME_MIXED, ActionRevision
from bot.actions.parse import ActionFileError, Problem, warnings
from bot.i18n import (
    current_locale,
    format_date,
    format_date_near,
    format_number,
    language_name,
    ngettext,
    pgettext,
)
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.text import Rendered, escape, pack, paragraphs, truncate, utf16_length

WARNINGS_SHOWN = 10  # the preview stays one message; `uabot check` lists every warning


def kind_heading(revision: ActionRevision) -> str:
    if revision.is_closed:
        return "✅ " + _("Case closed")
    if revision.revision > 1:
        return "🔄 " + _("Follow-up")
    return "🆕 " + _("New Urgent Action")


def and_more(count: int) -> str:
    """ "… and 3 more." under a list cut short."""
    return ngettext("… and {count} more.", "… and {count} more.", count).format(
        count=format_number(count)
    )


def letters_sent(count: int) -> str:
    """ "1 letter sent" / "9 Briefe verschickt" / "9 lettres envoyées"."""
    return ngettext("{count} letter sent", "{count} letters sent", count).format(
        count=format_number(count)
    )


def write_again(wrote_on: date, issued: date) -> str:
    """The follow-up's line for a reader who wrote for an earlier revision (``issued``: the
    follow-up's date, so a letter of the same year is named by day and month)."""
    return _(
        "You wrote for this case on {date}. The situation changed: please write again."
    ).format(date=format_date_near(wrote_on, issued))


def _fallback_note(default_language: str) -> str:
    return (
        "<i>"
        + escape(
            _("This action is not available in your language; here it is in {language}.").format(
                language=language_name(default_language, current_locale.get())
            )
        )
        + "</i>"
    )


def share_text(case: str, title: str) -> str:
    """What a shared card says with its link: the case, its title and a call to write."""
    return f"{case_label(case)} · {title}\n✍️ " + _("Write a letter with me!")


def share_button(
    revision: ActionRevision, default_language: str, bot_username: str
) -> InlineKeyboardButton:
    """Telegram's share dialog with the case's deep link, its number and title in the reader's
    language and a call to write: whoever the supporter sends it to lands on the card."""
    title = revision.text_for(current_locale.get(), default_language)[0].title
    url = share_url(
        deep_link(bot_username, case_payload(revision.case)), share_text(revision.case, title)
    )
    return InlineKeyboardButton("📤 " + _("Share"), url=url)


def card_keyboard(
    revision: ActionRevision,
    default_language: str,
    bot_username: str,
    *,
    with_more: bool = True,
) -> InlineKeyboardMarkup:
    """The buttons under every card (push, /actions, reminder, "read more"), in one place.
    "Write a letter" only when the revision has letters (a follow-up may bring only news)."""
    ref = (callbacks.case_ref(revision.case), revision.revision)
    more = [InlineKeyboardButton("📖 " + _("Read more"), callback_data=callbacks.MORE.data(*ref))]
    share = share_button(revision, default_language, bot_username)
    if revision.is_closed:
        return InlineKeyboardMarkup([[*more, share]])
    write = InlineKeyboardButton(
        "✍️ " + _("Write a letter"), callback_data=callbacks.WRITE.data(*ref)
    )
    sent = InlineKeyboardButton("✅ " + _("I sent it"), callback_data=callbacks.SENT.data(*ref))
    first = [*([write] if revision.letters else []), *(more if with_more else [])]
    return InlineKeyboardMarkup([*([first] if first else []), [sent, share]])


def outcome_label(kind: str | None) -> str | None:
    """ "🟢 Good outcome" and the like: a closure's outcome kind, on cards, in the archive
    and on /close's buttons."""
    labels = {
        OUTCOME_GOOD: "🟢 " + _("Good outcome"),
        OUTCOME_MIXED: "🟡 " + _("Mixed outcome"),
        OUTCOME_BAD: "🔴 " + _("Bad outcome"),
    }
    return labels.get(kind or "")


def deadline_line(
    revision: ActionRevision, today: date | None, *, group: bool = False
) -> str | None:
    """ "⏰ Please write before …" or, once it passed on ``today``, "⌛ Deadline passed on …".
    ``group``: said to a group writing together, which some languages address in the plural
    (German "ihr")."""
    if revision.deadline is None or revision.is_closed:
        return None
    if today is not None and revision.deadline_passed(today):
        return passed_line(revision.deadline)
    if group:
        # Translators: to a group writing together (German: "Bitte schreibt bis zum {date}.").
        line = pgettext("group", "Please write before {date}.")
    else:
        line = _("Please write before {date}.")
    return "⏰ " + line.format(date=format_date(revision.deadline))


def passed_line(deadline: date) -> str:
    return "⌛ " + _("Deadline passed on {date}.").format(date=format_date(deadline))


def late_letter_note(revision: ActionRevision, today: date) -> str | None:
    """What the letter wizard says first for a case past its deadline (None when in time)."""
    if not revision.deadline_passed(today):
        return None
    assert revision.deadline is not None
    return "⌛ " + escape(
        _(
            "The deadline of {case} passed on {date}. A late letter can still help, but "
            "please check with the organisation before sending a late letter."
        ).format(case=case_label(revision.case), date=format_date(revision.deadline))
    )


def letters_helped(cases: int) -> str:
    """ "Letters helped in 3 cases." (shown only when there is at least one)."""
    return "🕊 " + ngettext(
        "Letters helped in {count} case.", "Letters helped in {count} cases.", cases
    ).format(count=format_number(cases))


def card_text(
    revision: ActionRevision,
    default_language: str,
    count: int,
    *,
    wrote_on: date | None = None,
    people: int | None = None,
    today: date | None = None,
) -> str:
    """The push message body: kind, title, summary, news, deadline, count (of letters).

    ``wrote_on``: the day the reader last confirmed a letter for an earlier revision of this
    case; a follow-up asks them to write again, a closure thanks them as one of ``people``
    (each person once, however many revisions they wrote for). ``today`` (the bot's clock)
    turns the deadline into "Deadline passed on …" once it passed. A closure shows its
    outcome where the open case's summary was: that summary is no longer true.
    """
    text, fell_back = revision.text_for(current_locale.get(), default_language)
    # A translation may lack the news or the outcome: the default language's beats nothing.
    default_text, _fell_back = revision.text_for(default_language, default_language)
    update = text.update or default_text.update
    outcome = text.outcome or default_text.outcome
    label = case_label(revision.case, revision.revision)
    blocks = [
        f"<b>{escape(kind_heading(revision))} · {escape(label)}</b>\n<b>{escape(text.title)}</b>"
    ]
    if revision.is_closed:
        blocks.append(closed_line(revision, outcome))
    else:
        blocks.append(escape(text.summary))
        if revision.revision > 1 and update:
            blocks.append("<b>" + escape(_("What's new:")) + "</b> " + escape(update))
        # Only a follow-up with letters brings a new appeal: news alone asks no one to write.
        if revision.revision > 1 and wrote_on is not None and revision.letters:
            blocks.append("✍️ <b>" + escape(write_again(wrote_on, revision.issued)) + "</b>")
    facts = []
    if deadline := deadline_line(revision, today):
        facts.append(escape(deadline))
    if revision.is_closed and wrote_on is not None:
        writers = count if people is None else people
        thanks = (
            _("Yours was the only letter. Thank you!")
            if writers == 1
            else ngettext(
                "Your letter was one of {count}. Thank you!",
                "Your letter was one of {count}. Thank you!",
                writers,
            ).format(count=format_number(writers))
        )
        facts.append("🙏 " + escape(thanks))
    else:
        facts.append("✉️ " + escape(letters_sent(count)))
    blocks.append("\n".join(facts))
    # The outcome or the news borrowed from the default language is a fallback too.
    if revision.is_closed:
        borrowed = bool(outcome) and not text.outcome
    else:
        borrowed = revision.revision > 1 and bool(update) and not text.update
    if fell_back or borrowed:
        blocks.append(_fallback_note(default_language))
    return "\n\n".join(blocks)


def closed_line(revision: ActionRevision, outcome: str | None) -> str:
    """ "<b>Closed on March 5, 2026.</b> She was released." with the kind of outcome, if any."""
    closed_on = revision.closed_on or revision.issued
    label = outcome_label(revision.outcome)
    return (
        (f"{escape(label)}\n" if label else "")
        + "<b>"
        + escape(_("Closed on {date}.").format(date=format_date(closed_on)))
        + "</b>"
        + (f" {escape(outcome)}" if outcome else "")
    )


def card(
    revision: ActionRevision,
    default_language: str,
    count: int,
    *,
    bot_username: str,
    wrote_on: date | None = None,
    people: int | None = None,
    today: date | None = None,
) -> Rendered:
    """The push message with its buttons (the same message is the card in /actions)."""
    return Rendered(
        [
            card_text(
                revision, default_language, count, wrote_on=wrote_on, people=people, today=today
            )
        ],
        card_keyboard(revision, default_language, bot_username),
    )


def details(revision: ActionRevision, default_language: str, bot_username: str) -> Rendered:
    """ "Read more": the whole body and the addressees, split at paragraphs if long."""
    text, fell_back = revision.text_for(current_locale.get(), default_language)
    label = case_label(revision.case, revision.revision)
    blocks = [f"<b>{escape(label)} · {escape(text.title)}</b>"]
    if fell_back:
        blocks.append(_fallback_note(default_language))
    blocks.extend(paragraphs(text.body))
    blocks.append("<b>" + escape(_("Write to")) + "</b>")
    for addressee in revision.addressees:
        role = addressee.role_in(current_locale.get(), default_language)
        if addressee.copy:
            role = _("{role} (copy)").format(role=role)
        lines = [f"<b>{escape(role)}</b>"]
        if addressee.address:
            lines.append(escape(addressee.address))
        if addressee.email:
            lines.append(escape(addressee.email))
        blocks.append("\n".join(lines))
    if revision.ai_index:
        blocks.append(
            "<i>" + escape(_("Reference: {index}").format(index=revision.ai_index)) + "</i>"
        )
    keyboard = (
        None
        if revision.is_closed
        else card_keyboard(revision, default_language, bot_username, with_more=False)
    )
    return Rendered(pack(blocks), keyboard)


def shared_card(
    revision: ActionRevision,
    default_language: str,
    count: int,
    bot_username: str,
    *,
    today: date | None = None,
) -> Rendered:
    """The card as a supporter posts it into another chat through inline mode. Its one button
    is a link, "✍️ Write a letter" opening the letter in a private chat with the bot: whoever
    reads it there may never have started the bot, which cannot write to them first."""
    link = deep_link(bot_username, write_payload(revision.case))
    write = InlineKeyboardButton("✍️ " + _("Write a letter"), url=link)
    return Rendered(
        [card_text(revision, default_language, count, today=today)],
        InlineKeyboardMarkup([[write]]),
    )


def shared_description(revision: ActionRevision, today: date, count: int) -> str:
    """The line under a case's title in the inline results: number, deadline, letters so far
    (plain text: Telegram shows it as it is)."""
    parts = [revision.case]
    if revision.deadline and revision.deadline_passed(today):
        parts.append(_("Deadline passed on {date}.").format(date=format_date(revision.deadline)))
    elif revision.deadline:
        parts.append(_("Please write before {date}.").format(date=format_date(revision.deadline)))
    parts.append(letters_sent(count))
    return " · ".join(parts)


def _kind_line(result: ImportResult) -> str:
    revision = result.revision
    if result.kind is ImportKind.NEW:
        return _("New case {case}").format(case=case_label(revision.case))
    if result.kind is ImportKind.FOLLOW_UP:
        return _("Follow-up {revision} of case {case}").format(
            revision=revision.revision, case=case_label(revision.case)
        )
    if result.kind is ImportKind.CLOSURE:
        return _("Closure of case {case}").format(case=case_label(revision.case))
    if result.published:
        return _("Nothing changed: revision {revision} of {case} is already published.").format(
            revision=revision.revision, case=case_label(revision.case)
        )
    return _(
        "Nothing changed: revision {revision} of {case} is already stored as a draft."
    ).format(revision=revision.revision, case=case_label(revision.case))


def preview(
    result: ImportResult,
    subscribers: int,
    languages: tuple[str, ...],
    default_language: str,
    *,
    today: date | None = None,
    reach: int | None = None,
) -> str:
    """What an admin sees before publishing: what it is, its reach (``reach`` of the
    ``subscribers``, when the followers' choices leave some out), how it will look (with
    ``today``, the bot's clock: a deadline already past is warned about and shown so)."""
    revision = result.revision
    shown_in = current_locale.get()

    def names(codes: Iterable[str]) -> str:
        # Letter languages may go beyond the configured ones ([letter.ru]): those come last.
        ordered = sorted(
            codes,
            key=lambda code: (languages.index(code), "") if code in languages else (99, code),
        )
        return ", ".join(language_name(code, shown_in) for code in ordered) or "–"

    lines = [
        "<b>📄 " + escape(_kind_line(result)) + "</b>",
        escape(_("Texts: {languages}").format(languages=names(revision.texts))),
        escape(_("Letters: {languages}").format(languages=names(revision.letters))),
    ]
    if revision.recommended_languages:
        recommended = ", ".join(
            language_name(code, shown_in) for code in revision.recommended_languages
        )
        lines.append(escape(_("Recommended: {languages}").format(languages=recommended)))
    if result.kind is ImportKind.UNCHANGED and result.published:
        return "\n".join(lines)
    found = warnings(revision, today)
    if found:
        lines.append(
            "<b>⚠️ "
            + escape(
                ngettext(
                    "{count} warning (it can be published as it is):",
                    "{count} warnings (it can be published as it is):",
                    len(found),
                ).format(count=format_number(len(found)))
            )
            + "</b>"
        )
        lines += [_problem_line(problem) for problem in found[:WARNINGS_SHOWN]]
        if len(found) > WARNINGS_SHOWN:
            lines.append(escape(and_more(len(found) - WARNINGS_SHOWN)))
    lines.append(escape(reach_line(reach, subscribers)))
    lines += ["", "<i>" + escape(_("This is how it will look:")) + "</i>", "", ""]
    return "\n".join(lines) + card_text(revision, default_language, 0, today=today)


def reach_line(reach: int | None, subscribers: int) -> str:
    """How many subscribers a revision reaches, of how many: the upload's and /close's previews."""
    if reach is not None and reach != subscribers:
        # The plural agrees with the people reached ("1 personne abonnée sur 5").
        return ngettext(
            "It will reach {count} subscriber of {total}.",
            "It will reach {count} subscribers of {total}.",
            reach,
        ).format(count=format_number(reach), total=format_number(subscribers))
    return ngettext(
        "It will reach {count} subscriber.",
        "It will reach {count} subscribers.",
        subscribers,
    ).format(count=format_number(subscribers))


def preview_keyboard(revision: ActionRevision) -> InlineKeyboardMarkup:
    ref = (callbacks.case_ref(revision.case), revision.revision)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📣 " + _("Publish"), callback_data=callbacks.PUBLISH.data(*ref)
                ),
                InlineKeyboardButton(
                    "🗑 " + _("Discard"), callback_data=callbacks.DISCARD.data(*ref)
                ),
            ]
        ]
    )


def _problem_line(problem: Problem) -> str:
    if not problem.key:
        return f"• {escape(problem.message)}"
    # Translators: a problem in an uploaded action file: the key, then what is wrong with it.
    line = escape(_("{key}: {problem}")).format(
        key=f"<code>{escape(problem.key)}</code>", problem=escape(problem.message)
    )
    return f"• {line}"


def problems(error: ActionFileError, limit: int = 30) -> list[str]:
    """A file's problems as a list an admin can work through."""
    lines = [
        "<b>❌ "
        + escape(
            ngettext(
                "{file} has {count} problem:",
                "{file} has {count} problems:",
                len(error.problems),
            ).format(file=error.source, count=format_number(len(error.problems)))
        )
        + "</b>"
    ]
    lines += [_problem_line(problem) for problem in error.problems[:limit]]
    if len(error.problems) > limit:
        lines.append(escape(and_more(len(error.problems) - limit)))
    return pack(lines, separator="\n")


# An outcome is cut to this many UTF-16 units in the archive: five entries stay one message.
ARCHIVE_OUTCOME_MAX = 300


def archive_entry(revision: ActionRevision, default_language: str, letters: int) -> str:
    """One case in /archive: number and title, how it ended, its final tally of letters."""
    text, _fell_back = revision.text_for(current_locale.get(), default_language)
    if revision.is_closed:
        outcome = text.outcome or revision.text_for(default_language, default_language)[0].outcome
        if outcome and utf16_length(outcome) > ARCHIVE_OUTCOME_MAX:
            outcome = truncate(outcome, ARCHIVE_OUTCOME_MAX - 1) + "…"
        ended = closed_line(revision, outcome)
    else:  # expired longer ago than actions.expired_days
        ended = escape(passed_line(revision.deadline or revision.issued))
    return "\n".join(
        [
            f"<b>{escape(case_label(revision.case))}</b> · {escape(text.title)}",
            ended,
            "✉️ " + escape(letters_sent(letters)),
        ]
    )

"""How a case looks to a reader: the push message (also the card), "read more", the preview.

Everything renders in the current locale (``bot.i18n.current_locale``); action texts come from
the revision in the reader's language, else the default language with a note saying so.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions.importer import ImportKind, ImportResult
from bot.actions.model import ActionRevision
from bot.actions.parse import ActionFileError, Problem, warnings
from bot.i18n import current_locale, format_date, format_number, language_name, ngettext
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.text import Rendered, escape, pack, paragraphs

WARNINGS_SHOWN = 10  # the preview stays one message; `uabot check` lists every warning


def kind_heading(revision: ActionRevision) -> str:
    if revision.is_closed:
        return "✅ " + _("Case closed")
    if revision.revision > 1:
        return "🔄 " + _("Follow-up")
    return "🆕 " + _("New Urgent Action")


def letters_sent(count: int) -> str:
    """ "1 letter sent" / "9 Briefe verschickt" / "9 lettres envoyées"."""
    return ngettext("{count} letter sent", "{count} letters sent", count).format(
        count=format_number(count)
    )


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


def card_keyboard(revision: ActionRevision, *, with_more: bool = True) -> InlineKeyboardMarkup:
    ref = (callbacks.case_ref(revision.case), revision.revision)
    more = [InlineKeyboardButton("📖 " + _("Read more"), callback_data=callbacks.MORE.data(*ref))]
    if revision.is_closed:
        return InlineKeyboardMarkup([more])
    write = InlineKeyboardButton(
        "✍️ " + _("Write a letter"), callback_data=callbacks.WRITE.data(*ref)
    )
    sent = InlineKeyboardButton("✅ " + _("I sent it"), callback_data=callbacks.SENT.data(*ref))
    return InlineKeyboardMarkup([[write, *(more if with_more else [])], [sent]])


def card_text(
    revision: ActionRevision,
    default_language: str,
    count: int,
    *,
    wrote: bool = False,
    people: int | None = None,
) -> str:
    """The push message body: kind, title, summary, news, deadline, count (of letters).

    ``wrote``: the reader confirmed a letter for this case; a closure thanks them as one of
    ``people`` (each person once, however many revisions they wrote for).
    """
    text, fell_back = revision.text_for(current_locale.get(), default_language)
    # A translation may lack the news or the outcome: the default language's beats nothing.
    default_text = revision.texts[default_language]
    update = text.update or default_text.update
    outcome = text.outcome or default_text.outcome
    blocks = [
        f"<b>{escape(kind_heading(revision))} · {escape(revision.label)}</b>\n"
        f"<b>{escape(text.title)}</b>",
        escape(text.summary),
    ]
    if revision.is_closed:
        closed_on = revision.closed_on or revision.issued
        blocks.append(
            "<b>"
            + escape(_("Closed on {date}.").format(date=format_date(closed_on)))
            + "</b>"
            + (f" {escape(outcome)}" if outcome else "")
        )
    elif revision.revision > 1 and update:
        blocks.append("<b>" + escape(_("What's new:")) + "</b> " + escape(update))
    facts = []
    if revision.deadline and not revision.is_closed:
        facts.append(
            "⏰ "
            + escape(_("Please write before {date}.").format(date=format_date(revision.deadline)))
        )
    if revision.is_closed and wrote:
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
    if fell_back:
        blocks.append(_fallback_note(default_language))
    return "\n\n".join(blocks)


def card(
    revision: ActionRevision,
    default_language: str,
    count: int,
    *,
    wrote: bool = False,
    people: int | None = None,
) -> Rendered:
    """The push message with its buttons (the same message is the card in /actions)."""
    return Rendered(
        [card_text(revision, default_language, count, wrote=wrote, people=people)],
        card_keyboard(revision),
    )


def details(revision: ActionRevision, default_language: str) -> Rendered:
    """ "Read more": the whole body and the addressees, split at paragraphs if long."""
    text, fell_back = revision.text_for(current_locale.get(), default_language)
    blocks = [f"<b>{escape(revision.label)} · {escape(text.title)}</b>"]
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
    keyboard = None if revision.is_closed else card_keyboard(revision, with_more=False)
    return Rendered(pack(blocks), keyboard)


def _kind_line(result: ImportResult) -> str:
    revision = result.revision
    if result.kind is ImportKind.NEW:
        return _("New case {case}").format(case=revision.case)
    if result.kind is ImportKind.FOLLOW_UP:
        return _("Follow-up {revision} of case {case}").format(
            revision=revision.revision, case=revision.case
        )
    if result.kind is ImportKind.CLOSURE:
        return _("Closure of case {case}").format(case=revision.case)
    if result.published:
        return _("Nothing changed: revision {revision} of {case} is already published.").format(
            revision=revision.revision, case=revision.case
        )
    return _(
        "Nothing changed: revision {revision} of {case} is already stored as a draft."
    ).format(revision=revision.revision, case=revision.case)


def preview(
    result: ImportResult,
    subscribers: int,
    languages: tuple[str, ...],
    default_language: str,
    *,
    reach: int | None = None,
) -> str:
    """What an admin sees before publishing: what it is, its reach (``reach`` of the
    ``subscribers``, when the followers' choices leave some out), how it will look."""
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
    found = warnings(revision)
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
            lines.append(
                escape(
                    _("… and {count} more.").format(
                        count=format_number(len(found) - WARNINGS_SHOWN)
                    )
                )
            )
    if reach is not None and reach != subscribers:
        reach_line = ngettext(
            "It will reach {count} of {total} subscriber.",
            "It will reach {count} of {total} subscribers.",
            subscribers,
        ).format(count=format_number(reach), total=format_number(subscribers))
    else:
        reach_line = ngettext(
            "It will reach {count} subscriber.",
            "It will reach {count} subscribers.",
            subscribers,
        ).format(count=format_number(subscribers))
    lines.append(escape(reach_line))
    lines += ["", "<i>" + escape(_("This is how it will look:")) + "</i>", "", ""]
    return "\n".join(lines) + card_text(revision, default_language, 0)


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
    key = f"<code>{escape(problem.key)}</code>: " if problem.key else ""
    return f"• {key}{escape(problem.message)}"


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
        lines.append(
            escape(
                _("… and {count} more.").format(count=format_number(len(error.problems) - limit))
            )
        )
    return pack(lines, separator="\n")

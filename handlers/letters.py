"""The letter wizard: language, addressee, name, place, personal sentence, preview, document.

A persistent ConversationHandler (states in letters.mmd beside this file): a restart in the
middle of a letter resumes at the same step. The draft is deleted when the letter is made,
cancelled or abandoned.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from secrets import randbelow
from typing import Any

from telegram import (
    CallbackQuery,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.actions import render
from bot.actions.importer import load
from bot.actions.model import ActionRevision, Addressee, case_from_text
from bot.i18n import format_number, language_name, ngettext
from bot.i18n import gettext as _
from bot.letters import draft as drafts
from bot.letters.compose import Letter, compose, letter_file_name
from bot.letters.draft import DRAFT_KEY, SENDER_KEY, Draft, InvalidInput
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import CAPTION_LIMIT, escape, visible_length
from bot.services import subscriptions, tally
from handlers import onboarding
from handlers.conversations import ENDED_KEY, conversation
from handlers.fallback import stale_button
from handlers.replies import (
    answer,
    drop_buttons,
    message_of,
    query_of,
    replace,
    say,
    say_parts,
    send_document,
    set_buttons,
    take_back,
    uploading,
    user_data_of,
    user_of,
)

log = logging.getLogger(__name__)

LANGUAGE, ADDRESSEE, NAME, PLACE, PERSONAL, REVIEW = range(6)
CONVERSATION = "letter"  # the wizard's ConversationHandler (and persistence) name
COPY_TEXT_MAX = 256  # characters a copy_text button may carry (Bot API)
BUTTON_MAX = 60  # characters of an addressee's role on a button

PICK_LANGUAGE = callbacks.LETTER_LANGUAGE
PICK_ADDRESSEE = callbacks.LETTER_ADDRESSEE
INITIALS = callbacks.LETTER_INITIALS
SKIP = callbacks.LETTER_SKIP
REVIEW_ACTION = callbacks.LETTER_REVIEW
EDIT = callbacks.LETTER_EDIT
_STEP_BUTTONS = (PICK_LANGUAGE, PICK_ADDRESSEE, INITIALS, SKIP, REVIEW_ACTION, EDIT)


# The user's data as it was when the update began: /forget drops it from the application, and a
# step still running must then neither send nor keep anything (``_Erased``).
_held: ContextVar[tuple[int, dict[str, Any]] | None] = ContextVar("wizard_user_data", default=None)


class _Erased(Exception):
    """The user was erased (/forget) while a step of theirs ran: the step stops silently."""


def _erased(context: Context) -> bool:
    """Whether the user's data was erased, or is being erased, since the update began."""
    held = _held.get()
    if held is None:
        return False
    return (
        bool(held[1].get(ENDED_KEY)) or context.application.user_data.get(held[0]) is not held[1]
    )


def _check_not_erased(context: Context) -> None:
    if _erased(context):
        raise _Erased


def _step(
    handler: Callable[[Update, Context], Coroutine[Any, Any, int | None]],
) -> Callable[[Update, Context], Coroutine[Any, Any, int | None]]:
    """Run a wizard step noting whose data it works on; an erasure meanwhile ends it."""

    async def stepped(update: Update, context: Context) -> int | None:
        user = update.effective_user
        if user is None or context.user_data is None:
            return await handler(update, context)
        token = _held.set((user.id, context.user_data))
        try:
            return await handler(update, context)
        except _Erased:
            log.info("a letter step stopped: its user was erased meanwhile")
            return ConversationHandler.END
        finally:
            _held.reset(token)

    return stepped


def _draft(context: Context) -> Draft | None:
    data = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    return Draft.from_dict(data) if data else None


def _save(context: Context, draft: Draft) -> None:
    _check_not_erased(context)
    draft.touched = time.time()
    user_data_of(context)[DRAFT_KEY] = draft.to_dict()


def _clear(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    # A timeout runs as a job, outside any update of the user: PTB would not write the
    # change to the database unless told.
    if (user := update.effective_user) is not None:
        context.application.mark_data_for_update_persistence(user_ids=user.id)


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def _revision(context: Context, draft: Draft) -> ActionRevision | None:
    """The draft's revision, unless the case was closed since (a later revision closes it)."""
    latest = await load(context.storage, draft.case)
    if latest is None or latest.is_closed:
        return None
    return await load(context.storage, draft.case, draft.revision)


async def _current(context: Context) -> tuple[Draft, ActionRevision] | None:
    """The draft and its case, or None when either is gone (closed meanwhile, /forget)."""
    draft = _draft(context)
    revision = await _revision(context, draft) if draft else None
    return (draft, revision) if draft is not None and revision is not None else None


async def _follow(
    update: Update, context: Context, draft: Draft
) -> tuple[Draft, ActionRevision] | None:
    """Move the draft to a follow-up published since the letter began, telling the supporter;
    a language or addressee the follow-up no longer has is asked again. None: nothing newer."""
    latest = await load(context.storage, draft.case)
    if latest is None or latest.is_closed or latest.revision == draft.revision:
        return None
    before = await load(context.storage, draft.case, draft.revision)
    if draft.language not in latest.letters:
        draft.language = None
    index = draft.addressee
    if index is not None and (
        before is None
        or not 0 <= index < len(latest.addressees)
        or index >= len(before.addressees)
        or _role(context, latest.addressees[index]) != _role(context, before.addressees[index])
    ):
        draft.addressee = None
    draft.revision = latest.revision
    await _close_open_prompt(update, draft)
    _save(context, draft)
    await say(
        update,
        escape(
            _(
                "{case} was updated while you were writing: your letter now follows the "
                "latest version."
            ).format(case=render.case_label(latest.case))
        ),
    )
    return draft, latest


async def _resume(update: Update, context: Context, draft: Draft, revision: ActionRevision) -> int:
    """Go on after the draft moved to a follow-up: ask what it no longer has, else the next
    unanswered step or the preview."""
    if draft.language is None:
        return await _ask_language(update, context, draft, revision)
    if draft.addressee is None:
        return await _ask_addressee(update, context, draft, revision)
    return await _next_step(update, context, draft)


async def _close_open_prompt(update: Update, draft: Draft) -> None:
    if draft.prompt is not None:
        await drop_buttons(update, draft.prompt)
        draft.prompt = None


def _data(draft: Draft, button: callbacks.Button, *args: object) -> str:
    """A wizard button's callback data, naming the letter and the step it belongs to."""
    return button.data(callbacks.case_ref(draft.case), draft.revision, draft.step, *args)


async def _prompt(
    update: Update,
    context: Context,
    draft: Draft,
    text: str,
    rows: Callable[[Draft], list[list[tuple[str, str]]]] | None = None,
) -> None:
    """Open a step: a new step number (so older buttons are refused), then its message."""
    _check_not_erased(context)
    draft.step += 1
    markup = _keyboard(rows(draft)) if rows else None
    sent = await say(update, text, markup)
    if _erased(context):  # erased while the message was on its way: take it back
        await take_back(update, sent.message_id)
        raise _Erased
    draft.prompt = sent.message_id
    _save(context, draft)


async def _answered(update: Update, draft: Draft, record: str) -> None:
    """Edit the open step's message into the one-line record of the answer: no button of an
    answered step stays live."""
    if draft.prompt is not None:
        await replace(update, draft.prompt, record)
        draft.prompt = None


Button = Callable[
    [Update, Context, Draft, ActionRevision, list[str]], Coroutine[Any, Any, int | None]
]


def _button(
    handler: Button,
) -> Callable[[Update, Context], Coroutine[Any, Any, int | None]]:
    """Check a tapped wizard button before ``handler`` sees it.

    Buttons are matched per chat: one left from an earlier letter, or from a step already
    answered, must not act on this one. The handler answers the callback query itself.
    """

    async def checked(update: Update, context: Context) -> int | None:
        query = query_of(update)
        stored = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
        if not stored:  # made, cancelled or timed out meanwhile (a double tap)
            await answer(update, _("This letter is finished."))
            return ConversationHandler.END
        parts = callbacks.args(query.data)
        ref, number, step = [*parts, "", "", ""][:3]
        args = parts[3:]
        # Claim the open step with no await before it: of two concurrent taps (updates of one
        # user run concurrently) only the first answers it. The preview's tick box claims none.
        claim = step == str(stored.get("step")) and args[:1] != ["remember"]
        if claim:
            if stored.get("creating") or stored.get("claimed") == stored.get("step"):
                await answer(update, _("Your letter is on its way."))
                return None
            stored["claimed"] = stored.get("step")
        try:
            return await _checked(update, context, query, ref, number, step, args)
        except BaseException:
            current = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
            if claim and current and current.get("claimed") == current.get("step"):
                current["claimed"] = None  # let the supporter try again
            raise

    async def _checked(
        update: Update,
        context: Context,
        query: CallbackQuery,
        ref: str,
        number: str,
        step: str,
        args: list[str],
    ) -> int | None:
        current = await _current(context)
        if current is None:
            await answer(update)
            return await _lost(update, context)
        draft, revision = current
        if (ref, number) != (callbacks.case_ref(draft.case), str(draft.revision)):
            await answer(
                update,
                _("This button belongs to an earlier letter; please use the latest one."),
                alert=True,
            )
            return None
        if draft.creating:
            await answer(update, _("Your letter is on its way."))
            return None
        if step != str(draft.step):
            await answer(
                update,
                _("This step is already answered; please use the latest message."),
                alert=True,
            )
            return None
        if moved := await _follow(update, context, draft):
            await answer(update)
            return await _resume(update, context, *moved)
        return await handler(update, context, draft, revision, args)

    return _step(checked)


# --- entry ------------------------------------------------------------------------------------


async def _begin(update: Update, context: Context, case: str) -> int:
    """Open the letter for ``case``."""
    revision = await load(context.storage, case)
    if revision is None:
        await say(
            update,
            escape(
                _("There is no case {case}. /actions lists the open ones.").format(
                    case=render.case_label(case)
                )
            ),
        )
        return ConversationHandler.END
    if revision.is_closed:
        await say(
            update,
            escape(
                _("{case} is closed: it takes no more letters. Thank you for caring.").format(
                    case=render.case_label(case)
                )
            ),
        )
        return ConversationHandler.END
    if not revision.letters:
        await say(
            update,
            escape(_("{case} has no suggested letter.").format(case=render.case_label(case))),
        )
        return ConversationHandler.END
    await _close_prompt(update, context)  # an earlier letter's buttons go with it
    if late := render.late_letter_note(revision, context.bot_data.today()):
        await say(update, late)
    user_data_of(context).pop(ENDED_KEY, None)
    # A random first step number: buttons of a letter begun before on the same case differ.
    draft = Draft(case=revision.case, revision=revision.revision, step=randbelow(10**6))
    _save(context, draft)
    await subscriptions.note_interest(context.storage, user_of(update).id, revision.case)
    return await _ask_language(update, context, draft, revision)


async def start_from_button(update: Update, context: Context) -> int:
    """ "Write a letter" under a card."""
    parsed = callbacks.WRITE.parse(query_of(update).data, str, int)
    if parsed is None:  # crafted data
        await stale_button(update, context)
        return ConversationHandler.END
    await answer(update)
    return await _begin(update, context, callbacks.case_from_ref(parsed.text(0)))


async def start_from_command(update: Update, context: Context) -> int:
    """/write <case>, e.g. /write UA 012/26 or /write 012/26."""
    case = case_from_text(" ".join(context.args or []))
    if case is None:
        await say(
            update,
            escape(_("Which case? For example: /write UA 012/26. /actions lists the open ones.")),
        )
        return ConversationHandler.END
    return await _begin(update, context, case)


async def start_from_link(update: Update, context: Context) -> int:
    """A ``write-`` deep link (``/start write-ua-046-19``) or a group session's "Write my
    letter" (``/start session-<token>``): greet a newcomer, then the letter (its "I sent it"
    counts in the session while it runs: ``sessions.join`` noted who came)."""
    arrived = await onboarding.arrive(update, context)
    if arrived.case is None:  # no open case by that name: /start said so
        return ConversationHandler.END
    return await _begin(update, context, arrived.case.case)


# --- steps ------------------------------------------------------------------------------------


async def _ask_language(
    update: Update, context: Context, draft: Draft, revision: ActionRevision
) -> int:
    offered = drafts.offered_languages(revision, context.language)
    if len(offered) == 1:
        draft.language = offered[0]
        _save(context, draft)
        return await _ask_addressee(update, context, draft, revision)
    ticked = draft.language or offered[0]
    recommended = revision.recommended_languages

    def rows(draft: Draft) -> list[list[tuple[str, str]]]:
        return [
            [
                (
                    ("✓ " if code == ticked else "")
                    + language_name(code)
                    + (" " + _("(recommended)") if code in recommended else ""),
                    _data(draft, PICK_LANGUAGE, code),
                )
            ]
            for code in offered
        ]

    await _prompt(
        update,
        context,
        draft,
        escape(_("In which language do you want to write the letter?")),
        rows,
    )
    return LANGUAGE


@_button
async def pick_language(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await answer(update)
    code = args[0] if args else ""
    if code not in revision.letters:
        return await _ask_language(update, context, draft, revision)
    draft.language = code
    await _answered(update, draft, drafts.record(_("Language"), language_name(code)))
    _save(context, draft)
    if draft.addressee is not None:  # changing the language from the preview
        return await _next_step(update, context, draft)
    return await _ask_addressee(update, context, draft, revision)


async def _ask_addressee(
    update: Update, context: Context, draft: Draft, revision: ActionRevision
) -> int:
    if len(revision.addressees) == 1:
        draft.addressee = 0
        _save(context, draft)
        return await _after_addressee(update, context, draft)

    def rows(draft: Draft) -> list[list[tuple[str, str]]]:
        return [
            [
                (
                    ("✓ " if index == draft.addressee else "")
                    + drafts.shorten(_role(context, addressee), BUTTON_MAX),
                    _data(draft, PICK_ADDRESSEE, index),
                )
            ]
            for index, addressee in drafts.offered_addressees(revision)
        ]

    await _prompt(update, context, draft, escape(_("To whom do you want to write?")), rows)
    return ADDRESSEE


@_button
async def pick_addressee(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await answer(update)
    index = callbacks.number(args[0]) if args else None
    if index is None or not 0 <= index < len(revision.addressees):
        return await _ask_addressee(update, context, draft, revision)
    draft.addressee = index
    role = _role(context, revision.addressees[index])
    await _answered(update, draft, drafts.record(_("Addressee"), role))
    _save(context, draft)
    return await _after_addressee(update, context, draft)


async def _after_addressee(update: Update, context: Context, draft: Draft) -> int:
    """Remembered sender details skip the name and place steps."""
    remembered = (context.user_data or {}).get(SENDER_KEY)
    if remembered and not draft.name:
        draft.name, draft.place, draft.remember = remembered["name"], remembered["place"], True
        _save(context, draft)
    return await _next_step(update, context, draft)


async def _next_step(update: Update, context: Context, draft: Draft) -> int:
    """The first unanswered text step, or the preview (also after an edit from it)."""
    if not draft.name:
        return await _ask_name(update, context, draft)
    if draft.place is None:
        return await _ask(update, context, draft, PLACE)
    if draft.personal is None:
        return await _ask(update, context, draft, PERSONAL)
    return await _review(update, context)


async def _ask_name(update: Update, context: Context, draft: Draft) -> int:
    user = update.effective_user
    suggestion = drafts.initials(user.first_name, user.last_name) if user else None
    rows = None
    if suggestion:
        label = _("Use my initials: {initials}").format(initials=suggestion)

        def rows(draft: Draft) -> list[list[tuple[str, str]]]:
            return [[(label, _data(draft, INITIALS))]]

    await _prompt(update, context, draft, escape(_ask_text(NAME)), rows)
    return NAME


async def _ask(update: Update, context: Context, draft: Draft, state: int) -> int:
    """Ask for the place or the personal sentence, both skippable."""
    field = _FIELDS[state][0]

    def rows(draft: Draft) -> list[list[tuple[str, str]]]:
        return [[("⏭ " + _("Skip"), _data(draft, SKIP, field))]]

    text = _ask_text(state)
    if state == PERSONAL and draft.language and draft.language != context.language:
        text += " " + _(
            "It goes into the letter as you type it: write it in {language}, or skip."
        ).format(language=language_name(draft.language))
    await _prompt(update, context, draft, escape(text), rows)
    return state


def _ask_text(state: int) -> str:
    if state == NAME:
        return _(
            "How should the letter be signed? Send a name. Initials are the safer choice: "
            "officials and others may read the letter."
        )
    if state == PLACE:
        return _(
            "Your city and country, for the sender's address (optional). For example: "
            "Bern, Switzerland."
        )
    return _(
        "Add a sentence of your own (optional, at most {limit} characters). A personal "
        "word makes a letter stand out."
    ).format(limit=format_number(drafts.PERSONAL_MAX))


# state -> (draft field, check of what the supporter typed)
_FIELDS: dict[int, tuple[str, Callable[[str | None], str]]] = {
    NAME: ("name", drafts.check_name),
    PLACE: ("place", drafts.check_place),
    PERSONAL: ("personal", drafts.check_personal),
}


def _field_label(field: str) -> str:
    """What a field is called in the Edit menu and in its step's record."""
    labels = {
        "name": _("Name"),
        "place": _("City and country"),
        "personal": _("Personal sentence"),
        "language": _("Letter language"),
        "addressee": _("Addressee"),
    }
    return labels[field]


def _typed(state: int) -> Callable[[Update, Context], Coroutine[Any, Any, int | None]]:
    """The handler for text typed at ``state``: check it, keep the step if it is bad."""
    field, check = _FIELDS[state]

    async def typed(update: Update, context: Context) -> int | None:
        try:
            value = check(message_of(update).text)
        except InvalidInput as problem:
            await say(update, escape(str(problem)))
            return state
        return await _store(update, context, field, value)

    return _step(typed)


@_button
async def use_initials(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await answer(update)
    user = update.effective_user
    name = drafts.initials(user.first_name, user.last_name) if user else None
    if not name:
        return await _ask_name(update, context, draft)
    return await _store(update, context, "name", name)


@_button
async def skipped(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    """Skip the place or the personal sentence ("" means skipped, None means not asked)."""
    await answer(update)
    field = args[0] if args else ""
    if field not in ("place", "personal"):
        return await _lost(update, context)
    return await _store(update, context, field, "")


async def _store(update: Update, context: Context, field: str, value: str) -> int:
    current = await _current(context)  # the case may have been closed since the last step
    if current is None:
        return await _lost(update, context)
    draft = current[0]
    moved = await _follow(update, context, draft)
    setattr(draft, field, value)
    await _answered(update, draft, drafts.record(_field_label(field), value))
    _save(context, draft)
    if moved:
        return await _resume(update, context, *moved)
    return await _next_step(update, context, draft)


def _review_keyboard(draft: Draft) -> list[list[tuple[str, str]]]:
    remember = ("☑ " if draft.remember else "☐ ") + _("Remember my name and place")
    return [
        [
            ("✏️ " + _("Edit"), _data(draft, REVIEW_ACTION, "edit")),
            ("📄 " + _("Create the letter"), _data(draft, REVIEW_ACTION, "create")),
        ],
        [(remember, _data(draft, REVIEW_ACTION, "remember"))],
    ]


async def _review(update: Update, context: Context) -> int:
    current = await _current(context)
    if current is None:
        return await _lost(update, context)
    draft, revision = current
    letter = _letter(context, draft, revision)
    draft.step += 1
    last = await say_parts(update, drafts.preview(letter), _keyboard(_review_keyboard(draft)))
    draft.prompt = last.message_id
    _save(context, draft)
    return REVIEW


def _role(context: Context, addressee: Addressee) -> str:
    """An addressee's role as the reader sees it on a button or in a record."""
    return addressee.role_in(context.language, context.config.i18n.default_language)


def _letter(context: Context, draft: Draft, revision: ActionRevision) -> Letter:
    return drafts.letter_for(
        _normalised(draft),
        revision,
        context.bot_data.today(),
        default_language=context.config.i18n.default_language,
        reader_language=context.language,
        region=context.config.i18n.region,
        date_place=context.config.letters.place,
    )


def _normalised(draft: Draft) -> Draft:
    """Empty strings in the draft mean "skipped"."""
    return Draft(
        **{**draft.to_dict(), "place": draft.place or None, "personal": draft.personal or None}
    )


@_button
async def review_action(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int | None:
    action = args[0] if args else ""
    if action == "remember":
        draft.remember = not draft.remember
        _save(context, draft)
        await answer(
            update,
            _("Your name and place will be remembered for the next letter.")
            if draft.remember
            else _("Your name and place will not be kept."),
        )
        await set_buttons(update, _keyboard(_review_keyboard(draft)))
        return REVIEW
    if action == "create":
        return await _create(update, context, draft, revision)
    await answer(update)
    if draft.prompt is not None:  # the preview stays as it is; its buttons go
        await drop_buttons(update, draft.prompt)
        draft.prompt = None
    fields = [
        field
        for field in ("addressee", "language", "name", "place", "personal")
        if not (field == "addressee" and len(revision.addressees) == 1)
        and not (field == "language" and len(revision.letters) == 1)
    ]

    def rows(draft: Draft) -> list[list[tuple[str, str]]]:
        buttons = [(_field_label(field), _data(draft, EDIT, field)) for field in fields]
        return [buttons[index : index + 2] for index in range(0, len(buttons), 2)]

    await _prompt(update, context, draft, escape(_("What do you want to change?")), rows)
    return REVIEW


@_button
async def edit_choice(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await answer(update)
    field = args[0] if args else ""
    if field not in ("addressee", "language", "name", "place", "personal"):
        return await _review(update, context)
    await _answered(update, draft, drafts.record(_("Change"), _field_label(field)))
    _save(context, draft)
    if field == "name":
        return await _ask_name(update, context, draft)
    if field == "place":
        return await _ask(update, context, draft, PLACE)
    if field == "personal":
        return await _ask(update, context, draft, PERSONAL)
    if field == "addressee":
        return await _ask_addressee(update, context, draft, revision)
    return await _ask_language(update, context, draft, revision)


async def _create(
    update: Update, context: Context, draft: Draft, revision: ActionRevision
) -> int | None:
    """Send the document, once: a second tap (updates run concurrently) finds it claimed."""
    assert context.user_data is not None
    stored: dict[str, Any] | None = context.user_data.get(DRAFT_KEY)
    # Check and claim with no await in between: a concurrent update of the same user cannot
    # run between the two, so only one of two taps gets past here.
    if not stored or stored.get("creating"):
        await answer(update, _("Your letter is on its way."))
        return None
    claimed: dict[str, Any] = stored
    claimed["creating"] = True
    await answer(update)
    try:
        return await _send_letter(update, context, draft, revision)
    except BaseException:
        if context.user_data.get(DRAFT_KEY) is claimed:
            claimed["creating"] = False  # let the supporter try again
        raise


async def _send_letter(
    update: Update, context: Context, draft: Draft, revision: ActionRevision
) -> int:
    if draft.prompt is not None:
        await drop_buttons(update, draft.prompt)
    if await _revision(context, draft) is None:
        return await _lost(update, context)
    letter = _letter(context, draft, revision)
    await uploading(update)
    document = InputFile(compose(letter), filename=letter_file_name(revision.case, letter))
    sent_button = InlineKeyboardButton(
        "✅ " + _("I sent it"),
        callback_data=tally.sent_data(revision, letter.language),
    )
    where = drafts.where_to_send(letter)
    # Many copies with long addresses may not fit a caption: the directions follow instead.
    fits = visible_length(where) <= CAPTION_LIMIT
    await send_document(
        update, document, where if fits else None, InlineKeyboardMarkup([[sent_button]])
    )
    if not fits:
        await say(update, where)
    if letter.addressee.email:
        await _send_email_route(update, drafts.email_route(letter, revision.case))
    if draft.remember:
        user_data_of(context)[SENDER_KEY] = {"name": draft.name, "place": draft.place or None}
    else:
        user_data_of(context).pop(SENDER_KEY, None)
    _clear(update, context)
    log.info("letter created for %s revision %s", revision.case, revision.revision)
    return ConversationHandler.END


async def _send_email_route(update: Update, email: drafts.EmailRoute) -> None:
    """The e-mail route: the address, the subject and the letter text, ready to copy.

    Not a ``mailto:`` button: the Bot API checks a button's URL with TDLib's
    ``LinkManager::check_link``, which knows only http(s), tg:, ton: and tonsite:. A
    ``scheme://`` it does not know is refused ("Unsupported URL protocol"), and
    ``mailto:a@b.org?body=...`` (no ``//``) is read as an http URL with the user info
    "mailto:a" at the host b.org, so the button would open that web site, not a mail
    program. So the message carries what a mailto: link would: the address and the subject
    as one-tap copy buttons (Bot API 7.11 ``copy_text``, at most 256 characters) and the
    text in a block the apps copy with one tap.
    """
    buttons = [
        InlineKeyboardButton(
            "📋 " + _("Copy the address"), copy_text=CopyTextButton(email.address)
        )
    ]
    if len(email.subject) <= COPY_TEXT_MAX:
        buttons.append(
            InlineKeyboardButton(
                "📋 " + _("Copy the subject"), copy_text=CopyTextButton(email.subject)
            )
        )
    for index, text in enumerate(email.messages):
        await say(update, text, InlineKeyboardMarkup([buttons]) if index == 0 else None)


# --- leaving ----------------------------------------------------------------------------------


@_button
async def stale_step(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int | None:
    """Reached only if a button's step is the open one but not of this state: ask again."""
    await answer(update)
    return await _next_step(update, context, draft)


async def not_text(update: Update, context: Context) -> int | None:
    """A photo, sticker or file where text is expected: ask again, keep the step."""
    await say(update, escape(_("Please send text, or /cancel to stop this letter.")))
    return None


async def use_buttons(update: Update, context: Context) -> int | None:
    await say(update, escape(_("Please use the buttons above, or /cancel to stop this letter.")))
    return None


async def _close_prompt(update: Update, context: Context) -> None:
    """Take the buttons off the open step's message: the letter is over."""
    draft = _draft(context)
    if draft is not None and draft.prompt is not None:
        await drop_buttons(update, draft.prompt)


async def cancel(update: Update, context: Context) -> int:
    await _close_prompt(update, context)
    _clear(update, context)
    await say(
        update, escape(_("Letter cancelled; nothing was kept. /actions shows the open cases."))
    )
    return ConversationHandler.END


async def timed_out(update: Update, context: Context) -> None:
    if _draft(context) is None:  # erased (/forget) or ended meanwhile: nothing to tell
        return
    await _close_prompt(update, context)
    _clear(update, context)
    await say(
        update,
        escape(
            ngettext(
                "Your letter was left for {minutes} minute, so I closed it; nothing "
                "was kept. Tap “Write a letter” to start again.",
                "Your letter was left for {minutes} minutes, so I closed it; nothing "
                "was kept. Tap “Write a letter” to start again.",
                math.ceil(context.config.letters.timeout_minutes),
            ).format(minutes=format_number(context.config.letters.timeout_minutes))
        ),
    )


async def _lost(update: Update, context: Context) -> int:
    """The draft or its case is gone (closed meanwhile, /forget, an old button)."""
    _clear(update, context)
    await say(
        update,
        escape(
            _(
                "This letter can no longer be written: the case was closed or "
                "the draft is gone. /actions shows the open cases."
            )
        ),
    )
    return ConversationHandler.END


def build(timeout_minutes: float) -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.TEXT & ~filters.COMMAND
    return conversation(
        CONVERSATION,
        conversation_timeout=timeout_minutes * 60,
        entry_points=[
            CallbackQueryHandler(start_from_button, pattern=callbacks.WRITE.pattern()),
            CommandHandler("write", start_from_command, filters=filters.ChatType.PRIVATE),
            CommandHandler(
                "start",
                start_from_link,
                filters=filters.ChatType.PRIVATE & onboarding.WRITE_LINK,
            ),
        ],
        states={
            LANGUAGE: [
                CallbackQueryHandler(pick_language, pattern=PICK_LANGUAGE.pattern()),
                MessageHandler(text, use_buttons),
            ],
            ADDRESSEE: [
                CallbackQueryHandler(pick_addressee, pattern=PICK_ADDRESSEE.pattern()),
                MessageHandler(text, use_buttons),
            ],
            NAME: [
                MessageHandler(text, _typed(NAME)),
                CallbackQueryHandler(use_initials, pattern=INITIALS.pattern()),
            ],
            PLACE: [
                MessageHandler(text, _typed(PLACE)),
                CallbackQueryHandler(skipped, pattern=SKIP.pattern()),
            ],
            PERSONAL: [
                MessageHandler(text, _typed(PERSONAL)),
                CallbackQueryHandler(skipped, pattern=SKIP.pattern()),
            ],
            REVIEW: [
                CallbackQueryHandler(review_action, pattern=REVIEW_ACTION.pattern()),
                CallbackQueryHandler(edit_choice, pattern=EDIT.pattern()),
                CallbackQueryHandler(pick_language, pattern=PICK_LANGUAGE.pattern()),
                MessageHandler(text, use_buttons),
            ],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            # A button of a step not open now: refused with the same answer in every state.
            CallbackQueryHandler(stale_step, pattern=callbacks.any_of(*_STEP_BUTTONS)),
            MessageHandler(other, not_text),
        ],
    )


def register(app: Application) -> None:
    app.add_handler(build(app.bot_data.config.letters.timeout_minutes))

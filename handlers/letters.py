"""The letter wizard: language, addressee, name, place, personal sentence, preview, document.

A persistent ConversationHandler (states in letters.mmd beside this file): a restart in the
middle of a letter resumes at the same step. The draft is deleted when the letter is made,
cancelled or abandoned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.actions import render
from bot.actions.importer import load
from bot.actions.model import ActionRevision, case_from_text
from bot.context import Context
from bot.i18n import format_number, language_name
from bot.i18n import gettext as _
from bot.letters import draft as drafts
from bot.letters.compose import compose, file_name
from bot.letters.draft import DRAFT_KEY, SENDER_KEY, Draft, InvalidInput
from bot.telegram_text import escape
from handlers.conversations import conversation
from handlers.replies import say, say_parts

log = logging.getLogger(__name__)

LANGUAGE, ADDRESSEE, NAME, PLACE, PERSONAL, REVIEW = range(6)
TIMEOUT_SECONDS = drafts.TIMEOUT_SECONDS

PICK_LANGUAGE = "wl"
PICK_ADDRESSEE = "wa"
INITIALS = "wi"
SKIP = "wskip"
REVIEW_ACTION = "wr"
EDIT = "we"


def _draft(context: Context) -> Draft | None:
    data = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    return Draft.from_dict(data) if data else None


def _draft_now(context: Context) -> Draft:
    """The draft of a letter being written (a step only runs while there is one)."""
    draft = _draft(context)
    assert draft is not None
    return draft


def _save(context: Context, draft: Draft) -> None:
    draft.touched = time.time()
    context.user_data[DRAFT_KEY] = draft.to_dict()  # type: ignore[index]


def _clear(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    # A timeout runs as a job, outside any update of the user: PTB would not write the
    # change to the database unless told.
    if update.effective_user is not None:
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)


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


def _data(draft: Draft, verb: str, *args: object) -> str:
    """A wizard button's callback data, naming the letter it belongs to."""
    return callbacks.data(verb, callbacks.case_ref(draft.case), draft.revision, *args)


Button = Callable[
    [Update, Context, Draft, ActionRevision, list[str]], Coroutine[Any, Any, int | None]
]


def _button(
    handler: Button,
) -> Callable[[Update, Context], Coroutine[Any, Any, int | None]]:
    """Check a tapped wizard button before ``handler`` sees it.

    Buttons are matched per chat: one left from an earlier letter must not act on this one.
    The handler answers the callback query itself.
    """

    async def checked(update: Update, context: Context) -> int | None:
        query = update.callback_query
        assert query is not None and query.data is not None
        current = await _current(context)
        if current is None:
            await query.answer()
            return await _lost(update, context)
        draft, revision = current
        ref, number, *args = callbacks.args(query.data)
        if (ref, number) != (callbacks.case_ref(draft.case), str(draft.revision)):
            await query.answer(
                _("This button belongs to an earlier letter; please use the latest one."),
                show_alert=True,
            )
            return None
        return await handler(update, context, draft, revision, args)

    return checked


# --- entry ------------------------------------------------------------------------------------


async def _begin(update: Update, context: Context, case: str) -> int:
    revision = await load(context.storage, case)
    if revision is None:
        await say(
            update,
            escape(_("There is no case {case}. /actions lists the open ones.").format(case=case)),
        )
        return ConversationHandler.END
    if revision.is_closed:
        await say(
            update,
            escape(
                _("{case} is closed: it takes no more letters. Thank you for caring.").format(
                    case=case
                )
            ),
        )
        return ConversationHandler.END
    if not revision.letters:
        await say(update, escape(_("{case} has no suggested letter.").format(case=case)))
        return ConversationHandler.END
    _save(context, Draft(case=revision.case, revision=revision.revision))
    await context.storage.reminders.interested(update.effective_user.id, revision.case)  # type: ignore[union-attr]
    return await _ask_language(update, context, revision)


async def start_from_button(update: Update, context: Context) -> int:
    """ "Write a letter" under a card."""
    query = update.callback_query
    await query.answer()  # type: ignore[union-attr]
    ref = callbacks.args(query.data)[0]  # type: ignore[arg-type,union-attr]
    return await _begin(update, context, callbacks.case_from_ref(ref))


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


# --- steps ------------------------------------------------------------------------------------


async def _ask_language(update: Update, context: Context, revision: ActionRevision) -> int:
    draft = _draft(context)
    assert draft is not None
    offered = list(revision.letters)
    if len(offered) == 1:
        draft.language = offered[0]
        _save(context, draft)
        return await _ask_addressee(update, context, revision)
    own = context.language
    offered.sort(key=lambda code: (code != own, code))  # the user's own language first
    rows = [
        [
            (
                ("✓ " if code == own else "") + language_name(code),
                _data(draft, PICK_LANGUAGE, code),
            )
        ]
        for code in offered
    ]
    await say(
        update, escape(_("In which language do you want to write the letter?")), _keyboard(rows)
    )
    return LANGUAGE


@_button
async def pick_language(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await update.callback_query.answer()  # type: ignore[union-attr]
    code = args[0]
    if code not in revision.letters:
        return await _ask_language(update, context, revision)
    draft.language = code
    _save(context, draft)
    if draft.addressee is not None:  # changing the language from the preview
        return await _next_step(update, context, draft)
    return await _ask_addressee(update, context, revision)


async def _ask_addressee(update: Update, context: Context, revision: ActionRevision) -> int:
    draft = _draft(context)
    assert draft is not None
    if len(revision.addressees) == 1:
        draft.addressee = 0
        _save(context, draft)
        return await _after_addressee(update, context)
    rows = [
        [(addressee.role[:60], _data(draft, PICK_ADDRESSEE, index))]
        for index, addressee in enumerate(revision.addressees)
    ]
    await say(update, escape(_("To whom do you want to write?")), _keyboard(rows))
    return ADDRESSEE


@_button
async def pick_addressee(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await update.callback_query.answer()  # type: ignore[union-attr]
    index = int(args[0])
    if not 0 <= index < len(revision.addressees):
        return await _ask_addressee(update, context, revision)
    draft.addressee = index
    _save(context, draft)
    return await _after_addressee(update, context)


async def _after_addressee(update: Update, context: Context) -> int:
    """Remembered sender details skip the name and place steps."""
    draft = _draft(context)
    assert draft is not None
    remembered = (context.user_data or {}).get(SENDER_KEY)
    if remembered and not draft.name:
        draft.name, draft.place, draft.remember = remembered["name"], remembered["place"], True
        _save(context, draft)
    return await _next_step(update, context, draft)


async def _next_step(update: Update, context: Context, draft: Draft) -> int:
    """The first unanswered text step, or the preview (also after an edit from it)."""
    if not draft.name:
        return await _ask_name(update, context)
    if draft.place is None:
        return await _ask(update, context, PLACE)
    if draft.personal is None:
        return await _ask(update, context, PERSONAL)
    return await _review(update, context)


async def _ask_name(update: Update, context: Context) -> int:
    user = update.effective_user
    suggestion = drafts.initials(user.first_name, user.last_name) if user else None
    markup = None
    if suggestion:
        label = _("Use my initials: {initials}").format(initials=suggestion)
        markup = _keyboard([[(label, _data(_draft_now(context), INITIALS))]])
    await say(update, escape(_ask_text(NAME)), markup)
    return NAME


async def _ask(update: Update, context: Context, state: int) -> int:
    """Ask for the place or the personal sentence, both skippable."""
    field = _FIELDS[state][0]
    skip = _keyboard([[("⏭ " + _("Skip"), _data(_draft_now(context), SKIP, field))]])
    await say(update, escape(_ask_text(state)), skip)
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


def _typed(state: int) -> Callable[[Update, Context], Coroutine[Any, Any, int]]:
    """The handler for text typed at ``state``: check it, keep the step if it is bad."""
    field, check = _FIELDS[state]

    async def typed(update: Update, context: Context) -> int:
        try:
            value = check(update.effective_message.text)  # type: ignore[union-attr]
        except InvalidInput as problem:
            await say(update, escape(str(problem)))
            return state
        return await _store(update, context, field, value)

    return typed


@_button
async def use_initials(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await update.callback_query.answer()  # type: ignore[union-attr]
    user = update.effective_user
    name = drafts.initials(user.first_name, user.last_name) if user else None
    if not name:
        return await _ask_name(update, context)
    return await _store(update, context, "name", name)


@_button
async def skipped(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    """Skip the place or the personal sentence ("" means skipped, None means not asked)."""
    await update.callback_query.answer()  # type: ignore[union-attr]
    field = args[0]
    if field not in ("place", "personal"):
        return await _lost(update, context)
    return await _store(update, context, field, "")


async def _store(update: Update, context: Context, field: str, value: str) -> int:
    current = await _current(context)  # the case may have been closed since the last step
    if current is None:
        return await _lost(update, context)
    draft = current[0]
    setattr(draft, field, value)
    _save(context, draft)
    return await _next_step(update, context, draft)


def _review_keyboard(draft: Draft) -> InlineKeyboardMarkup:
    remember = ("☑ " if draft.remember else "☐ ") + _("Remember my name and place")
    return _keyboard(
        [
            [
                ("✏️ " + _("Edit"), _data(draft, REVIEW_ACTION, "edit")),
                ("📄 " + _("Create the letter"), _data(draft, REVIEW_ACTION, "create")),
            ],
            [(remember, _data(draft, REVIEW_ACTION, "remember"))],
        ]
    )


async def _review(update: Update, context: Context) -> int:
    current = await _current(context)
    if current is None:
        return await _lost(update, context)
    draft, revision = current
    letter = drafts.letter_for(_normalised(draft), revision, date.today())
    await say_parts(update, drafts.preview(letter), _review_keyboard(draft))
    return REVIEW


def _normalised(draft: Draft) -> Draft:
    """Empty strings in the draft mean "skipped"."""
    return Draft(
        **{**draft.to_dict(), "place": draft.place or None, "personal": draft.personal or None}
    )


@_button
async def review_action(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    query = update.callback_query
    action = args[0]
    if action == "remember":
        draft.remember = not draft.remember
        _save(context, draft)
        await query.answer(  # type: ignore[union-attr]
            _("Your name and place will be remembered for the next letter.")
            if draft.remember
            else _("Your name and place will not be kept.")
        )
        await query.edit_message_reply_markup(_review_keyboard(draft))  # type: ignore[union-attr]
        return REVIEW
    await query.answer()  # type: ignore[union-attr]
    if action == "edit":
        rows = [
            [
                (_("Name"), _data(draft, EDIT, "name")),
                (_("City and country"), _data(draft, EDIT, "place")),
            ],
            [
                (_("Personal sentence"), _data(draft, EDIT, "personal")),
                (_("Letter language"), _data(draft, EDIT, "language")),
            ],
        ]
        await say(update, escape(_("What do you want to change?")), _keyboard(rows))
        return REVIEW
    return await _create(update, context, draft)


@_button
async def edit_choice(
    update: Update, context: Context, draft: Draft, revision: ActionRevision, args: list[str]
) -> int:
    await update.callback_query.answer()  # type: ignore[union-attr]
    field = args[0]
    if field == "name":
        return await _ask_name(update, context)
    if field == "place":
        return await _ask(update, context, PLACE)
    if field == "personal":
        return await _ask(update, context, PERSONAL)
    return await _ask_language(update, context, revision)


async def _create(update: Update, context: Context, draft: Draft) -> int:
    revision = await _revision(context, draft)
    if revision is None:
        return await _lost(update, context)
    letter = drafts.letter_for(_normalised(draft), revision, date.today())
    await update.effective_chat.send_action("upload_document")  # type: ignore[union-attr]
    document = InputFile(compose(letter), filename=file_name(revision.case, letter.language))
    sent_button = InlineKeyboardButton(
        "✅ " + _("I sent it"),
        callback_data=callbacks.data(
            render.SENT, callbacks.case_ref(revision.case), revision.revision, letter.language
        ),
    )
    await update.effective_chat.send_document(  # type: ignore[union-attr]
        document,
        caption=drafts.where_to_send(letter),
        reply_markup=InlineKeyboardMarkup([[sent_button]]),
    )
    if draft.remember:
        context.user_data[SENDER_KEY] = {"name": draft.name, "place": draft.place or None}  # type: ignore[index]
    else:
        context.user_data.pop(SENDER_KEY, None)  # type: ignore[union-attr]
    _clear(update, context)
    log.info("letter created for %s revision %s", revision.case, revision.revision)
    return ConversationHandler.END


# --- leaving ----------------------------------------------------------------------------------


async def not_text(update: Update, context: Context) -> int | None:
    """A photo, sticker or file where text is expected: ask again, keep the step."""
    await say(update, escape(_("Please send text, or /cancel to stop this letter.")))
    return None


async def use_buttons(update: Update, context: Context) -> int | None:
    await say(update, escape(_("Please use the buttons above, or /cancel to stop this letter.")))
    return None


async def cancel(update: Update, context: Context) -> int:
    _clear(update, context)
    await say(
        update, escape(_("Letter cancelled; nothing was kept. /actions shows the open cases."))
    )
    return ConversationHandler.END


async def timed_out(update: Update, context: Context) -> None:
    _clear(update, context)
    await say(
        update,
        escape(
            _(
                "Your letter was left for {minutes} minutes, so I closed it; nothing "
                "was kept. Tap “Write a letter” to start again."
            ).format(minutes=format_number(round(drafts.TIMEOUT_SECONDS / 60)))
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


def build() -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.TEXT & ~filters.COMMAND
    return conversation(
        "letter",
        conversation_timeout=TIMEOUT_SECONDS,
        entry_points=[
            CallbackQueryHandler(start_from_button, pattern=callbacks.pattern(render.WRITE)),
            CommandHandler("write", start_from_command, filters=filters.ChatType.PRIVATE),
        ],
        states={
            LANGUAGE: [
                CallbackQueryHandler(pick_language, pattern=callbacks.pattern(PICK_LANGUAGE)),
                MessageHandler(text, use_buttons),
            ],
            ADDRESSEE: [
                CallbackQueryHandler(pick_addressee, pattern=callbacks.pattern(PICK_ADDRESSEE)),
                MessageHandler(text, use_buttons),
            ],
            NAME: [
                MessageHandler(text, _typed(NAME)),
                CallbackQueryHandler(use_initials, pattern=callbacks.pattern(INITIALS)),
            ],
            PLACE: [
                MessageHandler(text, _typed(PLACE)),
                CallbackQueryHandler(skipped, pattern=callbacks.pattern(SKIP)),
            ],
            PERSONAL: [
                MessageHandler(text, _typed(PERSONAL)),
                CallbackQueryHandler(skipped, pattern=callbacks.pattern(SKIP)),
            ],
            REVIEW: [
                CallbackQueryHandler(review_action, pattern=callbacks.pattern(REVIEW_ACTION)),
                CallbackQueryHandler(edit_choice, pattern=callbacks.pattern(EDIT)),
                CallbackQueryHandler(pick_language, pattern=callbacks.pattern(PICK_LANGUAGE)),
                MessageHandler(text, use_buttons),
            ],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            MessageHandler(other, not_text),
        ],
    )


def register(app: Application) -> None:
    app.add_handler(build())

"""Admins publish actions: upload a .toml, see the preview, Publish or Discard; /broadcasts."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.actions import render
from bot.actions.importer import ImportKind, ImportRefused, load
from bot.actions.parse import MAX_FILE_BYTES, ActionFileError, parse_action, too_large
from bot.i18n import format_number, ngettext
from bot.i18n import gettext as _
from bot.ptb import callbacks
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import following
from bot.services.broadcast_report import progress_lines
from bot.services.publishing import discard_draft, import_draft, publish_and_broadcast
from handlers.access import admin_filter, is_admin
from handlers.replies import NotForUs, answer, edit, message_of, query_of, say, user_of

log = logging.getLogger(__name__)


async def upload(update: Update, context: Context) -> None:
    """An admin's action file: validate, store as a draft, show the preview."""
    document = message_of(update).document
    if document is None:  # the handler's filter admits documents only
        raise NotForUs("upload without a document")
    name = document.file_name or "action.toml"
    if not name.lower().endswith(".toml"):
        await say(update, escape(_("Send an action file: a .toml document.")))
        return
    size = document.file_size or 0
    config = context.config
    try:
        if size > MAX_FILE_BYTES:  # refused before downloading it
            raise too_large(name, size)
        try:
            file = await document.get_file()
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not download an uploaded action file: %s", exc)
            await say(update, escape(_("Telegram did not hand over the file: send it again.")))
            return
        # In a thread: a large broken file takes up to half a second to check.
        revision = await asyncio.to_thread(
            parse_action,
            data,
            source=name,
            languages=config.i18n.languages,
            default_language=config.i18n.default_language,
        )
        result = await import_draft(
            context.storage,
            revision,
            by=user_of(update).id,
        )
    except ActionFileError as error:
        for text in render.problems(error):
            await say(update, text)
        return
    except ImportRefused as refusal:
        await say(update, "❌ " + escape(str(refusal)))
        return

    reach, subscribers = await following.reach(context.storage, revision)
    offer = not (result.kind is ImportKind.UNCHANGED and result.published)
    await say(
        update,
        render.preview(
            result,
            subscribers,
            config.i18n.languages,
            config.i18n.default_language,
            today=context.bot_data.today(),
            reach=reach,
        ),
        markup=render.preview_keyboard(revision) if offer else None,
    )


async def decide(update: Update, context: Context) -> None:
    """Publish or Discard under a preview."""
    query = query_of(update)
    if not is_admin(update, context):
        await answer(
            update, _("This button no longer works. /help lists what I can do."), alert=True
        )
        return
    button = callbacks.DISCARD if callbacks.DISCARD.matches(query.data) else callbacks.PUBLISH
    parsed = button.parse(query.data, str, int)
    if parsed is None:  # crafted data: no revision the bot ever named
        await answer(
            update, _("This button no longer works. /help lists what I can do."), alert=True
        )
        return
    case, revision_number = callbacks.case_from_ref(parsed.text(0)), parsed.integer(1)
    storage = context.storage
    if button is callbacks.DISCARD:
        discarded = await discard_draft(storage, case, revision_number, by=query.from_user.id)
        text = (
            _("Discarded: nothing was published.")
            if discarded
            else _("This revision was already published or discarded.")
        )
        await answer(update)
        await edit(update, escape(text))
        return
    broadcast = await publish_and_broadcast(
        storage,
        case,
        revision_number,
        requested_by=query.from_user.id,
        engine=context.broadcasts,
        app=context.application,
    )
    if broadcast is None:
        await answer(update, _("This revision was already published or discarded."), alert=True)
        return
    revision = await load(storage, case, revision_number)
    label = render.case_label(case, revision.revision if revision else 1)
    await answer(update)
    await edit(
        update,
        escape(
            ngettext(
                "📣 Publishing {label} to {count} subscriber. /broadcasts shows the progress; "
                "a report follows at the end.",
                "📣 Publishing {label} to {count} subscribers. /broadcasts shows the progress; "
                "a report follows at the end.",
                broadcast.total,
            ).format(label=label, count=format_number(broadcast.total))
        ),
    )


async def broadcasts(update: Update, context: Context) -> None:
    """Progress of the running broadcasts: sent of total, time left."""
    await say(update, progress_lines(await context.broadcasts.current_progress()))


def register(app: Application) -> None:
    admins = admin_filter(app.bot_data.config)
    app.add_handlers(
        [
            MessageHandler(admins & filters.Document.ALL, upload),
            CommandHandler("broadcasts", broadcasts, filters=admins),
            CallbackQueryHandler(
                decide, pattern=callbacks.any_of(callbacks.PUBLISH, callbacks.DISCARD, arity=2)
            ),
        ]
    )

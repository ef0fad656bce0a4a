"""Admins' read-outs: /stats, /export (CSV, counts only) and /audit."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.i18n import gettext as _
from bot.ptb.context import Context
from bot.ptb.text import escape
from bot.services import following
from bot.services.reports import audit_lines, letters_csv, record_export, stats_lines
from handlers.access import admin_filter
from handlers.replies import say_all, send_document, user_of


async def stats(update: Update, context: Context) -> None:
    """Subscribers (active, paused, unreachable, by language) and letters per case."""
    storage = context.storage
    # Asked at once: during a broadcast each query would otherwise wait behind its writes.
    lines = stats_lines(
        *await asyncio.gather(
            storage.stats.subscribers(context.config.telegram.admins),
            storage.stats.letters(),
            following.followers(storage),
            storage.sessions.counts(),
        )
    )
    # Not in an f-string: pybabel extracts no call from inside one.
    await say_all(update, ["<b>" + escape(_("Statistics")) + "</b>", *map(escape, lines)])


async def export(update: Update, context: Context) -> None:
    """The per-case, per-revision, per-language counts as a CSV document."""
    storage = context.storage
    data = letters_csv(await storage.stats.letters(), await storage.sessions.per_case())
    # Translators: a word of the counts file's name (uabot-letters-2026-03-01.csv); no spaces.
    word = _("letters")
    name = f"uabot-{word}-{context.bot_data.today().isoformat()}.csv"
    # Recorded before the file goes: once the admin holds it, /audit already names it (an
    # entry written after the reply could be missing from an /audit sent right after).
    await record_export(storage, user_of(update).id, name)
    await send_document(
        update,
        InputFile(data, filename=name),
        caption=escape(_("Letters confirmed per case, revision and language. Counts only.")),
    )


async def audit(update: Update, context: Context) -> None:
    """The latest 20 admin actions."""
    entries = await context.storage.audit.latest(20)
    title = "<b>" + escape(_("Latest admin actions")) + "</b>"
    await say_all(update, [title, *map(escape, audit_lines(entries))])


def register(app: Application) -> None:
    admins = admin_filter(app.bot_data.config)
    app.add_handlers(
        [
            CommandHandler("stats", stats, filters=admins),
            CommandHandler("export", export, filters=admins),
            CommandHandler("audit", audit, filters=admins),
        ]
    )

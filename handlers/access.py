"""Who may use admin commands: a filter built from ``telegram.admins``.

Admin handlers are registered with this filter, so a non-admin's attempt falls through to the
unknown-command answer and nothing reveals that the command exists.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import filters

from bot.config import Config
from bot.ptb.context import Context


def admin_filter(config: Config) -> filters.BaseFilter:
    return filters.ChatType.PRIVATE & filters.User(user_id=sorted(config.telegram.admins))


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and context.config.is_admin(user.id)

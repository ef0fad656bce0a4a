"""Telegram handlers. ``register_all`` wires them into the application, in order."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    actions,
    admin,
    announce,
    archive,
    closing,
    errors,
    fallback,
    group_cases,
    groups,
    inline,
    letters,
    locale,
    onboarding,
    publishing,
    reminders,
    sessions,
    tally,
    topics,
)
from handlers.conversations import end_conversation as end_conversation


def register_all(app: Application) -> None:
    """Register every handler; groups and order matter, so they are all listed here."""
    # Group -1 runs first for every update: it picks the user's language for the others.
    locale.register(app, group=-1)
    # Group 0: the first matching handler wins, so the catch-all fallback comes last.
    onboarding.register(app)
    # Groups: /start, /actions, /archive, /privacy answered there; joining and leaving, /help,
    # /language, personal commands sent to private.
    group_cases.register(app)
    groups.register(app)
    # Admins' conversations (their entry points are admin-only commands).
    closing.register(app)
    announce.register(app)
    # The letter wizard before the other handlers: while a letter is written, its steps
    # take the user's text and buttons.
    letters.register(app)
    tally.register(app)
    # Groups' writing sessions: /session, /session_end and the session message's button.
    sessions.register(app)
    reminders.register(app)
    topics.register(app)
    actions.register(app)
    archive.register(app)
    publishing.register(app)
    admin.register(app)
    # Inline queries (``@bot …`` in any chat) come with no chat: nothing above takes them.
    inline.register(app)
    fallback.register(app)
    app.add_error_handler(errors.on_error)

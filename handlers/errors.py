"""The one error handler: log the failure, tell the user kindly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Conflict, NetworkError, TelegramError

from bot.i18n import gettext as _
from bot.ptb.context import Context
from bot.ptb.errors import Verdict, classify, config_fix
from bot.ptb.text import escape

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the exception with its traceback but without message texts or personal data."""
    error = context.error
    if update is None and context.job is None and isinstance(error, Conflict):
        if "webhook is active" in error.message:
            # Telegram's 409 to getUpdates while a webhook is set: not a second poller.
            log.warning(
                "Telegram refuses polling while a webhook is set (409): another instance or "
                "bot uses webhook mode with this token; set telegram.mode the same everywhere"
            )
            return
        # Telegram ended this poll for another's: a second copy runs elsewhere (PTB retries).
        log.warning("another copy of the bot is polling with this token: stop it (%s)", error)
        return
    if update is None and context.job is None and _outage(error):
        # Long polling failed (PTB retries with back-off): an outage, not a bug.
        assert isinstance(error, NetworkError)
        fix = config_fix(error)
        log.warning(
            "Telegram not reachable while polling (retrying): %s%s",
            error,
            f": {fix.text}" if fix else "",
        )
        return
    kind = "no update"
    if isinstance(update, Update):
        kind = f"update {update.update_id} ({_update_kind(update)})"
    log.error("error while handling %s", kind, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(
                _("Sorry, something went wrong. Please try again later."), show_alert=True
            )
            return
        except TelegramError:
            # Answered already (the handler acknowledged the tap before failing) or too old:
            # the alert would never show, so the chat says it instead.
            log.info("callback query not answerable; telling the user in the chat")
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            escape(_("Sorry, something went wrong. Please try again later.")),
        )
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)


def _outage(error: BaseException | None) -> bool:
    """A transport failure (refused, timed out, a 5xx, a proxy's page), not a request Telegram
    refused: the one reading of errors (``bot.ptb.errors.classify``) decides."""
    return isinstance(error, NetworkError) and classify(error) in (
        Verdict.TRANSIENT,
        Verdict.UNANSWERED,
    )


def _update_kind(update: Update) -> str:
    for kind in ("message", "edited_message", "callback_query", "inline_query", "my_chat_member"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"

"""What Telegram's errors mean for the bot: one reading, shared by every sender.

Only Telegram's own words make a person unreachable. PTB turns *any* 403 into ``Forbidden``
and any 400 into ``BadRequest``, also when the body is a proxy's or a firewall's HTML page:
then the message is PTB's own ("Forbidden (403). Parsing the server response b'<html>…'
failed"), raised from the ``TelegramError("Invalid server response")`` of the JSON parser. Such
an answer, or a JSON one without Telegram's description ("Forbidden (403)"), says nothing about
the recipient: it is transient, like a 5xx, a timeout or a refused connection. E-mail works the
same way: only hard bounces are permanent, soft ones are retried for days.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)


class Verdict(Enum):
    """What an answer means for one recipient."""

    UNREACHABLE = "unreachable"  # Telegram says this person cannot be written to
    REFUSED = "refused"  # Telegram refused this message (permanent, but not the person's fault)
    RETRY_AFTER = "retry_after"  # flood control: wait, then the same again
    TRANSIENT = "transient"  # the way to Telegram failed before the request left: try again
    UNANSWERED = "unanswered"  # the request went out, its answer did not come: maybe delivered


class Unanswered(NetworkError):
    """The request was written but no answer came: Telegram may have acted on it.

    Raised by the HTTP layer (``bot.ptb.http``), the one place that knows whether a
    failure came before the request left (a refused or timed-out connection, a full pool:
    nothing was sent) or after (the read timed out, the server hung up: a slow link may have
    delivered the message). A sender that must not send twice reads ``Verdict.UNANSWERED``.
    """


class AnswerTimedOut(TimedOut, Unanswered):
    """The read timed out after the request was written (still a ``TimedOut`` for PTB)."""


# Telegram's descriptions (lower case, PTB strips "Bad Request: ") that mean "this person
# cannot be reached": blocked the bot, deleted the account, never started it, unknown chat.
_GONE = (
    "bot was blocked by the user",
    "user is deactivated",
    "bot can't initiate conversation",
    "bot can't send messages to bots",
    "bot was kicked",
    "chat not found",
    "peer_id_invalid",
    "user not found",
)
# How the request backend words an HTTP error whose body is no Bot API answer.
NOT_TELEGRAM = "not Telegram's answer"
# PTB's own message when the answer carried no description: "Forbidden (403)".
_NOT_JSON = "Parsing the server response"
_NO_DESCRIPTION = re.compile(r"^[A-Za-z' -]+ \(\d{3}\)")


def is_bot_api_answer(payload: bytes) -> bool:
    """Whether an HTTP body is a Bot API answer (a JSON object with ``ok``), not something
    in between: a proxy's or captive portal's page, a load balancer's JSON of its own."""
    try:
        answer = json.loads(payload)
    except ValueError:  # UnicodeDecodeError too
        return False
    return isinstance(answer, dict) and isinstance(answer.get("ok"), bool)


def from_telegram(error: TelegramError) -> bool:
    """Whether the error carries Telegram's words (a Bot API JSON answer with a description)."""
    if isinstance(error.__cause__, TelegramError) or _NOT_JSON in error.message:
        return False  # raised from the JSON parser: the body was not a Bot API answer
    if NOT_TELEGRAM in error.message:
        return False  # the request backend saw an error page that was not Telegram's
    return not _NO_DESCRIPTION.match(error.message)


def classify(error: TelegramError) -> Verdict:
    """The one reading of an error from a send to one chat."""
    if isinstance(error, RetryAfter):
        return Verdict.RETRY_AFTER
    if isinstance(error, Forbidden | BadRequest) and from_telegram(error):
        text = error.message.lower()
        if any(gone in text for gone in _GONE):
            return Verdict.UNREACHABLE
        return Verdict.REFUSED
    if isinstance(error, ChatMigrated):
        return Verdict.REFUSED
    if isinstance(error, Unanswered):
        return Verdict.UNANSWERED
    # Everything else is about the way to Telegram, not the recipient: 5xx (NetworkError),
    # timeouts, refused connections, HTML pages, and a 401/404 (InvalidToken), which no
    # recipient causes.
    return Verdict.TRANSIENT


def unreachable(error: TelegramError) -> bool:
    """Blocked the bot, deleted the account, or a chat Telegram does not know."""
    return classify(error) is Verdict.UNREACHABLE


def unchanged(error: TelegramError) -> bool:
    """Telegram refused an edit that changes nothing ("message is not modified"): a second tap
    asked for what the first one's edit already shows; nothing is wrong."""
    return isinstance(error, BadRequest) and "message is not modified" in error.message.lower()


def described(error: TelegramError) -> str:
    """What the bot saw, for logs and /broadcasts (exception texts are redacted at the source).

    Telegram's own words are kept; of an answer that is no Bot API JSON (a proxy's HTML page)
    only PTB's status line, as the page itself says nothing about Telegram.
    """
    if not from_telegram(error):
        status = error.message.split(f". {_NOT_JSON}", 1)[0]
        return status if NOT_TELEGRAM in status else f"{status} ({NOT_TELEGRAM})"
    if type(error) in (NetworkError, TimedOut, Unanswered, AnswerTimedOut):
        return error.message  # the way failed ("aiohttp.ClientConnectorError: …"), no answer
    return f"{type(error).__name__}: {error.message}"


def token_refusal(error: InvalidToken) -> tuple[int | None, str]:
    """(status, reason) of a refused getMe; the status (401, or 404 for a malformed token) only
    if Telegram's own answer said it, None for a proxy's or a portal's page (an outage).

    ``Bot.initialize`` rewords the refusal with the token in it; the reason is its cause's.
    """
    cause = error.__cause__ if isinstance(error.__cause__, TelegramError) else error
    if _NOT_JSON in cause.message:
        return None, described(cause)
    return (404 if cause.message.startswith("Not Found") else 401), cause.message


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds (a timedelta with PTB_TIMEDELTA, else a number)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(frozen=True)
class ConfigFix:
    """What the operator must change for Telegram to be reached; ``lasting`` if waiting cannot
    help (a wrong proxy password, an untrusted certificate), unlike a captive portal."""

    text: str
    lasting: bool


_REDIRECT = re.compile(r"^[A-Za-z' -]+ \(3\d\d\)")


def config_fix(error: TelegramError) -> ConfigFix | None:
    """The config change a transport failure asks for, if any (read from the HTTP layer's
    words: aiohttp's exception class and OpenSSL's reason, PTB's status phrase)."""
    text = error.message
    if "ClientHttpProxyError: 407" in text:
        return ConfigFix("check the user and password in telegram.proxy", lasting=True)
    if "CERTIFICATE_VERIFY_FAILED" in text or "CertificateError" in text:
        return ConfigFix("set telegram.ca_bundle (see README)", lasting=True)
    if _REDIRECT.match(text):
        return ConfigFix(
            "something between the bot and Telegram redirects: check telegram.base_url / "
            "telegram.proxy",
            lasting=False,
        )
    return None

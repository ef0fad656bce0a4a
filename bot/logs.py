"""Logging for the ``uabot`` commands: what is logged, at which level, and never a secret.

Two rules hold at every verbosity:

* no secret: a filter on the root handlers masks the token, its secret half and proxy
  passwords in each record's message, arguments, traceback and stack (the second line of
  defence; the first is that errors are worded without them);
* no message texts or names: python-telegram-bot's DEBUG loggers write whole requests and
  updates (and the API URL with the token), aiosqlite's every statement with its parameters.
  So ``-v`` turns on DEBUG for the bot's own modules only; libraries stay at INFO.

Plain text by default; ``--log-format json`` writes one JSON object a line for log collectors
(journald, Loki, Elasticsearch), with the broadcast and case a record is about as fields.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from bot.ptb.redact import redact

# The bot's own top-level packages: ``-v`` shows their DEBUG records.
OWN_LOGGERS = ("bot", "handlers", "__main__")
CHATTY_LOGGERS = {
    # every job run at INFO: thousands of lines a day
    "apscheduler": logging.WARNING,
    # Every request at INFO, with its URL and so the token. The bot's requests go through
    # bot.ptb.http (aiohttp), but PTB imports httpx and would use it for any Bot built
    # without our request object.
    "httpx": logging.WARNING,
    # PTB's request layer logs one thing above DEBUG: a non-JSON answer (a proxy's HTML page,
    # which may quote the URL and so the token) with a traceback, before raising the error
    # that its caller reports anyway.
    "telegram.request": logging.CRITICAL,
}


# Where APScheduler's executor (PTB's JobQueue) logs a job that raised.
APSCHEDULER_JOBS = "apscheduler.executors.default"

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a record may carry through ``extra`` that the JSON lines show: ids, never user data.
JSON_FIELDS = ("broadcast", "case")


def about(broadcast: int | None = None, case: str | None = None) -> dict[str, Any]:
    """The ``extra`` of a record about a broadcast or a case (fields of the JSON lines)."""
    return {"broadcast": broadcast, "case": case}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the
    ``JSON_FIELDS`` a record carries; a traceback as one string field. It formats what the
    handler's redacting filter left, so secrets are masked here too."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in JSON_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StopConfirmFilter(logging.Filter):
    """PTB's last getUpdates at stop, failed (an outage): one line, not its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error while calling `get_updates` one more time"):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = (
                "could not confirm the last updates to Telegram while stopping (%s): "
                "they may come again at the next start"
            )
            record.args = (error,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


class _WebhookBodyFilter(logging.Filter):
    """A webhook post that is JSON but not an update: PTB logs the whole body (user data) at
    CRITICAL with a traceback. One line, without the body. (A body that is not JSON is a 500,
    which PTB logs at DEBUG, below what a library may log here.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Something went wrong processing the data received"):
            return True
        error = record.exc_info[1] if record.exc_info else None
        record.msg = "webhook: a post with the secret token is not an update (%s): ignored"
        record.args = (type(error).__name__ if error else "?",)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


class _CancelledJobFilter(logging.Filter):
    """A job cancelled at stop (bot.app cancels what outlasts the grace): one line, not the
    traceback APScheduler logs for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError):
            record.msg, record.args = "%s: cancelled at stop", (record.getMessage(),)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


class RedactingFilter(logging.Filter):
    """Masks secrets in every record that reaches a handler."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it unformatted rather than drop it
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        # The formatted, masked text is kept; the exception itself would be formatted again.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def setup_logging(
    verbose: bool, secrets: Iterable[str] = (), log_format: LogFormat = "text"
) -> RedactingFilter:
    """Log to stderr with a redacting filter on every root handler; returns the filter.

    Called again (tests run several commands in one process), it replaces the earlier filter
    and format.
    """
    logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
    logging.captureWarnings(True)  # warnings too pass the filter
    for name, level in CHATTY_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    updater = logging.getLogger("telegram.ext.Updater")
    if not any(isinstance(f, _StopConfirmFilter) for f in updater.filters):
        updater.addFilter(_StopConfirmFilter())
    if not any(isinstance(f, _WebhookBodyFilter) for f in updater.filters):
        updater.addFilter(_WebhookBodyFilter())  # its webhook server logs as the Updater
    jobs = logging.getLogger(APSCHEDULER_JOBS)
    if not any(isinstance(f, _CancelledJobFilter) for f in jobs.filters):
        jobs.addFilter(_CancelledJobFilter())
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.NOTSET)
    redacting = RedactingFilter()
    redacting.add(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redacting)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        elif isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    if verbose:
        logging.getLogger(__name__).debug(
            "debug logging for the bot's own modules; libraries stay at INFO "
            "(their DEBUG records hold message texts)"
        )
    return redacting

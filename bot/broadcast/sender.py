"""The broadcast's sendMessage: PTB's public ``Bot.do_api_request`` as background traffic.

``Bot.send_message`` builds a ``Message`` (``Message.de_json``) from every answer, which the
broadcast never reads; ``do_api_request`` without a ``return_type`` hands back the raw answer.
Everything else is the bot's own path: the same ``AiohttpRequest`` (``bot.ptb.http``),
PTB's error mapping, and the shared ``PriorityRateLimiter``, which ``ExtBot`` calls with
``rate_limit_args={"background": True}`` so replies go first and which waits out every 429.

``do_api_request`` does not insert the application's ``Defaults`` (and warns about that for a
method PTB knows): the send options are taken from those ``Defaults`` once per text instead.
Values that are not text are JSON-encoded once per text too, as PTB would encode them per call
(``RequestParameter.json_value``); only ``chat_id`` changes per recipient.

Measured with ``bench/broadcast.py`` (10,000 subscribers at 200/s, a shared 2-core machine):
0.80 ms bot CPU per delivered message on this path, 0.75 ms with the former hand-made
``RequestData`` subclass and its own connection pool; both meet the goal (<= 1 ms, ratio 0.998
of 200/s, no 429, p95 reply 16 ms), so the public path is worth its 0.05 ms. Paid, at
1,000/s (``--rate 1000 --paid``): 0.35-0.38 ms per message (the per-second costs spread over
five times the messages), ratio 0.999, no 429, p95 reply 23-52 ms.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from telegram import InlineKeyboardMarkup, TelegramObject
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.broadcast.ratelimit import BROADCAST

_METHOD = "sendMessage"
# The application's Defaults that apply to sendMessage.
_DEFAULTS = ("parse_mode", "link_preview_options", "disable_notification", "protect_content")

# do_api_request("sendMessage") warns on every call that Defaults are not inserted, which is
# what this module wants (it inserts them itself, once per text).
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.sendMessage' instead",
    category=PTBUserWarning,
    module=__name__.replace(".", r"\."),
)


def _encoded(value: Any) -> Any:
    """A value as PTB sends it: text as is, anything else as JSON text."""
    if isinstance(value, TelegramObject):
        value = value.to_dict()
    return value if isinstance(value, str | int) else json.dumps(value, ensure_ascii=False)


def send_options(bot: ExtBot[Any]) -> dict[str, Any]:
    """The send options of the application's ``Defaults`` (none without them)."""
    given = bot.defaults.api_defaults if bot.defaults is not None else {}
    return {key: given[key] for key in _DEFAULTS if key in given}


class Prepared:
    """One text's sendMessage parameters without its chat_id, encoded once."""

    __slots__ = ("fields",)

    def __init__(
        self, text: str, *, keyboard: InlineKeyboardMarkup | None, options: dict[str, Any]
    ) -> None:
        fields: dict[str, Any] = {"text": text, **options}
        if keyboard is not None:
            fields["reply_markup"] = keyboard
        self.fields = {key: _encoded(value) for key, value in fields.items()}


class BroadcastSender:
    """``send(chat_id, prepared)``: one sendMessage, paced as background traffic; ``paid``
    sends it with ``allow_paid_broadcast`` (Telegram's up to 1,000 a second, for Stars)."""

    def __init__(self, bot: ExtBot[Any], *, paid: bool = False) -> None:
        self._bot = bot
        # ExtBot refuses rate_limit_args without a rate limiter.
        self._rate_limit_args = BROADCAST if bot.rate_limiter is not None else None
        self.options = send_options(bot)
        if paid:
            self.options["allow_paid_broadcast"] = True

    async def send(
        self, chat_id: int, prepared: Prepared, *, deadline: float | None = None
    ) -> None:
        """Send, or raise the TelegramError PTB raises for Telegram's answer (a 429 only once
        the rate limiter, which waits them out, gives up); with ``deadline``, ``DeadlinePassed``
        if the rate limiter held it past then (unsent)."""
        args = self._rate_limit_args
        if deadline is not None and args is not None:
            args = {**args, "deadline": deadline}
        await self._bot.do_api_request(
            _METHOD,
            {"chat_id": chat_id, **prepared.fields},
            rate_limit_args=args,
        )

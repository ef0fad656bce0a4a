"""A Telegram Bot API emulator that plays Telegram for the bot in tests and benchmarks.

It speaks the real HTTP Bot API (so the real python-telegram-bot stack is exercised) and
offers simulated users plus fault injection (flood limits, blocked users, errors, delays).
It deliberately imports nothing else from the project.
"""

from .faults import ApiError, RateLimiter, TokenBucket
from .html import HtmlError, parse_html
from .server import Emulator
from .state import (
    BOT_USER,
    Button,
    CallbackAnswer,
    InlineAnswer,
    SentDocument,
    SentMessage,
    Stats,
)
from .users import SimUser

__all__ = [
    "BOT_USER",
    "ApiError",
    "Button",
    "CallbackAnswer",
    "Emulator",
    "HtmlError",
    "InlineAnswer",
    "RateLimiter",
    "SentDocument",
    "SentMessage",
    "SimUser",
    "Stats",
    "TokenBucket",
    "parse_html",
]

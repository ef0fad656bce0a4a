"""A Telegram Bot API emulator that plays Telegram for the bot in tests and benchmarks.

It speaks the real HTTP Bot API (so the real python-telegram-bot stack is exercised) and
offers simulated users plus fault injection (flood limits, blocked users, errors, delays).
It deliberately imports nothing else from the project.
"""

from .faults import GROUP_LIMIT, ApiError, RateLimiter, TokenBucket
from .groups import SimGroup
from .html import HtmlError, parse_html
from .server import Emulator
from .state import (
    BOT_USER,
    Button,
    CallbackAnswer,
    GroupChat,
    InlineAnswer,
    Member,
    SentDocument,
    SentMessage,
    Stats,
    UserMessage,
)
from .users import SimUser

__all__ = [
    "BOT_USER",
    "GROUP_LIMIT",
    "ApiError",
    "Button",
    "CallbackAnswer",
    "Emulator",
    "GroupChat",
    "HtmlError",
    "InlineAnswer",
    "Member",
    "RateLimiter",
    "SentDocument",
    "SentMessage",
    "SimGroup",
    "SimUser",
    "Stats",
    "TokenBucket",
    "UserMessage",
    "parse_html",
]

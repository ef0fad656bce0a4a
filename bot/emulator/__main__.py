"""``python -m bot.emulator``: run the emulator standalone for benchmarks and the web chat."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .faults import FREE_RATE, PAID_RATE
from .server import Emulator, serve_forever

# A token of the shape @BotFather gives (and `uabot run` checks): the bot's config can use it.
DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwx"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument(
        "--rate",
        type=float,
        default=FREE_RATE,
        help="a bot's sends per second (Telegram's ~30; 0: unlimited)",
    )
    parser.add_argument(
        "--paid-rate",
        type=float,
        default=PAID_RATE,
        help="paid broadcast messages (allow_paid_broadcast) per second (Telegram's 1000)",
    )
    parser.add_argument("--per-chat-rate", type=float, default=None)
    parser.add_argument("--per-chat-burst", type=int, default=3)
    parser.add_argument(
        "--inline", action="store_true", help="inline mode on, as @BotFather's /setinline"
    )
    parser.add_argument(
        "--inline-feedback",
        action="store_true",
        help="choosing an inline result tells the bot (/setinlinefeedback)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse options, start the server and run until interrupted."""
    args = build_parser().parse_args(argv)
    emu = Emulator(
        args.token,
        host=args.host,
        port=args.port,
        rate_limit=args.rate or None,
        paid_rate_limit=args.paid_rate or None,
        per_chat_rate=args.per_chat_rate,
        per_chat_burst=args.per_chat_burst,
        inline_mode=args.inline,
        inline_feedback=args.inline_feedback,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(emu))


if __name__ == "__main__":
    main()

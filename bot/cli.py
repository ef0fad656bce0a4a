"""The ``uabot`` command line: run, migrate and the operators' tools.

Operator mistakes (a bad config, a missing file) are one line on stderr and exit status 2;
tracebacks are for bugs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import __version__
from bot.config import Config, ConfigError, load_config

EXIT_USAGE = 2


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Long polling until Ctrl-C or SIGTERM."""
    from bot.app import build_application

    app = build_application(config)
    app.run_polling(allowed_updates=["message", "callback_query"])
    return 0


def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    """Bring the database schema up to date and say where it stands."""
    from bot.storage import Database

    async def migrate() -> tuple[list[str], int]:
        db = await Database.open(config.storage.path, migrate=False)
        try:
            applied = await db.migrate()
            return applied, await db.schema_version()
        finally:
            await db.close()

    applied, version = asyncio.run(migrate())
    for name in applied:
        print(f"applied {name}")
    print(f"{config.storage.path}: schema version {version}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uabot", description="The Urgent Action Telegram bot.")
    parser.add_argument("--version", action="version", version=f"uabot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(name: str, handler: Callable[..., int], help_text: str) -> None:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--config",
            type=Path,
            default=Path("config.toml"),
            help="TOML config file (default: config.toml)",
        )
        cmd.set_defaults(handler=handler)

    with_config("run", cmd_run, "Run the bot (long polling).")
    with_config("migrate", cmd_migrate, "Apply database migrations and exit.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        config = load_config(args.config)
        return int(args.handler(config, args))
    except ConfigError as exc:
        print(f"uabot: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130

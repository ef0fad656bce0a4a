"""The ``uabot`` command line: run, migrate and the operators' tools.

Operator mistakes (a bad config, a missing file) are one line on stderr and exit status 2;
tracebacks are for bugs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__, stops
from bot.config import (
    TOKEN_ENV,
    Config,
    ConfigError,
    load_config,
    parse_config,
)
from bot.i18n import configure, use_locale
from bot.logs import LOG_FORMATS, setup_logging
from bot.ptb.redact import token_secrets
from bot.storage.db import DatabaseInUse, DatabasePathError, is_postgres_url

if TYPE_CHECKING:
    from bot.actions.model import ActionRevision
    from bot.storage import Storage
    from bot.storage.backup import Snapshot

EXIT_USAGE = 2

log = logging.getLogger(__name__)


def fatal(args: argparse.Namespace, problem: str) -> int:
    """An operator's mistake that ends the command: one line on stderr, exit status 2. With
    ``--log-format json`` the line is a log record too (one JSON object), so that a log
    collector reads it as it reads every other line."""
    if getattr(args, "log_format", "text") == "json":
        log.critical("uabot: %s", problem)
    else:
        print(f"uabot: {problem}", file=sys.stderr)
    return EXIT_USAGE


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Long polling (or the webhook) until Ctrl-C or SIGTERM, once the doctor's offline checks
    pass."""
    from bot.app import ConfigMistake, TokenRejected, run
    from bot.doctor import Problem, rejected_token
    from bot.i18n import CatalogError
    from bot.storage import Database
    from bot.storage.db import hold_lock

    async def open_database() -> None:
        # Opened (created, migrated) and closed: any problem with it is told before Telegram.
        await (await Database.open(config.storage.target)).close()

    try:
        if not _preflight_waiting(config, args.config):
            return 0  # stopped while PostgreSQL was awaited
    except (Problem, CatalogError) as problem:
        return fatal(args, str(problem))
    # One bot per SQLite file, until this process ends (PostgreSQL: see issue 16 §4).
    lock = hold_lock(config.storage.path) if config.storage.sqlite else None
    try:
        run(config, open_database)  # a stop while it migrates is a clean stop too
    except TokenRejected as rejected:
        return fatal(args, rejected_token(config, args.config, rejected.status))
    except ConfigMistake as mistake:
        return fatal(args, str(mistake))
    finally:
        if lock is not None:
            os.close(lock)
    return 0


def _preflight_waiting(config: Config, source: Path) -> bool:
    """``uabot run``'s preflight, waiting out a PostgreSQL that does not answer yet (after a
    reboot it may start after uabot) as the start waits out Telegram: one line a try, the wait
    doubled up to a minute. A mistake (wrong password, no such database) ends at once.
    False when a stop came meanwhile."""
    import time

    from bot.app import START_RETRY_FIRST_SECONDS, START_RETRY_MAX_SECONDS
    from bot.doctor import preflight
    from bot.storage.db import DatabaseUnreachable

    delay = START_RETRY_FIRST_SECONDS
    while True:
        try:
            preflight(config, source)  # the token, the database, the catalogs: bot.doctor
            return True
        except DatabaseUnreachable as problem:
            log.warning("%s; next try in %g s", problem, delay)
        waited = 0.0
        while waited < delay and not stops.asked():  # a stop ends the wait at once
            time.sleep(0.1)
            waited += 0.1
        if stops.asked():
            log.info("stopped before the database was ready; it is as it was")
            return False
        delay = min(delay * 2, START_RETRY_MAX_SECONDS)


def cmd_doctor(config: Config | None, args: argparse.Namespace) -> int:
    """Every check, one line each (ok / problem and the fix); exit 1 on any problem."""
    from bot.doctor import Result, examine

    if config is None:  # main() found a problem in the config itself: the doctor says it
        results = [Result("config", False, args.config_problem)]
    else:
        results = [Result("config", True, f"{args.config} is valid")]
        results += asyncio.run(examine(config, args.config))
    for result in results:
        print(result.line())
    problems = sum(not result.ok for result in results)
    print(f"{problems} problem(s)" if problems else "all checks passed")
    return 1 if problems else 0


def _print_snapshot(snapshot: Snapshot) -> None:
    """Size and rows of a backup or a restored database: what the operator checks at a glance."""
    print(f"{snapshot.path}: {snapshot.size} bytes, schema version {snapshot.schema.version}")
    _print_rows(snapshot.rows)


def _print_rows(rows: dict[str, int]) -> None:
    for table, count in rows.items():
        print(f"  {table}: {count} {'row' if count == 1 else 'rows'}")


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd, a container stop) ends a one-shot command the way Ctrl-C does: its
    cleanup runs (a half-written temporary copy is removed), not the kernel's hard stop."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sqlite_only(config: Config, command: str) -> int | None:
    """``backup`` and ``restore`` copy SQLite files: PostgreSQL has its own tools."""
    if config.storage.sqlite:
        return None
    print(
        f"uabot: {command} copies SQLite files; storage.url is PostgreSQL: use pg_dump and "
        "pg_restore",
        file=sys.stderr,
    )
    return EXIT_USAGE


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    """A consistent copy of the database, also while the bot runs (SQLite's backup API)."""
    from bot.storage.backup import TargetRefused, take

    if (refused := _sqlite_only(config, "backup")) is not None:
        return refused

    try:
        with _terminate_as_interrupt():
            taken = take(config.storage.path, args.to, force=args.force)
    except TargetRefused as refusal:  # about the option, not about storage.path
        print(f"uabot: --to: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    _print_snapshot(taken)
    return 0


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    """Put a backup in the database's place; refused while a bot runs on it.

    ``uabot run`` holds ``<storage.path>.lock`` (flock) while it runs; restore takes the same
    lock, so it cannot replace a running bot's database, nor can a bot start mid-restore.
    """
    from bot.storage.backup import BackupRefused, put_back
    from bot.storage.db import check_path, hold_lock

    if (refused := _sqlite_only(config, "restore")) is not None:
        return refused
    check_path(config.storage.path)
    lock = hold_lock(config.storage.path)
    try:
        with _terminate_as_interrupt():
            restored, kept = put_back(args.source, config.storage.path)
    except BackupRefused as refusal:
        print(f"uabot: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        os.close(lock)
    _print_snapshot(restored)
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    if restored.schema.pending:
        print(f"{len(restored.schema.pending)} migration(s) will be applied at the next start")
    return 0


def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    """Bring the database schema up to date and say where it stands; refused while a bot runs.

    The lock ``uabot run`` and ``restore`` hold: a migration under a running (older) bot would
    change the tables beneath its queries. ``uabot run`` migrates at start anyway.
    """

    from bot.storage import Database
    from bot.storage.claims import Claims
    from bot.storage.db import check_path, hold_lock
    from bot.storage.instances import Instances

    async def migrate() -> tuple[list[str], int] | None:
        db = await Database.open(config.storage.target, migrate=False)
        try:
            # PostgreSQL: the lock below is SQLite's; running instances show here instead.
            lease = config.instances.lease_seconds
            if await Instances(db, Claims(db)).running(lease):
                return None
            applied = await db.migrate()
            return applied, await db.schema_version()
        finally:
            await db.close()

    lock = None
    if config.storage.sqlite:
        check_path(config.storage.path)
        lock = hold_lock(config.storage.path)
    try:
        done = asyncio.run(migrate())
    finally:
        if lock is not None:
            os.close(lock)
    if done is None:
        return fatal(
            args,
            f"{config.storage.shown}: uabot instances are running on this database (the "
            "poller lock is held, or their claims are live): stop every instance, then migrate",
        )
    applied, version = done
    for name in applied:
        print(f"applied {name}")
    print(f"{config.storage.shown}: schema version {version}")
    return 0


def cmd_migrate_storage(args: argparse.Namespace) -> int:
    """Copy a SQLite database into an empty PostgreSQL database, in one transaction."""
    from bot.storage.db import shown_url

    source: str = args.source
    if not source.startswith("sqlite:") or not is_postgres_url(args.target):
        print(
            "uabot: migrate-storage --from sqlite:PATH --to postgresql://USER:PASSWORD@HOST/DB",
            file=sys.stderr,
        )
        return EXIT_USAGE
    path = Path(source.removeprefix("sqlite:")).expanduser()
    if not path.is_file():
        print(f"uabot: --from: {path} is no file: name the bot's SQLite database", file=sys.stderr)
        return EXIT_USAGE
    from bot.storage.db import hold_lock, require_psycopg

    try:
        require_psycopg(args.target)
    except DatabasePathError as exc:
        print(f"uabot: --to: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from bot.storage.transfer import SourceRefused, TargetNotEmpty, copy_sqlite_to_postgres

    try:
        lock = hold_lock(path)  # no bot writes the source meanwhile (refused while one runs)
    except DatabaseInUse as exc:
        print(
            f"uabot: --from: a uabot runs on {path} (pid {exc.pid}): stop it first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except DatabasePathError as exc:
        print(f"uabot: --from: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        counts = asyncio.run(copy_sqlite_to_postgres(path, args.target))
    except TargetNotEmpty as refusal:
        print(f"uabot: --to: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    except SourceRefused as refusal:
        print(f"uabot: --from: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # the copy's one transaction is rolled back with its connection
        print("uabot: migrate-storage interrupted: nothing copied", file=sys.stderr)
        return 130
    except DatabasePathError as exc:  # the source (a copy of it) or the target
        side = "--to" if is_postgres_url(str(exc)) else "--from"
        print(f"uabot: {side}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        os.close(lock)
    _print_rows(counts)
    print(
        f"copied {path} to {shown_url(args.target)}: set storage.url to it (and remove "
        "storage.path) in the config"
    )
    return 0


def _parse_files(paths: list[Path], config: Config) -> tuple[list[ActionRevision], int]:
    """Parse every file, printing each problem and warning; returns the good revisions and the
    bad count (warnings do not make a file bad)."""
    from bot.actions.parse import ActionFileError, check_action, register_warnings
    from bot.ptb.context import BotData

    today = BotData.today()  # the bot's one clock: a deadline already past is warned about
    revisions, bad = [], 0
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            bad += 1
            continue
        try:
            checked = check_action(
                data,
                source=str(path),
                languages=config.i18n.languages,
                default_language=config.i18n.default_language,
                today=today,
            )
        except ActionFileError as error:
            print(error, file=sys.stderr)
            bad += 1
            continue
        revisions.append(checked.revision)
        register = register_warnings(checked.revision, config.i18n.formal)
        for warning in [*checked.warnings, *register]:
            print(f"warning: {warning.describe(str(path))}", file=sys.stderr)
    return revisions, bad


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """Validate action files without storing anything: exit 1 on any problem."""
    revisions, bad = _parse_files(args.files, config)
    for revision in revisions:
        texts, letters = ", ".join(revision.texts), ", ".join(revision.letters)
        print(f"ok: {revision.label} (texts {texts}; letters {letters or 'none'})")
    return 1 if bad else 0


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    """Store action files as drafts; with --publish, queue their broadcasts for the bot."""
    from bot.actions.importer import ImportKind, ImportRefused, import_revision
    from bot.services.publishing import publish_and_broadcast
    from bot.storage import Storage

    revisions, bad = _parse_files(args.files, config)

    async def run() -> int:
        refused = 0
        storage = await Storage.open(config.storage.target)
        try:
            for revision in revisions:
                try:
                    result = await import_revision(storage, revision, by=None)
                except ImportRefused as refusal:
                    print(f"{revision.label}: refused: {refusal}", file=sys.stderr)
                    refused += 1
                    continue
                if not args.publish:
                    print(f"{revision.label}: {result.kind.value}")
                    continue
                if result.kind is ImportKind.UNCHANGED and result.published:
                    print(f"{revision.label}: unchanged and already published: nothing to send")
                    continue
                # No engine here: the running bot picks the queued broadcast up.
                broadcast = await publish_and_broadcast(
                    storage, revision.case, revision.revision, requested_by=None, engine=None
                )
                if broadcast is None:
                    print(f"{revision.label}: {result.kind.value}; already published")
                    continue
                print(
                    f"{revision.label}: {result.kind.value} and published; broadcast "
                    f"{broadcast.id} to {broadcast.total} subscribers is queued for the "
                    "running bot"
                )
        finally:
            await storage.close()
        return refused

    refused = asyncio.run(run())
    return 1 if bad or refused else 0


def _with_storage(config: Config, read: Callable[[Storage], Awaitable[list[str]]]) -> int:
    """Open the database, print what ``read`` returns, close it.

    Reading commands never create a database: a missing one is a wrong path, not a new bot.
    """
    from bot.storage import Storage

    if config.storage.sqlite and not config.storage.path.exists():
        raise DatabasePathError(
            f"{config.storage.path} does not exist: check storage.path (relative paths are "
            "taken from the config file's folder); `uabot run` creates the database"
        )

    async def run() -> list[str]:
        storage = await Storage.open(config.storage.target)
        try:
            return await read(storage)
        finally:
            await storage.close()

    for line in asyncio.run(run()):
        print(line)
    return 0


def cmd_stats(config: Config, args: argparse.Namespace) -> int:
    """Subscribers and letters, as /stats shows them."""
    from bot.services import following
    from bot.services.reports import stats_lines

    async def read(storage: Storage) -> list[str]:
        return stats_lines(
            await storage.stats.subscribers(config.telegram.admins),
            await storage.stats.letters(),
            await following.followers(storage),
            await storage.sessions.counts(),
        )

    return _with_storage(config, read)


def cmd_audit(config: Config, args: argparse.Namespace) -> int:
    """The latest admin actions, as /audit shows them."""
    from bot.services.reports import audit_lines

    async def read(storage: Storage) -> list[str]:
        return audit_lines(await storage.audit.latest(args.limit))

    return _with_storage(config, read)


def cmd_sandbox(config: Config | None, args: argparse.Namespace) -> int:
    """The real bot against the emulator, behind a web chat on 127.0.0.1; Ctrl-C stops it."""
    from bot.sandbox.server import serve

    # Under asyncio.run, Ctrl-C cancels serve(), whose context managers stop the page, the
    # bot (running()'s shutdown) and the emulator; asyncio.run then re-raises it. Python keeps
    # a SIGINT its parent ignored ignored (a script's `trap '' INT`, a test worker after a
    # stopped `uabot run`): "Ctrl-C stops it" must hold whoever started it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    asyncio.run(serve(args.port, config))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uabot", description="The Urgent Action Telegram bot.")
    parser.add_argument("--version", action="version", version=f"uabot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(
        name: str, handler: Callable[..., int], help_text: str
    ) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        # After the command too (`uabot run -v`); SUPPRESS keeps a -v given before it.
        cmd.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
        )
        cmd.add_argument(
            "--config",
            type=Path,
            default=Path("config.toml"),
            help="TOML config file (default: config.toml)",
        )
        cmd.set_defaults(handler=handler)
        return cmd

    run = with_config("run", cmd_run, "Run the bot (long polling, or a webhook: [telegram] mode).")
    run.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text (default) or json: one JSON object a line, for log collectors",
    )
    with_config("migrate", cmd_migrate, "Apply database migrations and exit.")
    moving_help = "Copy a SQLite database into an empty PostgreSQL database."
    moving = sub.add_parser("migrate-storage", help=moving_help, description=moving_help)
    moving.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH")
    moving.add_argument("--to", dest="target", required=True, metavar="postgresql://…")
    moving.set_defaults(handler=lambda config, args: cmd_migrate_storage(args), no_config=True)
    doctor = with_config(
        "doctor", cmd_doctor, "Check the config, database, catalogs, feed and Telegram."
    )
    doctor.set_defaults(doctor=True)
    backup = with_config("backup", cmd_backup, "Copy the database (also while the bot runs).")
    backup.add_argument("--to", type=Path, required=True, metavar="FILE", help="the copy")
    backup.add_argument(
        "--force", action="store_true", help="replace FILE if it is an older uabot backup"
    )
    restore = with_config(
        "restore", cmd_restore, "Replace the database with a backup (the bot must be stopped)."
    )
    restore.add_argument(
        "--from", dest="source", type=Path, required=True, metavar="FILE", help="the backup"
    )
    check = with_config(
        "check", cmd_check, "Validate action files (exit status 1 on any problem)."
    )
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.set_defaults(config_optional=True)
    imp = with_config("import", cmd_import, "Store action files; --publish also broadcasts them.")
    imp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    imp.add_argument(
        "--publish", action="store_true", help="publish at once (the running bot sends them)"
    )
    with_config("stats", cmd_stats, "Print subscriber and letter statistics.")
    audit = with_config("audit", cmd_audit, "Print the latest admin actions.")
    audit.add_argument("--limit", type=int, default=20, help="how many (default: 20)")
    sandbox_help = "The real bot against a local emulator, in a web chat on 127.0.0.1."
    sandbox = sub.add_parser("sandbox", help=sandbox_help, description=sandbox_help)
    sandbox.add_argument("--port", type=int, default=8080, help="web chat port (default: 8080)")
    sandbox.add_argument(
        "--config",
        type=Path,
        default=None,
        help="use this config's languages, admins and a copy of its database (default: seeded)",
    )
    sandbox.set_defaults(handler=cmd_sandbox, sandbox=True)
    return parser


# What a shell tool killed by SIGPIPE exits with (128 + 13): its reader closed the pipe first.
EXIT_PIPE = 128 + signal.SIGPIPE


def _flushed(code: int) -> int:
    """Flush what the command printed now: a reader gone (`uabot backup | head`) is then no
    error at exit, as the work was done; the command's exit status stands."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_gone()
    return code


def _stdout_gone() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        # A stop while it starts is remembered and taken as any other (bot.stops): one line,
        # exit 0; not SIGTERM's kill nor a KeyboardInterrupt wherever it falls. Whatever ends
        # it (a config mistake too), one asked later changes nothing.
        stops.catch()
        try:
            return _command(args)
        finally:
            stops.ignore()
    return _command(args)


def _command(args: argparse.Namespace) -> int:
    # The environment's token is masked from the first record on; the config's once read.
    redacting = setup_logging(
        args.verbose,
        token_secrets(os.environ.get(TOKEN_ENV, "")),
        getattr(args, "log_format", "text"),
    )
    try:
        if getattr(args, "sandbox", False):
            # Seeded throwaway data unless --config names a real config (its database copied).
            config = load_config(args.config) if args.config else None
        elif getattr(args, "no_config", False):
            config = None
        elif getattr(args, "config_optional", False) and not args.config.exists():
            # `uabot check` works without a config: the default languages apply.
            config = parse_config({"telegram": {"token": "unused"}}, environ={})
        elif getattr(args, "doctor", False):
            try:
                config = load_config(args.config)
            except ConfigError as problem:  # the doctor's first line, not the end
                config, args.config_problem = None, str(problem)
        else:
            config = load_config(args.config)
        if config is None:
            return _flushed(int(args.handler(config, args)))
        redacting.add(config.secrets())
        configure(config.i18n)  # the organisation's variants (de-CH, formal) for what it prints
        # One language for everything a command prints: the config's default.
        with use_locale(config.i18n.default_language):
            return _flushed(int(args.handler(config, args)))
    except BrokenPipeError:  # the reader stopped early (`| head`, a pager quit): no bug
        _stdout_gone()
        return EXIT_PIPE
    except ConfigError as exc:
        return fatal(args, f"config error: {exc}")
    except DatabasePathError as exc:  # PostgreSQL's begin with the URL (password masked)
        return fatal(
            args, f"{'storage.url' if is_postgres_url(str(exc)) else 'storage.path'}: {exc}"
        )
    except DatabaseInUse as exc:
        return fatal(args, str(exc))
    except KeyboardInterrupt:
        # Ctrl-C is how `run` and `sandbox` stop: a normal end, whenever it comes (also while
        # starting); it interrupts the one-shot commands.
        return 0 if args.command in ("run", "sandbox") else 130
    except Exception:
        # A bug: its traceback goes through the log, where the filter masks any secret.
        log.exception("uabot %s stopped by an unexpected error", args.command)
        return 1

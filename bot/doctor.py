"""``uabot doctor``: every check an operator needs before (and after) starting the bot.

The offline checks are also the ones ``uabot run`` makes before it contacts Telegram (one
list, ``OFFLINE``): there they stop the start at the first problem, with the same one line
the doctor prints. The online ones (the feed, Telegram's ``getMe``) reuse the bot's own HTTP
stack and error classification, so a rejected token or a blocked network reads as it does
when ``uabot run`` meets it.

A check returns what it found (the "ok" line) or raises one of ``PROBLEMS`` worded as the
fix. The config itself is checked by loading it (``bot.config``'s one-line errors).
"""

from __future__ import annotations

import errno
import socket
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.config import Config, ConfigError, check_token, token_source
from bot.i18n import CatalogError, check_catalogs, configure
from bot.ptb.errors import config_fix, described, token_refusal
from bot.ptb.http import AiohttpRequest
from bot.ptb.redact import redact, without_userinfo
from bot.services import backup, feed
from bot.storage.db import (
    DatabasePathError,
    SchemaState,
    check_path,
    lock_holder,
    read_schema,
    require_psycopg,
)

# What to do when Telegram does not answer.
BLOCKED = "check the network, telegram.proxy or telegram.base_url (README: Behind a proxy)"


class Problem(Exception):
    """A check failed: one line saying what is wrong and the fix."""


# What a failed check raises: the bot's own one-line errors, and the doctor's.
PROBLEMS: tuple[type[Exception], ...] = (Problem, ConfigError, DatabasePathError, CatalogError)


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'problem':<8} {self.name}: {self.text}"


Check = Callable[[Config, Path], str]
OnlineCheck = Callable[[Config, Path], Awaitable[str]]


def token_shape(config: Config, source: Path) -> str:
    check_token(config, source)
    return f"{token_source(config, source)} has the shape of a bot token"


def storage(config: Config, source: Path) -> str:
    if not config.storage.sqlite:
        state = _postgres_schema(config)
        return (
            f"{config.storage.shown} answers ({'a uabot database' if state.applied else 'empty'})"
        )
    path = config.storage.path
    check_path(path)
    if path.exists():
        return f"{path} is readable and writable, in a writable folder"
    return f"{path} does not exist yet: the first start creates it (owner-only)"


def schema(config: Config, source: Path) -> str:
    """A database a newer uabot made is refused (its schema is unknown here). Migrations
    still pending are no problem: ``uabot run`` applies them at start (the doctor after an
    upgrade, while the old bot still runs, says so and needs no ``uabot migrate``)."""
    if config.storage.sqlite:
        path: Path | str = config.storage.path
        if not config.storage.path.exists():
            return "no database yet: created at the first start"
        state = read_schema(config.storage.path)
    else:
        path, state = config.storage.shown, _postgres_schema(config)
        if not state.applied:
            return _empty_postgres(config)
    if state.unknown:
        raise Problem(
            f"{path} is at schema version {state.version}, newer than this uabot knows "
            f"(migrations {', '.join(map(str, state.unknown))}): install the newer uabot"
            + (
                ", or restore a backup made by this one (uabot restore)"
                if config.storage.sqlite
                else ""
            )
        )
    if not state.pending:
        return f"version {state.version}, up to date"
    count = len(state.pending)
    return (
        f"version {state.version}; {count} migration{'' if count == 1 else 's'} pending "
        f"({', '.join(state.pending)}): applied at the next start"
    )


def _empty_postgres(config: Config) -> str:
    """An empty PostgreSQL target while the SQLite database sits at storage.path (the config's
    folder): the bot would start with no one subscribed. migrate-storage comes first."""
    path = config.storage.path
    if path.is_file():
        raise Problem(
            f"{config.storage.shown} has no tables yet while {path} holds the SQLite database: "
            f"copy it first (uabot migrate-storage --from sqlite:{path} --to the storage.url), "
            "or move that file away to start with an empty bot"
        )
    return (
        "no tables yet: created at the first start (a SQLite database to keep? uabot "
        "migrate-storage first)"
    )


def _postgres_schema(config: Config) -> SchemaState:
    """PostgreSQL's schema version; its errors (password masked) name the fix."""
    assert config.storage.url is not None
    require_psycopg(config.storage.url)
    from bot.storage.postgres import read_schema as read_postgres_schema

    return read_postgres_schema(config.storage.url)


def backup_folder(config: Config, source: Path) -> str:
    """The folder the running bot's backup job writes to (``[backup]``): a backup that cannot be
    written is otherwise only a warning in the log, every interval."""
    if not config.backup.every_hours:
        return "no automatic backups ([backup] every_hours = 0)"
    if not config.storage.sqlite:
        return "PostgreSQL: back it up with its own tools (pg_dump); [backup] is for SQLite"
    target = backup.folder(config)
    if target.is_dir():
        try:
            with tempfile.TemporaryFile(dir=target):
                pass
        except OSError as exc:
            raise Problem(
                f"{target} is not writable by this user ({exc.strerror}): fix its owner or "
                "choose another [backup] folder (under systemd's ProtectSystem=strict: "
                "one in /var/lib/uabot, or add it to ReadWritePaths)"
            ) from None
        return f"{target} is writable (every {config.backup.every_hours:g} h, {_keep(config)})"
    existing = next((p for p in target.parents if p.exists()), None)
    if existing is None or not existing.is_dir() or not _can_make_folder_in(existing):
        raise Problem(
            f"{target} does not exist and cannot be created here ({existing} is not a writable "
            "folder): create it for this user, or choose another [backup] folder"
        )
    return f"{target} does not exist yet: the first backup creates it (owner-only)"


def _can_make_folder_in(parent: Path) -> bool:
    """Try it (and undo it): permission bits say yes to root where the kernel says no."""
    try:
        with tempfile.TemporaryDirectory(dir=parent):
            return True
    except OSError:
        return False


def _keep(config: Config) -> str:
    return f"the newest {config.backup.keep} kept"


def metrics_listen(config: Config, source: Path) -> str:
    """``[metrics] listen`` can be served: a port another program holds (or a host that is not
    this machine's) otherwise stops ``uabot run`` only once Telegram has answered."""
    listen = config.metrics.listen
    if listen is None:
        return "not served ([metrics] listen not set)"
    host, _, port = listen.rpartition(":")
    held = _servable(config, "metrics.listen", listen, host.strip("[]"), int(port))
    return held or f"{listen} is free to serve /healthz and /metrics"


def webhook_listen(config: Config, source: Path) -> str:
    """Webhook mode: ``telegram.listen`` can be served (as ``metrics_listen``)."""
    if config.telegram.mode != "webhook":
        return "long polling: no webhook server to run"
    host, port = config.telegram.listen
    shown = host_port(host, port)
    held = _servable(config, "telegram.listen", shown, host, port)
    return held or f"{shown} is free for the webhook server"


def _servable(config: Config, key: str, shown: str, host: str, port: int) -> str | None:
    """Raise the problem when ``host:port`` cannot be bound, unless the uabot running on this
    database holds it: then that, as the ok line (after an upgrade, the old bot runs)."""
    try:
        with _bound(host, port):
            pass
    except OSError as exc:
        if (
            exc.errno == errno.EADDRINUSE
            and config.storage.sqlite
            and (pid := lock_holder(config.storage.path))
        ):
            return f"{shown} is served by the running uabot (pid {pid})"
        if exc.errno == errno.EADDRINUSE and _instances_seen(config):
            return f"{shown} is in use (by a running uabot?): instances run on this database"
        raise Problem(
            f"{shown} cannot be served ({exc.strerror or exc}): choose another {key} (a free "
            "port; an address of this machine; ports below 1024 need privileges)"
        ) from None
    return None


def _instances_seen(config: Config) -> bool:
    """PostgreSQL: instances run on the database (their live claims), one maybe on this
    machine; SQLite's ``lock_holder`` names it instead."""
    if config.storage.sqlite or config.storage.url is None:
        return False
    require_psycopg(config.storage.url)
    from bot.storage.instances import seen_running

    return seen_running(config.storage.url)


def _bound(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` as aiohttp binds it (SO_REUSEADDR), to close at once."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def catalogs(config: Config, source: Path) -> str:
    configure(config.i18n)
    check_catalogs(config.i18n.languages)
    return "translations load for " + ", ".join(config.i18n.languages)


def webhook(config: Config, source: Path) -> str:
    """Webhook mode's settings (``[telegram] mode``, ``webhook_url``, ``listen``, from the
    webhook work): their shape is checked as the config loads; this is the place for what
    goes beyond it (say, Telegram's ``getWebhookInfo`` last error, once the emulator has it).
    Read with ``getattr`` so the doctor works with and without those keys."""
    mode = getattr(config.telegram, "mode", "polling")
    if mode == "polling":
        return "long polling (no webhook to check)"
    url = without_userinfo(str(getattr(config.telegram, "webhook_url", "") or "?"))
    listen = getattr(config.telegram, "listen", None)
    where = "?" if listen is None else host_port(*listen)
    return f"{mode} at {url}, listening on {where}"


def host_port(host: str, port: int) -> str:
    """``telegram.listen`` as written in the config (``[::1]:8443`` for IPv6)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# (name, check): what ``uabot run`` checks before Telegram, in this order.
OFFLINE: tuple[tuple[str, Check], ...] = (
    ("token", token_shape),
    ("storage", storage),
    ("schema", schema),
    ("catalogs", catalogs),
    ("webhook", webhook),
)
# The doctor's: the same, and what only matters once the bot runs (its backups, its ports).
DOCTOR_OFFLINE: tuple[tuple[str, Check], ...] = (
    *OFFLINE,
    ("backup", backup_folder),
    ("metrics", metrics_listen),
    ("webhook server", webhook_listen),
)


def preflight(config: Config, source: Path) -> None:
    """``uabot run``'s start-up checks: raise the first problem (the CLI prints it, exit 2)."""
    for _, check in OFFLINE:
        check(config, source)


async def feed_source(config: Config, source: Path) -> str:
    location = config.feed.source
    if location is None:
        return "no feed.source configured"
    try:
        files = await feed.fetch(location)
    except feed.FeedUnavailable as exc:
        raise Problem(f"cannot read it now: {exc}: check feed.source") from None
    return f"{without_userinfo(location)}: {len(files)} action file(s)"


async def telegram(config: Config, source: Path) -> str:
    """One ``getMe``, through the configured proxy or Bot API server, with the bot's own
    request class; no retry: the doctor says what it sees now."""
    settings = config.telegram
    bot = Bot(
        settings.token,
        base_url=settings.base_url or "https://api.telegram.org/bot",  # PTB's defaults
        base_file_url=settings.base_file_url or "https://api.telegram.org/file/bot",
        request=AiohttpRequest(
            connection_pool_size=1,
            proxy=settings.proxy,
            ca_bundle=settings.ca_bundle,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        ),
    )
    host = where(config)
    try:
        async with bot:
            seen = [f"@{bot.username} answers ({host})", inline_mode(bot)]
            if getattr(settings, "mode", "polling") == "webhook":
                seen.append(await webhook_delivery(bot))
            return "; ".join(seen)
    except InvalidToken as error:
        status, reason = token_refusal(error)
        if status is None:  # a proxy's or portal's page: not Telegram's word on the token
            raise Problem(f"Telegram ({host}) not reachable: {reason}") from None
        raise Problem(rejected_token(config, source, status)) from None
    except RetryAfter:
        raise Problem(f"Telegram ({host}) asks to wait (429): try again in a minute") from None
    except TelegramError as error:
        reason = described(error)
        fix = config_fix(error)
        hint = BLOCKED if fix is None else fix.text
        raise Problem(f"Telegram ({host}) not reachable: {reason}: {hint}") from None


# Inline mode is off for a new bot; only the operator can turn it on (README, "Inline mode").
SETINLINE = "/setinline at @BotFather lets supporters share cases with @{bot}"


def inline_mode(bot: Bot) -> str:
    """Whether Telegram offers the bot in other chats (getMe): informational, as either is
    a choice the operator may have made."""
    if bot.bot.supports_inline_queries:
        return "inline mode on"
    return f"inline mode off ({SETINLINE.format(bot=bot.username)})"


async def webhook_delivery(bot: Bot) -> str:
    """What Telegram says of the webhook (getWebhookInfo): where it posts, or why updates wait.

    A last error alone is history (say, a restart); with updates waiting it is a problem now.
    """
    info = await bot.get_webhook_info()
    url = without_userinfo(info.url)
    if info.pending_update_count > 0 and info.last_error_message:
        raise Problem(
            f"Telegram cannot deliver to {url}: {info.last_error_message} "
            f"({info.pending_update_count} waiting): check the reverse proxy and "
            "telegram.webhook_url"
        )
    return f"Telegram posts to {url}" if url else "webhook not set yet: uabot run sets it"


def rejected_token(config: Config, source: Path, status: int) -> str:
    """Telegram's refusal of the token (401, or 404 for a malformed one), with the fix: the
    doctor's line and ``uabot run``'s."""
    fix = f"check {token_source(config, source)}"
    if status == 404:
        fix += " and telegram.base_url"
    return f"Telegram rejected the token ({status}): {fix}"


def where(config: Config) -> str:
    """Which Bot API host, through which proxy: for the operator, without any secret."""
    parts = urlsplit(config.telegram.base_url or "https://api.telegram.org/bot")
    shown = parts.hostname or "?"
    with suppress(ValueError):  # a port that is not a number: the host says enough
        shown += f":{parts.port}" if parts.port else ""
    if config.telegram.proxy:
        shown += f" through the proxy {without_userinfo(config.telegram.proxy)}"
    return shown


ONLINE: tuple[tuple[str, OnlineCheck], ...] = (("feed", feed_source), ("telegram", telegram))


async def examine(config: Config, source: Path) -> list[Result]:
    """Every check, offline then online; none stops the others."""
    results: list[Result] = []
    for name, check in DOCTOR_OFFLINE:
        if name == "schema" and any(r.name == "storage" and not r.ok for r in results):
            continue  # the database's one problem, said once (by the storage check)
        try:
            results.append(Result(name, True, check(config, source)))
        except PROBLEMS as problem:
            results.append(Result(name, False, str(problem)))
    for name, online in ONLINE:
        try:
            results.append(Result(name, True, await online(config, source)))
        except PROBLEMS as problem:
            results.append(Result(name, False, str(problem)))
    secrets = config.secrets()
    return [Result(r.name, r.ok, redact(r.text, secrets)) for r in results]

"""TOML configuration -> frozen, typed objects, validated once at start.

Every problem becomes one ``ConfigError`` line naming the key and the fix; the CLI prints it and
exits with status 2, so an operator never has to read a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
import ssl
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl

from bot.ptb.redact import proxy_secrets, token_secrets, without_userinfo

TOKEN_ENV = "UABOT_TOKEN"
# A token from @BotFather: the bot's id, a colon, a secret of about 35 characters.
_TOKEN_SHAPE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,60}")
# The token in config.example.toml: a config copied but not filled in.
_PLACEHOLDER = "replace-me"
# Telegram's rule for setWebhook's secret_token.
_SECRET_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SECRET_HINT = "from: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# The only ports api.telegram.org delivers webhooks to.
_WEBHOOK_PORTS = (443, 80, 88, 8443)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def closest(name: str, known: Iterable[str]) -> str | None:
    """Did-you-mean, one rule for config keys and action-file keys: the known name closest to
    ``name``, or None when none is close (difflib's 0.6 ratio)."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None


class ConfigError(Exception):
    """A configuration problem, worded as one line for the operator."""


class Secret(str):
    """A string that never shows itself in logs, reprs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class TelegramConfig:
    token: Secret = field(repr=False)
    base_url: str | None = None
    base_file_url: str | None = None
    proxy: str | None = None  # an http(s) proxy for every request to the Bot API
    admins: frozenset[int] = frozenset()
    # The CAs trusted for https: "certifi" (default), "system" or a PEM bundle's path.
    ca_bundle: str = "certifi"
    token_from_env: bool = False  # whether UABOT_TOKEN gave the token (for error messages)
    # The file telegram.token_file named, when the token came from it (for error messages).
    token_file: Path | None = None
    connect_timeout: float = 5.0  # seconds to open a connection to the Bot API (or proxy)
    read_timeout: float = 5.0  # seconds to wait for each read of an answer
    # How updates arrive: "polling" (getUpdates, the default) or "webhook" (Telegram POSTs
    # them to webhook_url, which a reverse proxy forwards to ``listen``).
    mode: str = "polling"
    webhook_url: str | None = None  # the public https URL Telegram posts to
    listen: tuple[str, int] = ("127.0.0.1", 8443)  # where the bot's webhook server listens
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; requests without it are refused.
    secret_token: Secret | None = field(default=None, repr=False)

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: webhook_url's (a reverse proxy keeps it)."""
        return urlsplit(self.webhook_url or "").path or "/"


@dataclass(frozen=True)
class StorageConfig:
    path: Path = Path("uabot.sqlite3")
    # A PostgreSQL database instead of the SQLite file (``postgresql://user:pw@host/db``).
    url: str | None = None

    @property
    def target(self) -> Path | str:
        """What ``bot.storage`` opens: the URL when one is set, else the SQLite file."""
        return self.url if self.url is not None else self.path

    @property
    def sqlite(self) -> bool:
        return self.url is None

    @property
    def shown(self) -> str:
        """The database for logs and messages: the file, or the URL without its password."""
        from bot.storage.db import shown_url

        return str(self.path) if self.url is None else shown_url(self.url)


@dataclass(frozen=True)
class I18nConfig:
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "de", "fr")
    # The organisation's country (ISO 3166, "CH"): letters in a language official there are
    # tagged and dated for it (de-CH, fr-CH); None: each language's own region (de-DE, en-GB).
    region: str | None = None
    # The configured tags naming a country ("de-CH", "fr-CH"): the catalog variant and CLDR
    # formats of their language (bot.i18n.configure); ``languages`` holds the languages alone.
    variants: tuple[str, ...] = ()
    # Address supporters as "Sie" where a formal catalog exists (locales/de@formal).
    formal: bool = False


@dataclass(frozen=True)
class BroadcastConfig:
    messages_per_second: float = 25.0
    # Broadcast messages carry ``allow_paid_broadcast``: Telegram then takes up to
    # ``PAID_RATE_LIMIT`` a second instead of ``FREE_RATE_LIMIT``, for Stars per message.
    paid: bool = False
    # A recipient whom only outages kept from their message fails after this long.
    give_up_after_hours: float = 24.0
    # A paused broadcast probes Telegram with back-off doubling from 1 s up to this.
    max_probe_interval_seconds: float = 300.0
    # Several instances on one PostgreSQL database (issue 16 §4): an instance holds the
    # recipients it claimed this long (a dead one's come back to the others after it), and
    # looks again this often for those another instance still holds.
    claim_lease_seconds: float = 30.0
    claim_retry_seconds: float = 1.0


@dataclass(frozen=True)
class RemindersConfig:
    days_before_deadline: int = 3


@dataclass(frozen=True)
class FeedConfig:
    source: str | None = None  # a directory of action files, or an http(s) URL of an index
    interval_minutes: float = 30.0
    auto_publish: bool = False


@dataclass(frozen=True)
class LettersConfig:
    # A letter left alone this long is closed with a note and its draft deleted.
    timeout_minutes: float = 30.0
    # The organisation's town for a letter's date line when the writer gives no place of
    # their own ("Bern, 3. März 2026"); None: the date alone.
    place: str | None = None


@dataclass(frozen=True)
class MetricsConfig:
    # "host:port" of /healthz and /metrics (Prometheus); None: not served.
    listen: str | None = None
    # /healthz answers 503 once Telegram's long poll has not answered for this long.
    stale_after_seconds: float = 120.0


@dataclass(frozen=True)
class ActionsConfig:
    # An open case past its deadline stays in /actions, under "recently expired", this many
    # days; after that it is found only in /archive.
    expired_days: int = 14


@dataclass(frozen=True)
class BackupConfig:
    # The running bot backs the database up this often (0: never; `uabot backup` still works).
    every_hours: float = 24.0
    # How many of its backups it keeps in ``folder`` (the oldest beyond are deleted).
    keep: int = 7
    # Where: by default a "backups" folder beside the database (created owner-only).
    folder: Path | None = None


@dataclass(frozen=True)
class SessionsConfig:
    # /session without minutes runs this long; at most max_minutes may be asked for.
    default_minutes: int = 45
    max_minutes: int = 24 * 60
    # How many real seconds a session's minute lasts: 60, but for tests and the sandbox,
    # which compress a session's countdown and end into seconds.
    minute_seconds: float = 60.0


@dataclass(frozen=True)
class InstancesConfig:
    """Several ``uabot run`` on one PostgreSQL database (issue 16 §4); SQLite runs one."""

    # How often a standby instance tries to take over polling from the one that polls.
    standby_retry_seconds: float = 5.0
    # How long a claim of scheduled work (a group's session) outlives its instance's last
    # sign of life, and how long a silent database connection (TCP keepalives) counts as alive.
    lease_seconds: float = 15.0


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig = StorageConfig()
    i18n: I18nConfig = I18nConfig()
    broadcast: BroadcastConfig = BroadcastConfig()
    reminders: RemindersConfig = RemindersConfig()
    feed: FeedConfig = FeedConfig()
    letters: LettersConfig = LettersConfig()
    metrics: MetricsConfig = MetricsConfig()
    actions: ActionsConfig = ActionsConfig()
    backup: BackupConfig = BackupConfig()
    sessions: SessionsConfig = SessionsConfig()
    instances: InstancesConfig = InstancesConfig()

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.telegram.admins

    def secrets(self) -> tuple[str, ...]:
        """What no output may show: the token, its secret half, the proxy's and the feed's
        passwords."""
        from bot.storage.db import url_passwords

        feed = self.feed.source if self.feed.source and "://" in self.feed.source else None
        return (
            token_secrets(self.telegram.token)
            + ((self.telegram.secret_token,) if self.telegram.secret_token else ())
            + proxy_secrets(self.telegram.proxy)
            + proxy_secrets(feed)
            + url_passwords(self.storage.url)  # its password, in the user part or ?password=
        )


# key -> (expected python type(s), human description); the single description of the schema.
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], str]]] = {
    "telegram": {
        "token": (str, "a string like '123456:ABC...' from @BotFather"),
        "base_url": (str, "a URL such as 'http://127.0.0.1:8081/bot'"),
        "base_file_url": (str, "a URL such as 'http://127.0.0.1:8081/file/bot'"),
        "proxy": (str, "a proxy URL such as 'http://proxy.example.org:3128'"),
        "admins": (list, "a list of Telegram user ids, e.g. [12345678]"),
        "ca_bundle": (str, "'certifi', 'system' or the path of a PEM file of CA certificates"),
        "connect_timeout": ((int, float), "a number of seconds such as 5"),
        "read_timeout": ((int, float), "a number of seconds such as 5"),
        "mode": (str, "'polling' (the default) or 'webhook'"),
        "webhook_url": (str, "the public https URL Telegram posts updates to"),
        "listen": (str, "host:port of the bot's webhook server, such as '127.0.0.1:8443'"),
        "secret_token": (str, f"1-256 characters of A-Z a-z 0-9 _ -, e.g. {_SECRET_HINT}"),
        "token_file": (str, "the path of a file that holds only the token"),
    },
    "storage": {
        "path": (str, "a file path such as 'uabot.sqlite3'"),
        "url": (
            str,
            "a PostgreSQL URL such as 'postgresql://uabot:PASSWORD@db.example.org/uabot'",
        ),
    },
    "i18n": {
        "default_language": (str, "a language code such as 'en'"),
        "languages": (list, "a list of language codes, e.g. ['en', 'de', 'fr']"),
        "region": (str, "a country code of two capital letters such as 'CH'"),
        "formal": (bool, "true or false"),
    },
    "broadcast": {
        "messages_per_second": ((int, float), "a number such as 25"),
        "paid": (bool, "true or false"),
        "give_up_after_hours": ((int, float), "a number of hours such as 24"),
        "max_probe_interval_seconds": ((int, float), "a number of seconds such as 300"),
        "claim_lease_seconds": ((int, float), "a number of seconds such as 30"),
        "claim_retry_seconds": ((int, float), "a number of seconds such as 1"),
    },
    "reminders": {"days_before_deadline": (int, "a whole number of days such as 3")},
    "feed": {
        "source": (str, "a directory such as 'actions/' or an URL such as 'https://…/index.json'"),
        "interval_minutes": ((int, float), "a number of minutes such as 30"),
        "auto_publish": (bool, "true or false"),
    },
    "letters": {
        "timeout_minutes": ((int, float), "a number of minutes such as 30"),
        "place": (str, "the organisation's town for letters' date lines, such as 'Bern'"),
    },
    "metrics": {
        "listen": (str, "a host and port such as '127.0.0.1:9464'"),
        "stale_after_seconds": ((int, float), "a number of seconds such as 120"),
    },
    "actions": {"expired_days": (int, "a whole number of days such as 14")},
    "backup": {
        "every_hours": ((int, float), "a number of hours such as 24 (0: no automatic backups)"),
        "keep": (int, "a whole number of backups such as 7"),
        "folder": (str, "a folder path such as 'backups'"),
    },
    "sessions": {
        "default_minutes": (int, "a whole number of minutes such as 45"),
        "max_minutes": (int, "a whole number of minutes such as 1440"),
        "minute_seconds": ((int, float), "a number of seconds such as 60"),
    },
    "instances": {
        "standby_retry_seconds": ((int, float), "a number of seconds such as 5"),
        "lease_seconds": ((int, float), "a number of seconds such as 15"),
    },
}


def _check_shape(raw: dict[str, Any]) -> None:
    for section, values in raw.items():
        if section not in _SCHEMA:
            if suggestion := closest(section, _SCHEMA):
                raise ConfigError(f"unknown section [{section}]: did you mean [{suggestion}]?")
            known = ", ".join(f"[{name}]" for name in _SCHEMA)
            raise ConfigError(f"unknown section [{section}]: remove it (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"'{section}' must be a [{section}] table")
        for key, value in values.items():
            if key not in _SCHEMA[section]:
                if suggestion := closest(key, _SCHEMA[section]):
                    raise ConfigError(
                        f"unknown key {section}.{key}: did you mean {section}.{suggestion}?"
                    )
                known = ", ".join(_SCHEMA[section])
                raise ConfigError(f"unknown key {section}.{key}: remove it (known: {known})")
            expected, description = _SCHEMA[section][key]
            if (isinstance(value, bool) and expected is not bool) or not isinstance(
                value, expected
            ):
                raise ConfigError(
                    f"{section}.{key} has the wrong type ({type(value).__name__}): "
                    f"expected {description}"
                )


def _languages(i18n: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """``i18n.languages`` as languages, the tags that name a variant ("de-CH"), and the
    default language; bot.i18n.split_tag reads each tag (and refuses one CLDR does not know).
    The default is one of the tags: "de" or "de-CH" for ["de-CH"], not "de-AT"."""
    from bot.i18n import split_tag

    tags = i18n.get("languages", I18nConfig.languages)
    if not tags or not all(isinstance(tag, str) and tag for tag in tags):
        raise ConfigError("i18n.languages must be a non-empty list of codes, e.g. ['en', 'de']")
    territories: dict[str, str | None] = {}
    for tag in tags:
        try:
            language, territory = split_tag(tag)
        except ValueError as error:
            raise ConfigError(f"i18n.languages: {error}") from None
        if language in territories:
            raise ConfigError(f"i18n.languages names {language!r} twice: keep one variant")
        territories[language] = territory
    default = i18n.get("default_language", I18nConfig.default_language)
    try:
        default_language, default_territory = (
            split_tag(default) if isinstance(default, str) else ("", None)
        )
    except ValueError:
        default_language, default_territory = "", None
    if default_language not in territories or default_territory not in (
        None,
        territories[default_language],
    ):
        raise ConfigError(
            f"i18n.default_language {default!r} is not in i18n.languages "
            f"({', '.join(map(repr, tags))}): name one of them, or add it there"
        )
    variants = tuple(f"{lang}-{terr}" for lang, terr in territories.items() if terr is not None)
    return tuple(territories), variants, default_language


def _region(i18n: dict[str, Any], variants: tuple[str, ...]) -> str | None:
    """The organisation's country for letters: ``i18n.region``, else what the variants say
    (bot.i18n.organisation_region: ["de-CH", "fr-CH", "en-GB"] -> "CH")."""
    from bot.i18n import is_country, organisation_region

    region = i18n.get("region") or None
    if region is None:
        return organisation_region(variants)
    if not is_country(region):
        raise ConfigError(f"i18n.region {region!r} is not a country code: use e.g. 'CH'")
    return region


def parse_config(
    raw: dict[str, Any], environ: dict[str, str] | None = None, *, base: Path | None = None
) -> Config:
    """Validate a parsed TOML document (``environ`` defaults to the process environment).

    Relative paths (storage.path, telegram.ca_bundle, a feed directory) are taken from ``base``,
    the config file's folder (default: the current directory), after expanding ``~``.
    """
    environ = dict(os.environ) if environ is None else environ
    base = Path.cwd() if base is None else base
    _check_shape(raw)
    telegram = raw.get("telegram", {})
    from_env = bool(environ.get(TOKEN_ENV))
    if "token" in telegram and "token_file" in telegram:
        raise ConfigError("set telegram.token or telegram.token_file, not both")
    token_file = None
    if from_env:
        token = environ[TOKEN_ENV]
    elif "token_file" in telegram:
        token_file = _resolve(telegram["token_file"], base)
        token = _read_token(token_file)
    else:
        token = telegram.get("token", "")
    if not token.strip():
        raise ConfigError(
            f"telegram.token is missing: set it in the config, in telegram.token_file or in "
            f"${TOKEN_ENV} (get one from @BotFather)"
        )
    proxy = _proxy(telegram.get("proxy") or None)
    ca_bundle = _ca_bundle(telegram.get("ca_bundle") or TelegramConfig.ca_bundle, base)
    timeouts = {
        "connect_timeout": telegram.get("connect_timeout", TelegramConfig.connect_timeout),
        "read_timeout": telegram.get("read_timeout", TelegramConfig.read_timeout),
    }
    for key, seconds in timeouts.items():
        if not 0 < seconds <= 600:
            raise ConfigError(f"telegram.{key} must be more than 0 and at most 600 (seconds)")
    webhook = _webhook(telegram)
    admins = telegram.get("admins", [])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        raise ConfigError("telegram.admins must hold Telegram user ids (integers), e.g. [12345]")

    i18n = raw.get("i18n", {})
    languages, variants, default_language = _languages(i18n)
    region = _region(i18n, variants)
    formal = i18n.get("formal", I18nConfig.formal)
    if not isinstance(formal, bool):
        raise ConfigError("i18n.formal must be true or false")

    broadcast = raw.get("broadcast", {})
    rate = broadcast.get("messages_per_second", BroadcastConfig.messages_per_second)
    paid = broadcast.get("paid", BroadcastConfig.paid)
    _check_rate(rate, paid)
    give_up = broadcast.get("give_up_after_hours", BroadcastConfig.give_up_after_hours)
    if not 0 < give_up <= 24 * 30:
        raise ConfigError(
            "broadcast.give_up_after_hours must be more than 0 and at most 720, e.g. 24"
        )
    probe = broadcast.get("max_probe_interval_seconds", BroadcastConfig.max_probe_interval_seconds)
    if not 0 < probe <= 3600:
        raise ConfigError(
            "broadcast.max_probe_interval_seconds must be more than 0 and at most 3600, e.g. 300"
        )
    lease = broadcast.get("claim_lease_seconds", BroadcastConfig.claim_lease_seconds)
    if not 0 < lease <= 3600:
        raise ConfigError(
            "broadcast.claim_lease_seconds must be more than 0 and at most 3600, e.g. 30"
        )
    claim_retry = broadcast.get("claim_retry_seconds", BroadcastConfig.claim_retry_seconds)
    if not 0 < claim_retry <= lease:
        raise ConfigError(
            "broadcast.claim_retry_seconds must be more than 0 and at most"
            " broadcast.claim_lease_seconds, e.g. 1"
        )

    days = raw.get("reminders", {}).get(
        "days_before_deadline", RemindersConfig.days_before_deadline
    )
    if not 0 <= days <= 60:
        raise ConfigError("reminders.days_before_deadline must be between 0 and 60, e.g. 3")
    expired_days = raw.get("actions", {}).get("expired_days", ActionsConfig.expired_days)
    if not 0 <= expired_days <= 365:
        raise ConfigError("actions.expired_days must be between 0 and 365, e.g. 14")
    feed = raw.get("feed", {})
    interval = feed.get("interval_minutes", FeedConfig.interval_minutes)
    if not 0 < interval <= 7 * 24 * 60:
        raise ConfigError("feed.interval_minutes must be more than 0 and at most a week, e.g. 30")
    timeout = raw.get("letters", {}).get("timeout_minutes", LettersConfig.timeout_minutes)
    if not 0 < timeout <= 24 * 60:
        raise ConfigError("letters.timeout_minutes must be more than 0 and at most a day, e.g. 30")
    backup = raw.get("backup", {})
    every = backup.get("every_hours", BackupConfig.every_hours)
    if not 0 <= every <= 24 * 30:
        raise ConfigError("backup.every_hours must be between 0 (off) and 720, e.g. 24")
    keep = backup.get("keep", BackupConfig.keep)
    if not 1 <= keep <= 1000:
        raise ConfigError("backup.keep must be between 1 and 1000, e.g. 7")
    backup_folder = _resolve(backup["folder"], base) if backup.get("folder") else None

    return Config(
        telegram=TelegramConfig(
            token=Secret(token.strip()),
            base_url=telegram.get("base_url"),
            base_file_url=telegram.get("base_file_url"),
            proxy=proxy,
            admins=frozenset(admins),
            ca_bundle=ca_bundle,
            token_from_env=from_env,
            token_file=token_file,
            connect_timeout=float(timeouts["connect_timeout"]),
            read_timeout=float(timeouts["read_timeout"]),
            **webhook,
        ),
        storage=_storage(raw.get("storage", {}), base),
        i18n=I18nConfig(
            default_language=default_language,
            languages=languages,
            region=region,
            variants=variants,
            formal=formal,
        ),
        broadcast=BroadcastConfig(
            messages_per_second=float(rate),
            paid=paid,
            give_up_after_hours=float(give_up),
            max_probe_interval_seconds=float(probe),
            claim_lease_seconds=float(lease),
            claim_retry_seconds=float(claim_retry),
        ),
        reminders=RemindersConfig(days_before_deadline=days),
        feed=FeedConfig(
            source=_feed_source(feed.get("source") or None, base),
            interval_minutes=float(interval),
            auto_publish=feed.get("auto_publish", FeedConfig.auto_publish),
        ),
        letters=LettersConfig(
            timeout_minutes=float(timeout), place=raw.get("letters", {}).get("place") or None
        ),
        metrics=_metrics(raw.get("metrics", {})),
        actions=ActionsConfig(expired_days=expired_days),
        backup=BackupConfig(every_hours=float(every), keep=keep, folder=backup_folder),
        sessions=_sessions(raw.get("sessions", {})),
        instances=_instances(raw.get("instances", {})),
    )


def _instances(raw: dict[str, Any]) -> InstancesConfig:
    """``[instances]``: the timings of several instances on one PostgreSQL database."""
    retry = raw.get("standby_retry_seconds", InstancesConfig.standby_retry_seconds)
    lease = raw.get("lease_seconds", InstancesConfig.lease_seconds)
    if not 0 < retry <= 300 or not 0 < lease <= 3600:
        raise ConfigError(
            "instances.standby_retry_seconds must be more than 0 and at most 300 (e.g. 5), "
            "instances.lease_seconds more than 0 and at most 3600 (e.g. 15)"
        )
    return InstancesConfig(standby_retry_seconds=float(retry), lease_seconds=float(lease))


# Telegram's documented ceilings for messages to many users: about 30 a second for free, up to
# 1,000 a second with ``allow_paid_broadcast`` (Stars per message beyond the free rate).
FREE_RATE_LIMIT = 30
# Several instances on one PostgreSQL database: while another instance handles a user's
# update, this one asks again for the user's lock this often (bot.ptb.user_state).
USER_LOCK_RETRY_SECONDS = 0.02
PAID_RATE_LIMIT = 1000


def _check_rate(rate: float, paid: bool) -> None:
    """Keep the broadcast rate within what Telegram takes, paid or not."""
    if paid:
        if not 0 < rate <= PAID_RATE_LIMIT:
            raise ConfigError(
                f"broadcast.messages_per_second must be more than 0 and at most "
                f"{PAID_RATE_LIMIT} with broadcast.paid = true, e.g. 1000"
            )
    elif not 0 < rate <= FREE_RATE_LIMIT:
        raise ConfigError(
            f"broadcast.messages_per_second must be more than 0 and at most {FREE_RATE_LIMIT}"
            f" (Telegram's free limit), e.g. 25; up to {PAID_RATE_LIMIT} needs"
            " broadcast.paid = true (Telegram charges Stars per message beyond the free rate)"
        )


def _sessions(sessions: dict[str, Any]) -> SessionsConfig:
    """``[sessions]``: writing sessions in groups."""
    maximum = sessions.get("max_minutes", SessionsConfig.max_minutes)
    if not 1 <= maximum <= 7 * 24 * 60:
        raise ConfigError("sessions.max_minutes must be between 1 and 10080 (a week), e.g. 1440")
    default = sessions.get("default_minutes", SessionsConfig.default_minutes)
    if not 1 <= default <= maximum:
        raise ConfigError(
            f"sessions.default_minutes must be between 1 and sessions.max_minutes ({maximum}), "
            "e.g. 45"
        )
    minute = sessions.get("minute_seconds", SessionsConfig.minute_seconds)
    if not 0 < minute <= 60:
        raise ConfigError("sessions.minute_seconds must be more than 0 and at most 60, e.g. 60")
    return SessionsConfig(
        default_minutes=default, max_minutes=maximum, minute_seconds=float(minute)
    )


def _metrics(metrics: dict[str, Any]) -> MetricsConfig:
    """``[metrics]``: ``listen`` as ``host:port`` (an IPv6 host in brackets)."""
    listen = metrics.get("listen") or None
    if listen is not None:
        host, sep, port = listen.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ConfigError(
                f"metrics.listen {listen!r} must be host:port, e.g. '127.0.0.1:9464'"
            )
    stale = metrics.get("stale_after_seconds", MetricsConfig.stale_after_seconds)
    if not 0 < stale <= 24 * 3600:
        raise ConfigError(
            "metrics.stale_after_seconds must be more than 0 and at most a day, e.g. 120"
        )
    return MetricsConfig(listen=listen, stale_after_seconds=float(stale))


# What RFC 3986 allows raw in a URL's user and password; anything else must be percent-encoded.
_USERINFO_CHARS = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:-]|%[0-9A-Fa-f]{2})*")
_PERCENT_ENCODE = (
    "percent-encode special characters in the user or password "
    "(/ as %2F, @ as %40, space as %20, # as %23, ? as %3F, % as %25)"
)


def _proxy(value: str | None) -> str | None:
    """``telegram.proxy`` checked now, as aiohttp will read it; the message never shows it.

    A password with a raw ``/``, ``@``, space, ``#`` or ``?`` splits the URL elsewhere than
    meant: aiohttp then fails on every call (``InvalidURL``, with the password in its text).
    """
    if value is None:
        return None
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ConfigError(
            "telegram.proxy must be an http:// or https:// URL, e.g. 'http://proxy:3128'"
        )
    userinfo, at, _ = rest.rpartition("@")
    if at and not _USERINFO_CHARS.fullmatch(userinfo):
        raise ConfigError(f"telegram.proxy is not a valid URL: {_PERCENT_ENCODE}")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not a number up to 65535
    except ValueError:
        raise ConfigError(
            "telegram.proxy has a port that is not a number up to 65535: write it as "
            f"http://host:port; {_PERCENT_ENCODE}"
        ) from None
    if not parts.hostname:
        raise ConfigError("telegram.proxy names no host: write it as http://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "#" in value:
        raise ConfigError(
            f"telegram.proxy must be only scheme://host:port (no path, ? or #): {_PERCENT_ENCODE}"
        )
    try:  # as aiohttp reads it
        aiohttp.BasicAuth.from_url(yarl.URL(value))
    except ValueError:
        raise ConfigError(f"telegram.proxy is not a valid URL: {_PERCENT_ENCODE}") from None
    return value


def _webhook(telegram: dict[str, Any]) -> dict[str, Any]:
    """``telegram.mode`` and the webhook keys, checked now (Telegram would refuse them later).

    An http webhook_url is allowed only on this machine (127.0.0.1, ::1, localhost): for a
    self-hosted Bot API server started with --local, which delivers over http, and the tests'
    emulator. Telegram itself delivers only over https, to ports 443, 80, 88 or 8443.
    """
    mode = telegram.get("mode", TelegramConfig.mode)
    if mode not in ("polling", "webhook"):
        raise ConfigError(f"telegram.mode {mode!r} is unknown: use 'polling' or 'webhook'")
    listen = _listen(telegram.get("listen"))
    secret = telegram.get("secret_token")
    if secret is not None and not _SECRET_TOKEN_SHAPE.fullmatch(secret):
        raise ConfigError(
            "telegram.secret_token must be 1-256 characters of A-Z a-z 0-9 _ - "
            f"(not the bot's token): make one {_SECRET_HINT}"
        )
    url = telegram.get("webhook_url") or None
    if mode == "webhook":
        if url is None:
            raise ConfigError(
                "telegram.webhook_url is missing (telegram.mode is 'webhook'): set the public "
                "https URL Telegram posts to, e.g. 'https://bot.example.org/telegram'"
            )
        if secret is None:
            raise ConfigError(
                "telegram.secret_token is missing (telegram.mode is 'webhook'): set 1-256 "
                f"characters of A-Z a-z 0-9 _ -, e.g. {_SECRET_HINT}"
            )
        _check_webhook_url(url, own_server=bool(telegram.get("base_url")))
    return {
        "mode": mode,
        "webhook_url": url,
        "listen": listen,
        "secret_token": Secret(secret) if secret is not None else None,
    }


def _check_webhook_url(webhook_url: str, *, own_server: bool) -> None:
    url = without_userinfo(webhook_url)  # what the errors quote: never a password
    try:
        parts = urlsplit(webhook_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(
            f"telegram.webhook_url {url!r} has a port that is not a number up to 65535"
        ) from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(
            f"telegram.webhook_url {url!r} is not an https URL: write it as "
            "'https://bot.example.org/telegram'"
        )
    if parts.query or parts.fragment:
        shown = without_userinfo(url).split("?")[0].split("#")[0]
        raise ConfigError(
            f"telegram.webhook_url {shown!r}… must have no ? or #: use a path (what follows "
            "them is not shown: it may hold a secret)"
        )
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise ConfigError(
            f"telegram.webhook_url {url!r} must be https (Telegram posts only over https; "
            "http is allowed only for 127.0.0.1 with your own Bot API server)"
        )
    if own_server:
        return
    if host in _LOOPBACK:
        raise ConfigError(
            f"telegram.webhook_url {url!r} is this machine, which Telegram cannot reach: use "
            "the public https address of your reverse proxy"
        )
    if port not in _WEBHOOK_PORTS:
        raise ConfigError(
            f"telegram.webhook_url {url!r}: Telegram posts only to ports 443, 80, 88 or 8443"
        )


def _listen(value: str | None) -> tuple[str, int]:
    """``telegram.listen`` as (host, port); ``[::1]:8443`` for an IPv6 address."""
    if value is None:
        return TelegramConfig.listen
    try:
        parts = urlsplit(f"//{value}")
        host, port = parts.hostname, parts.port
    except ValueError:
        port, host = None, None
    if not host or not port or parts.path or parts.username:
        raise ConfigError(
            f"telegram.listen {value!r} must be host:port (port 1-65535), e.g. '127.0.0.1:8443'"
        )
    return host, port


def _read_token(path: Path) -> str:
    """``telegram.token_file``: a file holding only the token (so that the config and the
    service unit never hold it, and every command run as the bot's user finds it)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"telegram.token_file {path} not found: put the token from @BotFather in it"
        ) from None
    except PermissionError:
        raise ConfigError(
            f"telegram.token_file {path}: permission denied: make it readable by the bot's "
            "user (and nobody else)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"telegram.token_file {path} cannot be read: {exc}") from None


def _resolve(value: str | Path, base: Path) -> Path:
    """A path from the config: ``~`` expanded, relative to the config file's folder."""
    return (base / Path(value).expanduser()).resolve()


def _feed_source(value: str | None, base: Path) -> str | None:
    if value is None or value.startswith(("http://", "https://")):
        return value
    return str(_resolve(value, base))


def _ca_bundle(value: str, base: Path) -> str:
    """``telegram.ca_bundle`` checked now: a bundle that cannot load is a config error."""
    if value in ("certifi", "system"):
        return value
    path = _resolve(value, base)
    shown = value if str(path) == value else f"{value} ({path})"
    if not path.is_file():
        raise ConfigError(
            f"telegram.ca_bundle {shown} is not a file: give the path of a PEM file of CA "
            "certificates, or 'certifi' (the default) or 'system'"
        )
    value = str(path)
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise ConfigError(
            f"telegram.ca_bundle {shown}: permission denied: make it readable by the bot's user"
        ) from None
    except OSError as exc:
        raise ConfigError(f"telegram.ca_bundle {shown} cannot be read: {exc.strerror}") from None
    try:
        ssl.create_default_context(cafile=value)
    except OSError:  # ssl.SSLError too
        raise ConfigError(
            f"telegram.ca_bundle {shown} holds no readable PEM certificates: fix the file, "
            "or use 'certifi' (the default) or 'system'"
        ) from None
    return value


def token_source(config: Config, source: Path | str) -> str:
    """Where the token came from, as an operator would look for it."""
    if config.telegram.token_from_env:
        return f"${TOKEN_ENV} (it overrides telegram.token)"
    if config.telegram.token_file is not None:
        return f"the token in {config.telegram.token_file} (telegram.token_file in {source})"
    return f"telegram.token in {source}"


def check_token(config: Config, source: Path | str) -> None:
    """Refuse a token that cannot be right before Telegram is asked (``uabot run`` only).

    ``source`` is the config file, named in the message when the token came from it.
    """
    token = config.telegram.token
    where = token_source(config, source)
    if _PLACEHOLDER in token:
        raise ConfigError(
            f"{where} is still the placeholder of config.example.toml: put your bot's token "
            f"from @BotFather there (or in ${TOKEN_ENV})"
        )
    if not _TOKEN_SHAPE.fullmatch(token):
        raise ConfigError(
            f"{where} does not look like a bot token (digits, a colon, then about 35 letters, "
            "digits, - or _): copy it again from @BotFather"
        )


def _storage(raw: dict[str, Any], base: Path) -> StorageConfig:
    """SQLite's file (``path``, the default) or PostgreSQL (``url``): one of them."""
    url = raw.get("url")
    if url is None:
        return StorageConfig(path=_resolve(raw.get("path", StorageConfig.path), base))
    if "path" in raw:
        raise ConfigError(
            "storage.path and storage.url are both set: keep url for PostgreSQL or path for "
            "SQLite (uabot migrate-storage copies a SQLite database to PostgreSQL)"
        )
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres"):
        scheme = urlsplit(url).scheme
        raise ConfigError(
            f"storage.url must start with postgresql:// (not {scheme or url[:12]!r}): e.g. "
            "'postgresql://uabot:PASSWORD@db.example.org/uabot'"
        )
    # Checked now, as libpq will read it: a raw @, # or / in the password splits the URL
    # elsewhere (libpq then looks for a host named after half the password). Never shown.
    userinfo, at, _ = rest.partition("/")[0].rpartition("@")
    if "#" in url or (at and not _USERINFO_CHARS.fullmatch(userinfo)):
        raise ConfigError(f"storage.url is not a valid URL: {_PERCENT_ENCODE}")
    try:
        _ = urlsplit(url).port  # raises for a port that is not a number up to 65535
    except ValueError:
        raise ConfigError(
            "storage.url has a port that is not a number up to 65535: write it as "
            f"postgresql://user:password@host:5432/database; {_PERCENT_ENCODE}"
        ) from None
    # The default file stays where the README says (the config's folder): the doctor looks
    # there for a SQLite database not yet copied (uabot migrate-storage).
    return StorageConfig(path=_resolve(StorageConfig.path, base), url=url)


def load_config(path: Path | str) -> Config:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: copy config.example.toml to {path} and edit it"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 (byte {exc.start + 1}): save it as UTF-8"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(raw, base=path.parent)

"""TOML configuration -> frozen, typed objects, validated once at start.

Every problem becomes one ``ConfigError`` line naming the key and the fix; the CLI prints it and
exits with status 2, so an operator never has to read a traceback.
"""

from __future__ import annotations

import os
import ssl
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale

TOKEN_ENV = "UABOT_TOKEN"


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


@dataclass(frozen=True)
class StorageConfig:
    path: Path = Path("uabot.sqlite3")


@dataclass(frozen=True)
class I18nConfig:
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "de", "fr")
    # The organisation's country (ISO 3166, "CH"): letters in a language official there are
    # tagged and dated for it (de-CH, fr-CH); None: each language's own region (de-DE, en-GB).
    region: str | None = None


@dataclass(frozen=True)
class BroadcastConfig:
    messages_per_second: float = 25.0
    # A recipient whom only outages kept from their message fails after this long.
    give_up_after_hours: float = 24.0
    # A paused broadcast probes Telegram with back-off doubling from 1 s up to this.
    max_probe_interval_seconds: float = 300.0


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


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig = StorageConfig()
    i18n: I18nConfig = I18nConfig()
    broadcast: BroadcastConfig = BroadcastConfig()
    reminders: RemindersConfig = RemindersConfig()
    feed: FeedConfig = FeedConfig()
    letters: LettersConfig = LettersConfig()

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.telegram.admins


# key -> (expected python type(s), human description); the single description of the schema.
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], str]]] = {
    "telegram": {
        "token": (str, "a string like '123456:ABC...' from @BotFather"),
        "base_url": (str, "a URL such as 'http://127.0.0.1:8081/bot'"),
        "base_file_url": (str, "a URL such as 'http://127.0.0.1:8081/file/bot'"),
        "proxy": (str, "a proxy URL such as 'http://proxy.example.org:3128'"),
        "admins": (list, "a list of Telegram user ids, e.g. [12345678]"),
        "ca_bundle": (str, "'certifi', 'system' or the path of a PEM file of CA certificates"),
    },
    "storage": {"path": (str, "a file path such as 'uabot.sqlite3'")},
    "i18n": {
        "default_language": (str, "a language code such as 'en'"),
        "languages": (list, "a list of language codes, e.g. ['en', 'de', 'fr']"),
        "region": (str, "a country code of two capital letters such as 'CH'"),
    },
    "broadcast": {
        "messages_per_second": ((int, float), "a number such as 25"),
        "give_up_after_hours": ((int, float), "a number of hours such as 24"),
        "max_probe_interval_seconds": ((int, float), "a number of seconds such as 300"),
    },
    "reminders": {"days_before_deadline": (int, "a whole number of days such as 3")},
    "feed": {
        "source": (str, "a directory such as 'actions/' or an URL such as 'https://…/index.json'"),
        "interval_minutes": ((int, float), "a number of minutes such as 30"),
        "auto_publish": (bool, "true or false"),
    },
    "letters": {
        "timeout_minutes": ((int, float), "a number of minutes such as 30"),
    },
}


def _check_shape(raw: dict[str, Any]) -> None:
    for section, values in raw.items():
        if section not in _SCHEMA:
            known = ", ".join(f"[{name}]" for name in _SCHEMA)
            raise ConfigError(f"unknown section [{section}]: remove it (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"'{section}' must be a [{section}] table")
        for key, value in values.items():
            if key not in _SCHEMA[section]:
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


def parse_config(raw: dict[str, Any], environ: dict[str, str] | None = None) -> Config:
    """Validate a parsed TOML document (``environ`` defaults to the process environment)."""
    environ = dict(os.environ) if environ is None else environ
    _check_shape(raw)
    telegram = raw.get("telegram", {})
    token = environ.get(TOKEN_ENV) or telegram.get("token", "")
    if not token.strip():
        raise ConfigError(
            f"telegram.token is missing: set it in the config or in ${TOKEN_ENV} "
            "(get one from @BotFather)"
        )
    proxy = telegram.get("proxy") or None
    if proxy is not None and not proxy.startswith(("http://", "https://")):
        raise ConfigError(
            "telegram.proxy must be an http:// or https:// URL, e.g. 'http://proxy:3128'"
        )
    ca_bundle = _ca_bundle(telegram.get("ca_bundle") or "certifi")
    admins = telegram.get("admins", [])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        raise ConfigError("telegram.admins must hold Telegram user ids (integers), e.g. [12345]")

    i18n = raw.get("i18n", {})
    languages = tuple(i18n.get("languages", I18nConfig.languages))
    if not languages or not all(isinstance(lang, str) and lang for lang in languages):
        raise ConfigError("i18n.languages must be a non-empty list of codes, e.g. ['en', 'de']")
    default_language = i18n.get("default_language", I18nConfig.default_language)
    if default_language not in languages:
        raise ConfigError(
            f"i18n.default_language {default_language!r} is not in i18n.languages: add it there"
        )

    region = i18n.get("region") or None
    if region is not None and not (
        region.isascii()
        and region.isalpha()
        and region.isupper()
        and len(region) == 2
        and region in Locale("en").territories
    ):
        raise ConfigError(f"i18n.region {region!r} is not a country code: use e.g. 'CH'")

    broadcast = raw.get("broadcast", {})
    rate = broadcast.get("messages_per_second", 25)
    if not 0 < rate <= 1000:
        raise ConfigError("broadcast.messages_per_second must be between 0 and 1000, e.g. 25")
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

    days = raw.get("reminders", {}).get("days_before_deadline", 3)
    if not 0 <= days <= 60:
        raise ConfigError("reminders.days_before_deadline must be between 0 and 60, e.g. 3")
    feed = raw.get("feed", {})
    interval = feed.get("interval_minutes", 30)
    if not 0 < interval <= 7 * 24 * 60:
        raise ConfigError("feed.interval_minutes must be more than 0 and at most a week, e.g. 30")
    timeout = raw.get("letters", {}).get("timeout_minutes", 30)
    if not 0 < timeout <= 24 * 60:
        raise ConfigError("letters.timeout_minutes must be more than 0 and at most a day, e.g. 30")

    return Config(
        telegram=TelegramConfig(
            token=Secret(token.strip()),
            base_url=telegram.get("base_url"),
            base_file_url=telegram.get("base_file_url"),
            proxy=proxy,
            admins=frozenset(admins),
            ca_bundle=ca_bundle,
        ),
        storage=StorageConfig(path=Path(raw.get("storage", {}).get("path", "uabot.sqlite3"))),
        i18n=I18nConfig(default_language=default_language, languages=languages, region=region),
        broadcast=BroadcastConfig(
            messages_per_second=float(rate),
            give_up_after_hours=float(give_up),
            max_probe_interval_seconds=float(probe),
        ),
        reminders=RemindersConfig(days_before_deadline=days),
        feed=FeedConfig(
            source=feed.get("source") or None,
            interval_minutes=float(interval),
            auto_publish=feed.get("auto_publish", False),
        ),
        letters=LettersConfig(timeout_minutes=float(timeout)),
    )


def _ca_bundle(value: str) -> str:
    """``telegram.ca_bundle`` checked now: a bundle that cannot load is a config error."""
    if value in ("certifi", "system"):
        return value
    if not Path(value).is_file():
        raise ConfigError(
            f"telegram.ca_bundle {value} is not a file: give the path of a PEM file of CA "
            "certificates, or 'certifi' (the default) or 'system'"
        )
    try:
        ssl.create_default_context(cafile=value)
    except OSError:  # ssl.SSLError too
        raise ConfigError(
            f"telegram.ca_bundle {value} holds no readable PEM certificates: fix the file, "
            "or use 'certifi' (the default) or 'system'"
        ) from None
    return value


def load_config(path: Path | str) -> Config:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: copy config.example.toml to {path} and edit it"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(raw)

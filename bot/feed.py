"""The action feed: action files the bot fetches by itself, imported like an admin's upload.

A source is a directory of ``.toml`` files or the http(s) URL of an index: a JSON list of
action-file URLs (relative ones resolve against the index). Every file takes the same
validation and import path as an upload. A file is handled once per content: an unchanged
file, valid or not, is skipped at later polls, so admins hear of a problem once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from bot.actions.importer import ImportKind, ImportRefused, ImportResult, import_revision
from bot.actions.parse import ActionFileError, parse_action
from bot.config import Config
from bot.storage import Storage

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024
MAX_INDEX_ENTRIES = 1000
TIMEOUT_SECONDS = 20


class FeedUnavailable(Exception):
    """The source cannot be read now: down, slow, or not what it should be. Retried later."""


@dataclass(frozen=True)
class FeedFile:
    key: str  # the path or URL: what "already handled" is remembered by
    name: str
    data: bytes


@dataclass
class FeedReport:
    imported: list[ImportResult] = field(default_factory=list)
    # (file name, what is wrong): a function, so that each admin reads it in their language
    problems: list[tuple[str, Callable[[], str]]] = field(default_factory=list)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


async def fetch(source: str) -> list[FeedFile]:
    """Every action file the source offers now, in a stable order."""
    if _is_url(source):
        return await _fetch_index(source)
    return await asyncio.to_thread(_read_directory, source)


def _read_directory(source: str) -> list[FeedFile]:
    directory = Path(source)
    if not directory.is_dir():
        raise FeedUnavailable(f"{source} is not a directory")
    files = []
    for path in sorted(directory.glob("*.toml")):
        if path.stat().st_size > MAX_FILE_BYTES:
            log.warning("feed: %s is larger than %s bytes; skipped", path.name, MAX_FILE_BYTES)
            continue
        files.append(FeedFile(str(path.resolve()), path.name, path.read_bytes()))
    return files


async def _fetch_index(url: str) -> list[FeedFile]:
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        ) as session:
            index = await _get(session, url)
            try:
                entries = json.loads(index)
            except ValueError as exc:
                raise FeedUnavailable(f"the index at {url} is not JSON: {exc}") from None
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise FeedUnavailable(f"the index at {url} is not a JSON list of URLs")
            files = []
            for entry in entries[:MAX_INDEX_ENTRIES]:
                file_url = urljoin(url, entry)
                name = file_url.rsplit("/", 1)[-1] or file_url
                files.append(FeedFile(file_url, name, await _get(session, file_url)))
            return files
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FeedUnavailable(f"{url}: {exc!r}") from None


async def _get(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.get(url) as response:
        if response.status != 200:
            raise FeedUnavailable(f"{url} answered HTTP {response.status}")
        data = await response.content.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise FeedUnavailable(f"{url} is larger than {MAX_FILE_BYTES} bytes")
        return data


def _problems_of(file: FeedFile, config: Config) -> str:
    """The file's problems in the current locale (parsed again: files are small)."""
    try:
        parse_action(
            file.data,
            source=file.name,
            languages=config.i18n.languages,
            default_language=config.i18n.default_language,
        )
    except ActionFileError as error:
        return str(error)
    return ""


async def import_files(storage: Storage, config: Config, files: list[FeedFile]) -> FeedReport:
    """Import what is new; report problems once per file content."""
    report = FeedReport()
    for file in files:
        fingerprint = hashlib.sha256(file.data).hexdigest()
        if await storage.feed_items.handled(file.key, fingerprint):
            continue
        try:
            revision = parse_action(
                file.data,
                source=file.name,
                languages=config.i18n.languages,
                default_language=config.i18n.default_language,
            )
            result = await import_revision(storage, revision, by=None)
        except ActionFileError:
            report.problems.append((file.name, partial(_problems_of, file, config)))
        except ImportRefused as refusal:
            if refusal.retry_later:
                continue  # not handled: tried again at the next poll
            report.problems.append((file.name, partial(str, refusal)))
        else:
            if result.kind is not ImportKind.UNCHANGED:
                report.imported.append(result)
        await storage.feed_items.mark_handled(file.key, fingerprint)
    return report

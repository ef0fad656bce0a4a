"""The action feed: action files the bot fetches by itself, imported like an admin's upload.

A source is a directory of ``.toml`` files or the http(s) URL of an index: a JSON list of
action-file URLs (relative ones resolve against the index). Every file takes the same
validation and import path as an upload. A file is handled once per content: an unchanged
file, valid or not, is skipped at later polls, so admins hear of a problem once.

One file never stops the others: whatever is wrong with it (its content, its size, an error
while importing it) becomes a problem reported about that file, and a file that cannot be
read now is left for the next poll.
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
from bot.actions.parse import MAX_FILE_BYTES, ActionFileError, parse_action
from bot.config import Config
from bot.i18n import gettext as _
from bot.storage import Storage

log = logging.getLogger(__name__)

MAX_INDEX_ENTRIES = 1000
TIMEOUT_SECONDS = 20
NAME_MAX = 200  # of a file's name as admins read it (an URL's last part can be any length)


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
        try:
            with path.open("rb") as stream:
                # One byte more than allowed: the parser reports a file that is too large.
                data = stream.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            log.warning("feed: cannot read %s now, retried at the next poll: %s", path, exc)
            continue
        files.append(FeedFile(str(path.resolve()), path.name[:NAME_MAX], data))
    return files


async def _fetch_index(url: str) -> list[FeedFile]:
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        ) as session:
            index = await _get(session, url)
            if len(index) > MAX_FILE_BYTES:
                raise FeedUnavailable(f"the index at {url} is larger than {MAX_FILE_BYTES} bytes")
            try:
                entries = json.loads(index)
            except ValueError as exc:
                raise FeedUnavailable(f"the index at {url} is not JSON: {exc}") from None
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise FeedUnavailable(f"the index at {url} is not a JSON list of URLs")
            files = []
            for entry in entries[:MAX_INDEX_ENTRIES]:
                file_url = urljoin(url, entry)
                name = (file_url.rsplit("/", 1)[-1] or file_url)[:NAME_MAX]
                try:
                    data = await _get(session, file_url)
                except (FeedUnavailable, aiohttp.ClientError, ValueError, TimeoutError) as exc:
                    log.warning(
                        "feed: cannot fetch %s now, retried at the next poll: %r", file_url, exc
                    )
                    continue
                files.append(FeedFile(file_url, name, data))
            return files
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FeedUnavailable(f"{url}: {exc!r}") from None


async def _get(session: aiohttp.ClientSession, url: str) -> bytes:
    """At most one byte more than ``MAX_FILE_BYTES``: enough to tell that a file is too large
    (the parser reports it as the file's problem), never more."""
    async with session.get(url) as response:
        if response.status != 200:
            raise FeedUnavailable(f"{url} answered HTTP {response.status}")
        # read(n) returns what has arrived, which for a larger file is only its first part.
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > MAX_FILE_BYTES:
                break
        return bytes(data[: MAX_FILE_BYTES + 1])


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


def _unexpected() -> str:
    return _(
        "The bot failed on this file (the error is in its log for the operator). It is tried "
        "again when the file changes."
    )


async def import_files(storage: Storage, config: Config, files: list[FeedFile]) -> FeedReport:
    """Import what is new; report problems once per file content, whatever fails."""
    report = FeedReport()
    for file in files:
        fingerprint = hashlib.sha256(file.data).hexdigest()
        if await storage.feed_items.handled(file.key, fingerprint):
            continue
        try:
            # In a thread: a large broken file takes up to half a second to check.
            revision = await asyncio.to_thread(
                parse_action,
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
        except Exception:  # a bug must cost this file, not the poll and every later one
            log.exception("feed: importing %s failed", file.name)
            report.problems.append((file.name, _unexpected))
        else:
            if result.kind is not ImportKind.UNCHANGED:
                report.imported.append(result)
        await storage.feed_items.mark_handled(file.key, fingerprint)
    return report

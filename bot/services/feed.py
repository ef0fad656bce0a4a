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
from bot.ptb.redact import without_userinfo
from bot.storage import Storage

log = logging.getLogger(__name__)

MAX_INDEX_ENTRIES = 1000
TIMEOUT_SECONDS = 20  # per request
# A whole poll of an http index: files that trickle in one after another must not hold the
# poll (and a stop) for hours; what is not fetched by then is left for the next poll.
POLL_DEADLINE_SECONDS = 120.0
NAME_MAX = 200  # of a file's name as admins read it (an URL's last part can be any length)


class FeedUnavailable(Exception):
    """The source cannot be read now: down, slow, or not what it should be. Retried later."""


@dataclass(frozen=True)
class FeedFile:
    key: str  # the path or URL: what "already handled" is remembered by
    name: str
    data: bytes


@dataclass(frozen=True)
class Handled:
    """A file's content, to remember as handled once its news reached an admin."""

    key: str
    fingerprint: str


@dataclass
class FeedReport:
    imported: list[tuple[ImportResult, Handled]] = field(default_factory=list)
    # (file name, what is wrong, its file): what is wrong is a function, so that each admin
    # reads it in their language
    problems: list[tuple[str, Callable[[], str], Handled]] = field(default_factory=list)


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
    """The index's files. Names, keys and messages never carry the source's user and password
    (``without_userinfo``); redirects are not followed (a captive portal or a moved feed is
    the operator's to see, and a redirect must not lead the bot to another host)."""
    shown = without_userinfo(url)
    loop = asyncio.get_running_loop()
    deadline = POLL_DEADLINE_SECONDS
    ends = loop.time() + deadline
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=min(TIMEOUT_SECONDS, deadline))
        ) as session:
            index = await _get(session, url)
            if len(index) > MAX_FILE_BYTES:
                raise FeedUnavailable(
                    f"the index at {shown} is larger than {MAX_FILE_BYTES} bytes"
                )
            try:
                entries = json.loads(index)
            except (ValueError, RecursionError) as exc:
                # A deeply nested index exhausts the parser's stack: as broken as bad JSON.
                detail = exc if isinstance(exc, ValueError) else "nested too deeply"
                raise FeedUnavailable(f"the index at {shown} is not JSON: {detail}") from None
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise FeedUnavailable(f"the index at {shown} is not a JSON list of URLs")
            files = []
            for entry in entries[:MAX_INDEX_ENTRIES]:
                file_url = urljoin(url, entry)
                key = without_userinfo(file_url)
                name = (key.rsplit("/", 1)[-1] or key)[:NAME_MAX]
                left = ends - loop.time()
                if left <= 0:
                    log.warning("feed: the poll's deadline passed; the rest waits for the next")
                    break
                try:
                    data = await asyncio.wait_for(_get(session, file_url), left)
                except (FeedUnavailable, aiohttp.ClientError, ValueError, TimeoutError) as exc:
                    log.warning(
                        "feed: cannot fetch %s now, retried at the next poll: %s",
                        key,
                        without_userinfo(repr(exc)),
                    )
                    continue
                files.append(FeedFile(key, name, data))
            return files
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FeedUnavailable(f"{shown}: {without_userinfo(repr(exc))}") from None


async def _get(session: aiohttp.ClientSession, url: str) -> bytes:
    """At most one byte more than ``MAX_FILE_BYTES``: enough to tell that a file is too large
    (the parser reports it as the file's problem), never more."""
    async with session.get(url, allow_redirects=False) as response:
        if 300 <= response.status < 400:
            location = without_userinfo(response.headers.get("Location", "nowhere"))
            raise FeedUnavailable(
                f"{without_userinfo(url)} redirects (HTTP {response.status}) to {location}: "
                "the bot does not follow redirects; set feed.source to where it should read"
            )
        if response.status != 200:
            raise FeedUnavailable(f"{without_userinfo(url)} answered HTTP {response.status}")
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
    """Import what is new; report problems once per file content, whatever fails.

    A file with news for the admins (a draft to preview, a problem) is marked handled by the
    caller once an admin received it (:func:`mark_handled`): until then every poll tries again.
    """
    report = FeedReport()
    for file in files:
        fingerprint = hashlib.sha256(file.data).hexdigest()
        if await storage.feed_items.handled(file.key, fingerprint):
            continue
        handled = Handled(file.key, fingerprint)
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
            report.problems.append((file.name, partial(_problems_of, file, config), handled))
        except ImportRefused as refusal:
            if refusal.retry_later:
                continue  # not handled: tried again at the next poll
            report.problems.append((file.name, partial(str, refusal), handled))
        except Exception:  # a bug must cost this file, not the poll and every later one
            log.exception("feed: importing %s failed", file.name)
            report.problems.append((file.name, _unexpected, handled))
        else:
            # An unchanged draft still waits for the admins: its preview may not have
            # reached them at an earlier poll.
            if result.kind is not ImportKind.UNCHANGED or not result.published:
                report.imported.append((result, handled))
            else:
                await mark_handled(storage, handled)
    return report


async def mark_handled(storage: Storage, handled: Handled) -> None:
    await storage.feed_items.mark_handled(handled.key, handled.fingerprint)

"""What the instances running on one database tell each other of themselves (issue 16 §4).

Each ``uabot run`` on PostgreSQL records a mark at its start: how it receives updates
(polling, or a webhook and a hash of its URL and secret token — never the secret itself).
The mark is a claim in ``job_claims`` (``bot.storage.claims``): renewed with the instance's
other claims while it lives, deleted at its stop, run out ``lease_seconds`` after it died. An
instance whose mark differs from a live one's is the operator's mistake (a polling instance
would delete the others' webhook; two secrets make Telegram's posts 403 on half of them).

On SQLite one ``uabot run`` holds the file: there are no others, and no statement runs.
"""

from __future__ import annotations

import hashlib

from bot.storage.claims import NOW, Claims
from bot.storage.db import Database

PREFIX = "instance:"
POLLING = "polling"


def webhook_mark(webhook_url: str, secret_token: str) -> str:
    """Webhook mode's mark: the same for instances behind the same URL with the same secret;
    the secret cannot be read back from it."""
    digest = hashlib.sha256(f"{webhook_url}\0{secret_token}".encode()).hexdigest()
    return f"webhook-{digest[:24]}"


class Instances:
    """The live instances' marks, through this instance's claims."""

    def __init__(self, db: Database, claims: Claims) -> None:
        self._db = db
        self._claims = claims

    async def announce(self, mark: str) -> list[str]:
        """Record this instance's ``mark``; the marks of the other live instances."""
        if not self._db.shared:
            return []
        await self._claims.take(f"{PREFIX}{mark}:{self._claims.holder}", force=True)
        rows = await self._db.fetch_all(
            f"SELECT name FROM job_claims WHERE name LIKE ? AND until > {NOW} AND holder <> ?",
            (f"{PREFIX}%", self._claims.holder),
        )
        return [str(row[0]).removeprefix(PREFIX).split(":", 1)[0] for row in rows]

    async def running(self, lease: float) -> bool:
        """Whether an instance runs on this database: the poller lock is held (a polling
        leader), or a claim has not run out (every instance holds its mark). False on SQLite,
        whose file lock tells instead."""
        if not self._db.shared:
            return False
        # A database older than 017_job_claims.sql (or empty) has no instances' claims.
        if not await self._db.fetch_value("SELECT to_regclass('job_claims') IS NOT NULL"):
            return False
        lock = self._db.poller_lock(lease)
        try:
            if not await lock.acquire():
                return True
        finally:
            await lock.release()
        return await self.live()

    async def live(self) -> bool:
        """Whether any instance runs on this database: one holds a claim not run out (every
        instance holds its mark; on SQLite the file lock tells instead)."""
        if not self._db.shared:
            return False
        found = await self._db.fetch_value(f"SELECT 1 FROM job_claims WHERE until > {NOW} LIMIT 1")
        return found is not None


def seen_running(url: str) -> bool:
    """``uabot doctor``'s (synchronous) look: whether an instance runs on the PostgreSQL
    database at ``url`` (a live claim: every instance holds its mark). False when it cannot
    tell (the doctor's storage check names a database that does not answer)."""
    import psycopg

    from bot.storage.postgres import CONNECT_TIMEOUT_S

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            found = conn.execute("SELECT to_regclass('job_claims') IS NOT NULL").fetchone()
            if not (found and found[0]):
                return False
            live = conn.execute(f"SELECT 1 FROM job_claims WHERE until > {NOW} LIMIT 1")
            return live.fetchone() is not None
    except psycopg.Error:
        return False

"""Who of several instances on one database does a piece of scheduled work (issue 16 §4).

A claim is a row in ``job_claims`` held by one instance until a time: a scheduled run (the
feed poll, the reminders) or a group's writing session (its countdown, end and thank-you).
An advisory lock alone would not do: two instances firing the same job a second apart would
each get it in turn. The conditional upsert below is won by one of them; a dead instance's
claims run out (``until``) and another instance takes them over.

Times are the database's (``clock_timestamp()``), never a machine's: two instances whose
clocks differ by more than the lease would otherwise each take the other's live claims.

On SQLite one ``uabot run`` holds the file (``db.hold_lock``): every claim is its own, and no
statement runs.
"""

from __future__ import annotations

import uuid

from bot.storage.db import Database

# The database's clock, in seconds (``until``'s unit): PostgreSQL's own, the one clock every
# instance shares (the statements run only there: see ``shared``).
# The database's clock, in seconds since the epoch: what every claim's ``until`` is on.
NOW = "extract(epoch from clock_timestamp())"


class Claims:
    """Narrow async access to ``job_claims`` for one instance (``holder``)."""

    def __init__(self, db: Database, holder: str | None = None) -> None:
        self._db = db
        # This process's name in the table: unique, not secret (no host or user in it).
        self.holder = holder or uuid.uuid4().hex
        # How long a claim outlives this instance's last renewal: ``instances.lease_seconds``,
        # set at start (bot.app); until then a claim lasts no longer than its statement.
        self.lease = 0.0

    @property
    def shared(self) -> bool:
        """Whether other instances may share the work (PostgreSQL), so claims matter."""
        return self._db.shared

    async def take(self, name: str, *, again: bool = False, force: bool = False) -> bool:
        """Take ``name`` for the lease unless someone holds it still (``again``: someone
        else; this instance keeps a job it runs); True for the one who got it. ``force``:
        whoever holds it (the work moved here: a session ended here is closed here)."""
        if not self._db.shared:
            return True
        changed = await self._db.execute(
            f"INSERT INTO job_claims (name, holder, until) VALUES (?, ?, {NOW} + ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            f" WHERE job_claims.until <= {NOW} OR ?"
            " OR (? AND job_claims.holder = excluded.holder)",
            (name, self.holder, self.lease, force, again),
        )
        return changed > 0

    async def renew(self) -> None:
        """This instance is alive: every claim it holds runs until now + lease (one
        statement however many it holds)."""
        if self._db.shared:
            await self._db.execute(
                f"UPDATE job_claims SET until = {NOW} + ? WHERE holder = ?",
                (self.lease, self.holder),
            )

    async def release(self, name: str) -> None:
        """The work is done (whoever did it): nobody needs to take it over."""
        if self._db.shared:
            await self._db.execute("DELETE FROM job_claims WHERE name = ?", (name,))

    async def let_go(self) -> None:
        """This instance stops: its claims are free at once (a restart or another instance
        takes the work now, not after the lease)."""
        if self._db.shared:
            await self._db.execute("DELETE FROM job_claims WHERE holder = ?", (self.holder,))

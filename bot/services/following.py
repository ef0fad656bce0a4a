"""What a supporter follows (/topics): everything, or chosen topics, countries and regions.

The rules live here once: which codes can be followed (the fixed topics, the countries and
regions CLDR knows), that choosing anything means "only what I chose", that "everything"
forgets the choice, and how far a case reaches (the upload preview).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.actions import audience
from bot.actions.model import TOPICS, ActionRevision
from bot.storage import Storage
from bot.storage.selections import COUNTRY, KINDS, REGION, TOPIC

__all__ = ["COUNTRY", "KINDS", "REGION", "TOPIC", "Selection"]


@dataclass(frozen=True)
class Selection:
    """What one subscriber follows; all empty means everything."""

    topics: frozenset[str] = field(default_factory=frozenset)
    countries: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)

    @property
    def everything(self) -> bool:
        return not (self.topics or self.countries or self.regions)

    def of(self, kind: str) -> frozenset[str]:
        return {TOPIC: self.topics, COUNTRY: self.countries, REGION: self.regions}[kind]


def can_follow(kind: str, code: str) -> bool:
    """Whether ``code`` is something of ``kind`` the bot offers (crafted data is not)."""
    if kind == TOPIC:
        return code in TOPICS
    if kind == COUNTRY:
        return audience.is_country(code)
    if kind == REGION:
        return audience.is_region(code)
    return False


async def selection(storage: Storage, user_id: int) -> Selection:
    """What the user follows (all empty: everything)."""
    pairs = await storage.selections.get(user_id)

    def of(kind: str) -> frozenset[str]:
        return frozenset(code for found, code in pairs if found == kind)

    return Selection(of(TOPIC), of(COUNTRY), of(REGION))


async def choose(storage: Storage, user_id: int, kind: str, code: str, followed: bool) -> bool:
    """Follow ``code`` or stop following it, as the button said (so a second tap changes
    nothing); False when the bot does not know the user (/start first) or offers no such
    code."""
    if not can_follow(kind, code):
        return False
    async with storage.db.transaction():
        return await storage.selections.set(user_id, kind, code, followed)


async def follow_everything(storage: Storage, user_id: int) -> None:
    """Forget the choice: every case reaches the user again."""
    async with storage.db.transaction():
        await storage.selections.clear(user_id)


async def case_countries(storage: Storage) -> list[str]:
    """The countries of the published cases (open and closed), to pick from first."""
    found = {
        ActionRevision.from_json(stored.content).country
        for stored in await storage.revisions.published_cases()
    }
    return [code for code in found if audience.is_country(code)]


async def reach(storage: Storage, revision: ActionRevision) -> tuple[int, int]:
    """How many subscribers ``revision`` would reach if published, of how many reachable."""
    recipients = await audience.audience(storage, revision)
    return (
        await storage.selections.reach(recipients),
        await storage.users.count_reachable_subscribers(),
    )


@dataclass(frozen=True)
class Followers:
    """Reachable subscribers following everything, and per topic, country and region."""

    everything: int
    topics: dict[str, int]
    countries: dict[str, int]
    regions: dict[str, int]


async def followers(storage: Storage) -> Followers:
    """The counts /stats shows (counts only, no one named)."""
    selections = storage.selections
    everything, topics, countries, regions = await asyncio.gather(
        selections.following_everything(),
        selections.followers(TOPIC),
        selections.followers(COUNTRY),
        selections.followers(REGION),
    )
    return Followers(everything, topics, countries, regions)

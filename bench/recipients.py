"""Recipient-list benchmark: a topic-filtered case queued for 100,000 subscribers.

    python bench/recipients.py [--subscribers 100000]

Builds a throw-away database (in a temporary directory) of subscribers with mixed selections:
half follow everything, the others one to four topics, countries or regions; some opened the
case, some wrote for it. Then times, each inside its own transaction as the bot runs them:
``Broadcasts.create`` of a new case with topics (revision 1), of its follow-up (the matching
subscribers and everyone who opened it or wrote), of an announcement (everyone), and the reach
the upload preview shows (a COUNT). Goal: each recipient list in < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 1.0
LANGUAGES = ("en", "de", "fr")
CASE = "UA 012/26"


async def run(count: int, workdir: Path) -> int:
    from bot.actions.audience import continents, countries_in, regions_of, subregions
    from bot.actions.model import TOPICS
    from bot.storage import Audience, Storage
    from bot.storage.selections import COUNTRY, REGION, TOPIC

    rng = random.Random(13)
    regions = [*continents(), *(sub for c in continents() for sub in subregions(c))]
    countries = sorted(countries_in("001"))
    storage = await Storage.open(workdir / "recipients.sqlite3")
    try:
        started = time.perf_counter()
        async with storage.db.transaction():
            await storage.db.execute_many(
                "INSERT INTO users (id, language) VALUES (?, ?)",
                ((uid, LANGUAGES[uid % len(LANGUAGES)]) for uid in range(1, count + 1)),
            )
            rows: list[tuple[int, str, str]] = []
            for uid in range(1, count + 1):
                if uid % 2:
                    continue  # follows everything
                for _ in range(rng.randint(1, 4)):
                    kind = rng.choice((TOPIC, TOPIC, COUNTRY, REGION))
                    pool = {TOPIC: TOPICS, COUNTRY: countries, REGION: regions}[kind]
                    rows.append((uid, kind, rng.choice(pool)))
            await storage.selections.add_many(rows)
            # 5 % opened the case, 1 % wrote for it (among those who chose what they follow).
            await storage.db.execute_many(
                "INSERT INTO interest (user_id, case_number) VALUES (?, ?)",
                ((uid, CASE) for uid in range(2, count + 1, 20)),
            )
            await storage.db.execute_many(
                "INSERT INTO confirmations (case_number, revision, user_id, letter_language)"
                " VALUES (?, 1, ?, 'en')",
                ((CASE, uid) for uid in range(8, count + 1, 100)),
            )
        print(
            f"setup: {count:,} subscribers, {len(rows):,} selections "
            f"in {time.perf_counter() - started:.1f} s"
        )
        new_case = Audience(
            topics=("torture", "death-penalty"), countries=("BE",), regions=regions_of("BE")
        )
        follow_up = Audience(
            topics=new_case.topics,
            countries=new_case.countries,
            regions=new_case.regions,
            case_number=CASE,
        )
        results: list[tuple[str, float, int]] = []
        for label, audience, kind in (
            ("new case, topic-filtered (torture, death penalty; BE)", new_case, "action"),
            ("follow-up: matching + opened + wrote", follow_up, "action"),
            ("announcement: every subscriber", None, "announcement"),
        ):
            started = time.perf_counter()
            async with storage.db.transaction():
                broadcast_id = await storage.broadcasts.create(kind=kind, audience=audience)
            elapsed = time.perf_counter() - started
            broadcast = await storage.broadcasts.get(broadcast_id)
            assert broadcast is not None
            results.append((label, elapsed, broadcast.total))
            async with storage.db.transaction():
                await storage.broadcasts.finish(broadcast_id, time.time())
        started = time.perf_counter()
        reach = await storage.selections.reach(new_case)
        reach_s = time.perf_counter() - started
    finally:
        await storage.close()

    ok = True
    print(f"recipient lists for {count:,} subscribers (goal < {GOAL_S} s each)")
    for label, elapsed, total in results:
        met = elapsed < GOAL_S
        ok &= met
        print(
            f"  {label}: {total:,} recipients in {elapsed:.3f} s"
            f" ({elapsed / GOAL_S:.2f}x the goal, {total / elapsed:,.0f} rows/s)"
            f"  {'PASS' if met else 'MISS'}"
        )
    ok &= reach_s < GOAL_S and reach == results[0][2]
    print(
        f"  reach in the upload preview (COUNT): {reach:,} in {reach_s:.3f} s"
        f" ({reach_s / GOAL_S:.2f}x the goal)  {'PASS' if reach_s < GOAL_S else 'MISS'}"
    )
    print(f"all goals met: {ok}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="uabot-recipients-") as workdir:
        return asyncio.run(run(args.subscribers, Path(workdir)))


if __name__ == "__main__":
    sys.exit(main())

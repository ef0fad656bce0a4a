"""Benchmark: letters generated per second, and "I sent it" confirmations recorded per second.

    python bench/letters.py [--letters 2000] [--confirmations 20000]

Prints figures and ratios against the goals: >= 500 letters/s on one core for the full letter
(per-addressee salutation, subject, dated with a place, copies listed, tagged with its
language; most with a translation page in the supporter's language), the naive python-docx
letter measured in the same run for comparison, and an exact count of confirmations under
concurrent double taps.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402

from bot.actions.parse import parse_action  # noqa: E402
from bot.letters.compose import Letter, compose, letter_for  # noqa: E402
from bot.storage import Storage  # noqa: E402

LETTERS_GOAL = 500.0


def _revision():  # type: ignore[no-untyped-def]
    data = (ROOT / "tests/fixtures/actions/ua-014-26-1.toml").read_bytes()
    return parse_action(data, source="bench", languages=["en", "de", "fr"], default_language="en")


def _naive(letter: Letter) -> bytes:
    """The straightforward way, for comparison: a python-docx document built from scratch."""
    document = docx.Document()
    document.add_paragraph(letter.sender_name + "\n" + (letter.sender_place or ""))
    document.add_paragraph(letter.on.isoformat())
    document.add_paragraph(letter.role(letter.addressee) + "\n" + (letter.addressee.address or ""))
    document.add_paragraph(letter.subject or "")
    document.add_paragraph(letter.salutation)
    for paragraph in letter.template.body.split("\n\n"):
        document.add_paragraph(paragraph)
    document.add_paragraph(letter.personal or "")
    document.add_paragraph(letter.template.closing)
    document.add_paragraph(letter.sender_name)
    document.add_paragraph(", ".join(letter.role(copy) for copy in letter.copies))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def bench_letters(count: int) -> None:
    revision = _revision()
    languages = list(revision.letters)
    letters = [
        letter_for(
            revision,
            n % len(revision.addressees),
            languages[n % len(languages)],
            sender_name=f"Supporter {n}",
            sender_place="Bern, Switzerland" if n % 2 else None,
            personal=f"Personal sentence number {n}." if n % 3 else None,
            on=date(2026, 11, 27),
            default_language="en",
            reader_language=("en", "de", "fr")[n % 3],
            region="CH",
        )
        for n in range(count)
    ]
    compose(letters[0])  # build the template once, as the bot does at its first letter
    times = []
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for letter in letters:
        start = time.perf_counter()
        compose(letter)
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    rate = count / wall
    p95 = statistics.quantiles(times, n=20)[-1]

    naive_count = max(50, count // 20)
    start = time.perf_counter()
    for letter in letters[:naive_count]:
        _naive(letter)
    naive_rate = naive_count / (time.perf_counter() - start)

    translated = sum(letter.translation is not None for letter in letters)
    print(f"letters: {count} in {wall:.2f} s wall, {cpu:.2f} s CPU (one core, one process)")
    print(f"  of which       {translated:8d} with a translation page, all in en/de/fr/ru")
    print(
        f"  rate            {rate:8.0f} letters/s   goal >= {LETTERS_GOAL:.0f}  "
        f"ratio {rate / LETTERS_GOAL:.1f}x  {'PASS' if rate >= LETTERS_GOAL else 'MISS'}"
    )
    print(f"  p95 per letter  {p95 * 1000:8.2f} ms")
    print(
        f"  from scratch    {naive_rate:8.0f} letters/s   (python-docx per letter, for "
        f"comparison: template is {rate / naive_rate:.1f}x faster)"
    )


async def bench_confirmations(users: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        storage = await Storage.open(Path(directory) / "bench.sqlite3")
        try:
            async with storage.db.transaction():
                for user_id in range(1, users + 1):
                    await storage.users.subscribe(user_id, "en")
            start = time.perf_counter()
            # Every supporter taps twice, all at once: the second tap must not count.
            results = await asyncio.gather(
                *(
                    storage.tally.confirm("UA 012/26", 1, user_id, "en", date(2026, 2, 1))
                    for user_id in range(1, users + 1)
                    for _ in range(2)
                )
            )
            elapsed = time.perf_counter() - start
            count = await storage.tally.count("UA 012/26")
        finally:
            await storage.close()
    taps = len(results)
    print(f"confirmations: {taps} taps by {users} supporters (each tapped twice, concurrently)")
    print(f"  recorded        {taps / elapsed:8.0f} taps/s")
    print(
        f"  final count     {count:8d}   expected {users}  "
        f"{'EXACT' if count == users and sum(results) == users else 'WRONG'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--confirmations", type=int, default=10000)
    args = parser.parse_args()
    bench_letters(args.letters)
    asyncio.run(bench_confirmations(args.confirmations))


if __name__ == "__main__":
    main()

"""Writing-sessions benchmark (issue 15): many groups, each with a running session, whose
members all confirm their letter within the same minute.

    python bench/sessions.py [--groups 50] [--writers 20] [--minute-seconds 60] [--minutes 3]

The real Application (``build_application``) long-polls the Bot API emulator, which runs in
this process so the bench can drive its groups directly. Each group gets a group admin and
``--writers`` members; the admin adds the bot (as an admin that may pin) and types
``/session <case> <minutes>``; then every member taps "✅ I sent it" under the session message
at a random moment of the session's first minute. The emulator enforces Telegram's limit of 20
messages or edits per group per minute (answering 429 beyond it); the bench records the time
of every send and edit each group accepted.

It prints: the most sends/edits any group took in one window against the limit, the 429s the
emulator answered, whether every final message shows the exact counts (the group's letters and
the case's total), and how long the messages took to catch up with the last confirmation.

``--minute-seconds`` compresses time: a session minute and the emulator's per-group window
both last that many real seconds (``[sessions] minute_seconds``), so a quick run is
``--minute-seconds 10``; the default is Telegram's real minute.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

FIXTURE = ROOT / "tests" / "fixtures" / "actions" / "ua-012-26-1.toml"
CASE = "UA 012/26"
TOKEN = "123456:BENCH-TOKEN"
ADMIN_ID = 900_000_000  # the organisation's admin (not a group admin)
GROUP_ADMIN_BASE = 100_000  # group g's admin: GROUP_ADMIN_BASE + g
WRITER_BASE = 1_000_000  # group g's writer w: WRITER_BASE + g * 1000 + w
LIMIT = 20  # Telegram: about 20 messages or edits per minute in one group
SENT = "✅ I sent it"  # the group button under the session message
WAIT_GENEROUS = 120.0  # seconds for anything the bot should do "at once" under load

GOAL_429 = 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Group:
    sim: Any  # bot.emulator.SimGroup
    admin: Any  # SimUser
    writers: list[Any]
    session_id: int = 0
    message_id: int = 0
    last_confirmed: float = 0.0  # monotonic time of the group's last answered tap
    answers: list[str] = field(default_factory=list)


class SendLog:
    """The monotonic time of every send or edit the emulator accepted, per group: wraps the
    emulator's rate limiter (``acquire`` raises the 429; returning means the call went on)."""

    def __init__(self, limiter: Any) -> None:
        self.times: dict[int, list[float]] = defaultdict(list)
        original = limiter.acquire

        def acquire(chat_id: int, paid: bool = False) -> None:
            original(chat_id, paid)
            if chat_id < 0:
                self.times[chat_id].append(time.monotonic())

        limiter.acquire = acquire

    def max_in_window(self, chat_ids: list[int], window: float) -> int:
        """The most sends/edits in any ``window`` seconds, over the chats (a migrated group's
        ids together: the limit follows the group)."""
        times = sorted(t for chat_id in chat_ids for t in self.times.get(chat_id, []))
        return max(
            (bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0
        )


def thanked(group: Group) -> bool:
    """The thank-you ("🙏 14 letters in 60 minutes — thank you!") came after the session
    message (whose final text ends with the same summary)."""
    return any(
        m.message_id > group.message_id and "thank you" in m.text for m in group.sim.messages
    )


def session_message(group: Any) -> Any:
    """The bot's message with the "I sent it" button (the running session's message)."""
    for message in reversed(group.messages):
        if message.find_button(SENT) is not None:
            return message
    return None


async def seed(storage: Any, config: Any) -> None:
    """The open, published case every session writes for."""
    from bot.actions.importer import import_revision, publish
    from bot.actions.parse import parse_action

    revision = parse_action(
        FIXTURE.read_bytes(),
        source=FIXTURE.name,
        languages=config.i18n.languages,
        default_language=config.i18n.default_language,
    )
    await import_revision(storage, revision, by=None)
    await publish(storage, revision.case, revision.revision, None)


async def run(args: argparse.Namespace, workdir: Path) -> int:
    from bot.app import build_application, running
    from bot.config import parse_config
    from bot.emulator import Emulator
    from bot.services.sessions import text

    minute = args.minute_seconds
    rng = random.Random(args.seed)
    out = print
    async with Emulator(token=TOKEN) as emu:
        emu.set_group_limit(LIMIT, minute)
        log = SendLog(emu.limiter)
        config = parse_config(
            {
                "telegram": {
                    "token": TOKEN,
                    "base_url": emu.base_url,
                    "base_file_url": emu.base_file_url,
                    "admins": [ADMIN_ID],
                },
                "storage": {"path": str(workdir / "bench.sqlite3")},
                "i18n": {"default_language": "en", "languages": ["en", "de", "fr"]},
                "sessions": {"minute_seconds": minute},
            },
            environ={},
        )
        # The organisation's admin started the bot (it tells them of its start).
        await emu.user(ADMIN_ID, "Admin", language_code="en").send("/start")
        groups: list[Group] = []
        for g in range(args.groups):
            admin = emu.user(GROUP_ADMIN_BASE + g, f"Admin{g}", language_code="en")
            writers = [
                emu.user(WRITER_BASE + g * 1000 + w, f"W{g}-{w}", language_code="en")
                for w in range(args.writers)
            ]
            sim = emu.group(f"Local group {g}", members=writers, admins=[admin])
            groups.append(Group(sim, admin, writers))

        async with running(build_application(config), poll_timeout=10) as app:
            storage = app.bot_data.storage
            await seed(storage, config)
            # The writers started the bot before (a user row each: their "I sent it" counts).
            async with storage.db.transaction():
                for group in groups:
                    for writer in group.writers:
                        await storage.users.subscribe(writer.id, "en")

            started = time.monotonic()
            for group in groups:
                group.sim.add_bot(by=group.admin, admin=True)
            # The bot records each group and introduces itself there.
            await emu.wait_until(
                lambda: all(g.sim.messages for g in groups), WAIT_GENEROUS, "the introductions"
            )
            setup_s = time.monotonic() - started

            started = time.monotonic()
            for group in groups:
                await group.sim.send(group.admin, f"/session {CASE} {args.minutes}")
            await emu.wait_until(
                lambda: all(session_message(g.sim) is not None for g in groups),
                WAIT_GENEROUS,
                "every group's session message",
            )
            posted_s = time.monotonic() - started
            session_started = time.monotonic()
            for group in groups:
                group.message_id = session_message(group.sim).message_id
                running_session = await storage.sessions.running(group.sim.id)
                assert running_session is not None, f"no running session in {group.sim!r}"
                group.session_id = running_session.id
            pinned = sum(
                1
                for g in groups
                if g.sim.pinned is not None and g.sim.pinned.message_id == g.message_id
            )

            # Every writer taps "I sent it" at a random moment of the first session minute.
            async def confirm(group: Group, writer: Any, at: float) -> None:
                await asyncio.sleep(at)
                answer = await group.sim.tap(writer, group.message_id, SENT, timeout=WAIT_GENEROUS)
                group.answers.append(answer.text or "")
                group.last_confirmed = max(group.last_confirmed, time.monotonic())

            stats_before = emu.stats.as_dict()
            cpu_before = time.process_time()
            await asyncio.gather(
                *(
                    confirm(group, writer, rng.uniform(0, minute * args.spread))
                    for group in groups
                    for writer in group.writers
                )
            )
            taps_s = time.monotonic() - session_started
            total = args.groups * args.writers

            # Settled: each group's message shows all its letters (the countdown may still
            # tick: an edit each minute).
            caught_up: dict[int, float] = {}

            def settled() -> bool:
                now = time.monotonic()
                for group in groups:
                    if group.sim.id in caught_up:
                        continue
                    current = group.sim.group.by_id.get(group.message_id)
                    shown = current.text if current is not None else ""
                    if f"{args.writers} letters from this group" in shown:
                        caught_up[group.sim.id] = now
                return len(caught_up) == len(groups)

            await emu.wait_until(settled, WAIT_GENEROUS, "every session message caught up")
            settle = [caught_up[g.sim.id] - g.last_confirmed for g in groups]
            stats_settled = emu.stats.as_dict()
            cpu = time.process_time() - cpu_before

            # The end: time up (the end job), the final message, the unpin, the thank-you.
            end_deadline = args.minutes * minute + WAIT_GENEROUS
            await emu.wait_until(
                lambda: all(g.sim.pinned is None and thanked(g) for g in groups),
                end_deadline,
                "every session ended, unpinned, thanked",
            )
            ended_s = time.monotonic() - session_started
            stats_after = emu.stats.as_dict()
            exact = 0
            wrong: list[str] = []
            for group in groups:
                stored = await storage.sessions.get(group.session_id)
                final = group.sim.group.by_id.get(group.message_id)
                expected = text.counts_line(args.writers, total)
                ok = (
                    stored is not None
                    and not stored.running
                    and stored.letters == args.writers
                    and final is not None
                    and expected in final.text
                    and "Session ended" in final.text
                )
                exact += ok
                if not ok and len(wrong) < 3:
                    wrong.append(f"{group.sim!r}: {final.text if final else None!r}")
            case_letters = await storage.tally.count(CASE)
            ptb_retries = getattr(app.bot.rate_limiter, "retries_after_429", "?")
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    windows = [log.max_in_window([g.sim.id], minute) for g in groups]
    per_group = [len(log.times.get(g.sim.id, [])) for g in groups]
    too_many = stats_after["too_many_requests"]
    edits = stats_settled["edited_messages"] - stats_before["edited_messages"]
    answered = sum(len(g.answers) for g in groups)

    out(
        f"setup: {args.groups} groups x ({args.writers} writers + 1 group admin), bot added and "
        f"introduced in "
        f"{setup_s:.2f} s; session messages posted in {posted_s:.2f} s "
        f"({pinned} of {args.groups} pinned)"
    )
    out(
        f"sessions of {args.minutes} min, a minute = {minute:g} s; {total} taps on "
        f"'I sent it' within the first {minute * args.spread:g} s, {answered} answered after "
        f"{taps_s:.2f} s"
    )
    out(
        f"  edits from the first tap until every message caught up: {edits} for {total} "
        f"confirmations and the countdown ({total / max(edits, 1):.1f} confirmations per edit)"
    )
    worst = max(windows, default=0)
    out(
        f"  most sends+edits in one group in any {minute:g} s window: {worst}  "
        f"limit {LIMIT}  ({worst / LIMIT:.2f}x the limit)  {verdict(worst <= LIMIT)}"
    )
    out(
        f"    per group over the whole run: median {statistics.median(per_group):.0f}, "
        f"max {max(per_group)} sends/edits"
    )
    out(
        f"  429s answered by the emulator: {too_many}  goal {GOAL_429}  "
        f"{verdict(too_many == GOAL_429)}  (bot-side retries after 429: {ptb_retries})"
    )
    out(
        f"  time to settle (a group's last confirmation -> its message shows every letter): "
        f"median {statistics.median(settle):.2f} s, max {max(settle):.2f} s "
        f"(one edit slot is {minute / LIMIT:.2f} s)"
    )
    out(
        f"  final messages with exact counts ('{text.counts_line(args.writers, total)}'): "
        f"{exact} of {args.groups}  {verdict(exact == args.groups)}"
    )
    for line in wrong:
        out(f"    wrong: {line}")
    out(
        f"  case total in the database: {case_letters} (expected {total})  "
        f"{verdict(case_letters == total)}"
    )
    out(
        f"  every session ended (time up), unpinned and thanked {ended_s:.1f} s after the "
        f"start; process CPU while confirming {cpu:.2f} s "
        f"({cpu * 1000 / total:.2f} ms per confirmation, bot and emulator together); "
        f"peak memory {peak_mib:.0f} MiB"
    )
    ok = worst <= LIMIT and too_many == 0 and exact == args.groups and case_letters == total
    out(f"all goals met: {ok}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--writers", type=int, default=20, help="writers per group")
    parser.add_argument(
        "--minute-seconds", type=float, default=60.0, help="real seconds per session minute"
    )
    parser.add_argument("--minutes", type=int, default=3, help="each session's length")
    parser.add_argument(
        "--spread", type=float, default=1.0, help="the taps fall in this part of a minute"
    )
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    if args.minutes < 2:
        parser.error("--minutes must be at least 2 (the taps take the first minute)")
    if args.writers < 2 or args.writers >= 1000:
        parser.error("--writers must be between 2 and 999")
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="uabot-bench-sessions-") as workdir:
        return asyncio.run(run(args, Path(workdir)))


if __name__ == "__main__":
    sys.exit(main())

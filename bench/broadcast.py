"""Broadcast benchmark: the real bot against the emulator running in a separate process.

    python bench/broadcast.py [--subscribers 10000] [--rate 200]

Three processes, all on 127.0.0.1:

* the emulator (``python -m bot.emulator --rate R``), so its CPU is not charged to the bot;
* this process, which runs the bot built by ``build_application`` and measures its CPU time;
* a "talkers" child (this script with ``--talkers``): a few subscribers who send /help every
  ~0.5 s during the broadcast and time each answer (its polling is not charged to the bot).

The run is bounded: the broadcast is given ``4 x subscribers / rate + 60`` seconds, every child
is killed on the way out, and the databases live in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "actions" / "ua-012-26-1.toml"
TOKEN = "123456:BENCH-TOKEN"
ADMIN_ID = 900_000_000  # receives the final report; not a subscriber
TALKER_BASE = 800_000_000  # talkers are subscribers too, with ids after everyone else's
TALKERS = 5
TALK_EVERY = 0.5  # seconds between one talker's /help messages
POLL_EVERY = 0.010  # seconds between two looks at a talker's chat
REPLY_TIMEOUT = 10.0
LANGUAGES = ("en", "de", "fr")

GOAL_RATE_RATIO = 0.98
GOAL_CPU_MS = 1.0
GOAL_P95_S = 0.5
GOAL_ENQUEUE_S = 1.0
ENQUEUE_SUBSCRIBERS = 100_000


# -- helpers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def emu_json(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    async with session.request(method, url, json=body) as response:
        data = await response.json()
    if not data.get("ok"):
        raise RuntimeError(f"{method} {url}: {data}")
    return data["result"]


async def start_emulator(port: int, rate: float, log_path: Path) -> asyncio.subprocess.Process:
    with log_path.open("wb") as log_file:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--token",
            TOKEN,
            "--rate",
            str(rate),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
            cwd=ROOT,
        )


async def wait_until_up(session: aiohttp.ClientSession, control: str, process: Any) -> None:
    deadline = time.monotonic() + 15
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"the emulator exited with status {process.returncode}")
        try:
            await emu_json(session, "GET", f"{control}/config")
            return
        except (aiohttp.ClientError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not come up within 15 s") from None
            await asyncio.sleep(0.05)


async def stop_process(process: asyncio.subprocess.Process | None) -> None:
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()


# -- the talkers (a child process) --------------------------------------------------------------


async def talk(control: str, user_ids: list[int], stop: asyncio.Event) -> dict[str, Any]:
    """Each user sends /help every TALK_EVERY s until ``stop``; time every answer."""
    answers: list[float] = []
    missing = 0

    async def one_user(session: aiohttp.ClientSession, user_id: int, offset: float) -> None:
        nonlocal missing
        await asyncio.sleep(offset)
        url = f"{control}/chats/{user_id}/messages"
        while not stop.is_set():
            sent = time.time()
            message = await emu_json(
                session, "POST", f"{control}/send", {"user_id": user_id, "text": "/help"}
            )
            after = message["message_id"]
            answered = None
            while answered is None and time.time() - sent < REPLY_TIMEOUT:
                await asyncio.sleep(POLL_EVERY)
                for bot_message in await emu_json(session, "GET", f"{url}?after={after}"):
                    if "012/26" not in bot_message["text"]:  # not the broadcast's card
                        answered = bot_message["sent_at"] - sent
                        break
            if answered is None:
                missing += 1
            else:
                answers.append(answered)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, sent + TALK_EVERY - time.time()))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            *(
                one_user(session, uid, i * TALK_EVERY / len(user_ids))
                for i, uid in enumerate(user_ids)
            )
        )
    return {"answers": answers, "missing": missing}


def talkers_main(control: str, user_ids: list[int]) -> None:
    """``--talkers``: print "ready", talk from "go" until "stop" (or EOF), print the results."""

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        go, stop = asyncio.Event(), asyncio.Event()

        def read_stdin() -> None:
            for line in sys.stdin:
                if line.strip() == "go":
                    loop.call_soon_threadsafe(go.set)
                elif line.strip() == "stop":
                    break
            loop.call_soon_threadsafe(go.set)
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=read_stdin, daemon=True).start()
        print("ready", flush=True)
        await go.wait()
        return await talk(control, user_ids, stop)

    print(json.dumps(asyncio.run(main())), flush=True)


async def start_talkers(control: str, user_ids: list[int]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--talkers",
        control,
        *map(str, user_ids),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise RuntimeError(f"the talkers did not start: {line!r}")
    return process


async def finish_talkers(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"stop\n")
    await process.stdin.drain()
    line = await asyncio.wait_for(process.stdout.readline(), REPLY_TIMEOUT + 10)
    await process.wait()
    return dict(json.loads(line))


# -- the benchmark ------------------------------------------------------------------------------


async def store_subscribers(path: Path, user_ids: list[int]) -> None:
    from bot.storage import Storage

    storage = await Storage.open(path)
    try:
        async with storage.db.transaction():
            for index, user_id in enumerate(user_ids):
                await storage.users.subscribe(user_id, LANGUAGES[index % len(LANGUAGES)])
    finally:
        await storage.close()


async def time_enqueue(path: Path, count: int) -> tuple[float, int]:
    """Seconds for one ``broadcasts.create`` over ``count`` subscribers, and its total."""
    from bot.storage import Storage

    storage = await Storage.open(path)
    try:
        # Setup only (not measured): one multi-row insert rather than 100,000 round trips.
        async with storage.db.transaction():
            await storage.db.execute_many(
                "INSERT INTO users (id, language) VALUES (?, ?)",
                ((uid, LANGUAGES[uid % len(LANGUAGES)]) for uid in range(1, count + 1)),
            )
        started = time.perf_counter()
        async with storage.db.transaction():
            broadcast_id = await storage.broadcasts.create(kind="action", case_number="UA 0/0")
        elapsed = time.perf_counter() - started
        broadcast = await storage.broadcasts.get(broadcast_id)
        assert broadcast is not None
        return elapsed, broadcast.total
    finally:
        await storage.close()


async def run(subscribers: int, rate: float, workdir: Path) -> int:
    from bot.actions.importer import import_revision, publish
    from bot.actions.parse import parse_action
    from bot.app import build_application, running
    from bot.config import parse_config

    port = free_port()
    control = f"http://127.0.0.1:{port}/_emu"
    talker_ids = [TALKER_BASE + i for i in range(TALKERS)]
    subscriber_ids = [*range(1, subscribers - TALKERS + 1), *talker_ids]
    emulator = talkers = None
    out = print
    try:
        emulator = await start_emulator(port, rate, workdir / "emulator.log")
        async with aiohttp.ClientSession() as session:
            await wait_until_up(session, control, emulator)
            started = time.perf_counter()
            everyone = [*subscriber_ids, ADMIN_ID]
            for i in range(0, len(everyone), 5000):
                await emu_json(
                    session,
                    "POST",
                    f"{control}/users",
                    # Subscribers (and the admin) opened the bot before: it may write to them.
                    [
                        {"id": uid, "language_code": "en", "started": True}
                        for uid in everyone[i : i + 5000]
                    ],
                )
            users_s = time.perf_counter() - started
            db_path = workdir / "bench.sqlite3"
            started = time.perf_counter()
            await store_subscribers(db_path, subscriber_ids)
            store_s = time.perf_counter() - started
            out(
                f"setup: {len(everyone)} emulator users in {users_s:.2f} s, "
                f"{subscribers} subscribers stored in {store_s:.2f} s"
            )

            config = parse_config(
                {
                    "telegram": {
                        "token": TOKEN,
                        "base_url": f"http://127.0.0.1:{port}/bot",
                        "base_file_url": f"http://127.0.0.1:{port}/file/bot",
                        "admins": [ADMIN_ID],
                    },
                    "storage": {"path": str(db_path)},
                    "i18n": {"default_language": "en", "languages": list(LANGUAGES)},
                    "broadcast": {"messages_per_second": rate},
                },
                environ={},
            )
            talkers = await start_talkers(control, talker_ids)
            async with running(build_application(config), poll_timeout=10) as app:
                storage = app.bot_data.storage
                revision = parse_action(
                    FIXTURE.read_bytes(),
                    source=FIXTURE.name,
                    languages=config.i18n.languages,
                    default_language=config.i18n.default_language,
                )
                await import_revision(storage, revision, by=None)
                broadcast_id = await publish(storage, revision.case, revision.revision, None)
                assert broadcast_id is not None
                broadcast = await storage.broadcasts.get(broadcast_id)
                assert broadcast is not None
                stats_before = await emu_json(session, "GET", f"{control}/stats")

                assert talkers.stdin is not None
                talkers.stdin.write(b"go\n")
                await talkers.stdin.drain()
                cpu_before = time.process_time()
                started = time.monotonic()
                app.bot_data.broadcasts.start(broadcast)
                await asyncio.wait_for(
                    app.bot_data.broadcasts.wait(broadcast_id), 4 * subscribers / rate + 60
                )
                duration = time.monotonic() - started
                cpu = time.process_time() - cpu_before
                talked = await finish_talkers(talkers)
                stats_after = await emu_json(session, "GET", f"{control}/stats")
                finished = await storage.broadcasts.get(broadcast_id)
                assert finished is not None
                limiter = app.bot.rate_limiter
            peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        enqueue_s, enqueued = await time_enqueue(workdir / "enqueue.sqlite3", ENQUEUE_SUBSCRIBERS)
    finally:
        await stop_process(talkers)
        await stop_process(emulator)

    delivered = finished.delivered
    sent_total = stats_after["sent_messages"] - stats_before["sent_messages"]
    too_many = stats_after["too_many_requests"] - stats_before["too_many_requests"]
    rate_broadcast = delivered / duration
    rate_all = sent_total / duration
    ratio = rate_all / rate
    cpu_ms = cpu * 1000 / max(delivered, 1)
    answers = talked["answers"]
    p95 = percentile(answers, 95) if answers else float("inf")
    worst = max(answers) if answers else float("inf")

    out()
    out(f"broadcast of {subscribers} subscribers at a configured {rate:g} messages/s")
    out(
        f"  delivered {delivered} of {finished.total} (unreachable {finished.unreachable}, "
        f"failed {finished.failed}, skipped {finished.skipped}) in {duration:.2f} s"
    )
    out(
        f"  achieved: broadcast {rate_broadcast:.1f} msg/s; all sends {rate_all:.1f} msg/s "
        f"({sent_total} = {delivered} cards + {sent_total - delivered} replies and report)"
    )
    out(
        f"  achieved / configured rate (all sends share the budget): {ratio:.3f}"
        f"  goal >= {GOAL_RATE_RATIO}  {verdict(ratio >= GOAL_RATE_RATIO)}"
    )
    out(f"    (broadcast alone: {rate_broadcast / rate:.3f} of the configured rate)")
    out(
        f"  429s drawn from the emulator: {too_many}  goal 0  {verdict(too_many == 0)}"
        f"  (bot-side retries after 429: {getattr(limiter, 'retries_after_429', '?')})"
    )
    out(
        f"  bot CPU: {cpu:.2f} s over {duration:.2f} s = {cpu / duration:.0%} of one core; "
        f"{cpu_ms:.3f} ms per delivered message  goal <= {GOAL_CPU_MS} ms "
        f"({cpu_ms / GOAL_CPU_MS:.2f}x the goal)  {verdict(cpu_ms <= GOAL_CPU_MS)}"
    )
    out("    (this process only: the emulator and the talkers run in their own processes)")
    if answers:
        out(
            f"  answer time of {TALKERS} talkers during the broadcast: {len(answers)} answers"
            f" ({talked['missing']} missing), median {statistics.median(answers) * 1000:.0f} ms,"
            f" p95 {p95 * 1000:.0f} ms, max {worst * 1000:.0f} ms"
        )
    else:
        out(f"  answer time: no answers ({talked['missing']} missing)")
    p95_ok = p95 < GOAL_P95_S and talked["missing"] == 0
    out(
        f"  p95 answer time {p95:.3f} s  goal < {GOAL_P95_S} s ({p95 / GOAL_P95_S:.2f}x the goal)"
        f"  {verdict(p95_ok)}  (max {worst:.3f} s; one token is {1000 / rate:.0f} ms)"
    )
    out(
        f"  time to enqueue {enqueued} recipients: {enqueue_s:.3f} s  goal < {GOAL_ENQUEUE_S} s"
        f" ({enqueue_s / GOAL_ENQUEUE_S:.2f}x the goal, "
        f"{enqueued / enqueue_s:,.0f} rows/s)  {verdict(enqueue_s < GOAL_ENQUEUE_S)}"
    )
    out(f"  peak memory of the bot process (maxrss, before the enqueue test): {peak_mib:.0f} MiB")
    ok = (
        ratio >= GOAL_RATE_RATIO
        and too_many == 0
        and cpu_ms <= GOAL_CPU_MS
        and p95_ok
        and enqueue_s < GOAL_ENQUEUE_S
    )
    out(f"all goals met: {ok}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--talkers", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.talkers:
        talkers_main(args.talkers[0], [int(uid) for uid in args.talkers[1:]])
        return 0
    if args.subscribers <= TALKERS:
        parser.error(f"--subscribers must be more than {TALKERS}")
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="uabot-bench-") as workdir:
        return asyncio.run(run(args.subscribers, args.rate, Path(workdir)))


if __name__ == "__main__":
    sys.exit(main())

"""Several ``uabot run`` processes on one PostgreSQL database drain one broadcast (issue 16 §4).

    python bench/instances.py --storage postgresql://… [--instances 2] [--subscribers 10000]
                              [--rate 200]

The emulator runs in its own process (Telegram's limits: 30/s ordinary, 1,000/s paid); each
instance is a real ``uabot run`` in webhook mode on a port of its own (so that none takes
another's updates), all on one fresh schema (``bench_instances``) of the given database. The
case is published before they start, as ``uabot import --publish`` does; every instance
resumes it at its start. Printed: the achieved rate of all instances together and its ratio
to the configured rate (which is the whole bot's, not each instance's), the 429s, and the CPU
time of all instances per delivered message (from the first card to the last).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import broadcast
from broadcast import (
    ADMIN_ID,
    FIXTURE,
    LANGUAGES,
    cpu_seconds,
    database,
    emu_json,
    free_port,
    start_emulator,
    stop_process,
    store_subscribers,
    verdict,
    wait_until_up,
)

# ``uabot run`` reads its token from a config file, which wants one shaped like BotFather's;
# the emulator (started by bench/broadcast.py's helper) is given the same.
TOKEN = broadcast.TOKEN = "123456:" + "B" * 35
GOAL_RATE_RATIO = 0.98  # the sum over instances reaches the configured rate...
GOAL_RATE_MAX = 1.02  # ...and does not go beyond it (each alone would send at the whole rate)


def instance_config(folder: Path, emulator_port: int, url: str, rate: float) -> Path:
    port = free_port()
    path = folder / f"instance-{port}.toml"
    path.write_text(
        "[telegram]\n"
        f'token = "{TOKEN}"\n'
        f'base_url = "http://127.0.0.1:{emulator_port}/bot"\n'
        f'base_file_url = "http://127.0.0.1:{emulator_port}/file/bot"\n'
        f"admins = [{ADMIN_ID}]\n"
        'mode = "webhook"\n'
        f'webhook_url = "http://127.0.0.1:{port}/telegram"\n'
        f'listen = "127.0.0.1:{port}"\n'
        'secret_token = "bench-instances-secret"\n'
        "[i18n]\n"
        'default_language = "en"\n'
        f"languages = {list(LANGUAGES)!r}\n"
        "[broadcast]\n"
        f"messages_per_second = {rate}\n"
        f"paid = {'true' if rate > 30 else 'false'}\n"
        "[storage]\n"
        f'url = "{url}"\n',
        encoding="utf-8",
    )
    return path


async def publish_case(url: str) -> None:
    from bot.actions.importer import import_revision, publish
    from bot.actions.parse import parse_action
    from bot.storage import Storage

    storage = await Storage.open(url)
    try:
        revision = parse_action(
            FIXTURE.read_bytes(),
            source=FIXTURE.name,
            languages=LANGUAGES,
            default_language="en",
        )
        await import_revision(storage, revision, by=None)
        assert await publish(storage, revision.case, revision.revision, None)
    finally:
        await storage.close()


async def run(storage: str, instances: int, subscribers: int, rate: float, workdir: Path) -> int:
    port = free_port()
    control = f"http://127.0.0.1:{port}/_emu"
    emulator = None
    bots: list[asyncio.subprocess.Process] = []
    try:
        emulator = await start_emulator(port, workdir / "emulator.log")
        async with aiohttp.ClientSession() as session:
            await wait_until_up(session, control, emulator)
            everyone = [*range(1, subscribers + 1), ADMIN_ID]
            for i in range(0, len(everyone), 5000):
                await emu_json(
                    session,
                    "POST",
                    f"{control}/users",
                    [
                        {"id": uid, "language_code": "en", "started": True}
                        for uid in everyone[i : i + 5000]
                    ],
                )
            url = str(database(workdir, "instances", storage))
            await store_subscribers(url, subscribers, [])
            await publish_case(url)
            counted = "paid_messages" if rate > 30 else "sent_messages"
            before = (await emu_json(session, "GET", f"{control}/stats"))[counted]
            for index in range(instances):
                config = instance_config(workdir, port, url, rate)
                with (workdir / f"instance-{index}.log").open("wb") as log_file:
                    bots.append(
                        await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-m",
                            "bot",
                            "run",
                            "--config",
                            str(config),
                            stdin=asyncio.subprocess.DEVNULL,
                            stdout=log_file,
                            stderr=log_file,
                        )
                    )
            first_at = last_at = 0.0
            cpu_first = 0.0
            deadline = time.monotonic() + 4 * subscribers / rate + 60
            sent = 0
            while (
                sent < subscribers
                and time.monotonic() < deadline
                and all(bot.returncode is None for bot in bots)
            ):
                stats = await emu_json(session, "GET", f"{control}/stats")
                now = time.monotonic()
                sent = stats[counted] - before
                if sent and not first_at:
                    first_at, cpu_first = now, sum(cpu_seconds(b.pid) for b in bots)
                last_at = now
                await asyncio.sleep(0.05)
            cpu = sum(cpu_seconds(b.pid) for b in bots) - cpu_first
            stats = await emu_json(session, "GET", f"{control}/stats")
    finally:
        for bot in bots:
            await stop_process(bot)
        await stop_process(emulator)
    if sent < subscribers:
        print(f"only {sent} of {subscribers} delivered before the deadline")
        for index in range(len(bots)):
            log = (workdir / f"instance-{index}.log").read_text(errors="replace")
            print(f"instance {index}:\n{log[-2000:]}")
        return 1
    achieved = (sent - 1) / max(last_at - first_at, 1e-6)
    ratio = achieved / rate
    per_message = cpu / sent * 1000
    print(f"{instances} instances, {subscribers} subscribers, {rate:g}/s configured for the bot")
    print(
        f"  achieved {achieved:.1f}/s together: {ratio:.3f} of the configured rate"
        f"  goal {GOAL_RATE_RATIO}-{GOAL_RATE_MAX}"
        f"  {verdict(GOAL_RATE_RATIO <= ratio <= GOAL_RATE_MAX)}"
    )
    print(
        f"  429s: {stats['too_many_requests']}  goal 0  {verdict(not stats['too_many_requests'])}"
    )
    print(f"  CPU of all instances: {cpu:.2f} s, {per_message:.3f} ms per delivered message")
    ok = GOAL_RATE_RATIO <= ratio <= GOAL_RATE_MAX and not stats["too_many_requests"]
    print(f"all goals met: {ok}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="postgresql://… (a schema is made)")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="uabot-instances-") as folder:
        return asyncio.run(
            run(args.storage, args.instances, args.subscribers, args.rate, Path(folder))
        )


if __name__ == "__main__":
    sys.exit(main())

"""Downstream rate-limit governance: clients through the gateway vs the same clients going direct.

    python bench/rate_limit.py [--rate 30] [--clients 32] [--seconds 8] [--rounds 3]

A simulated tracker (``unigate.simulation.budget_tracker``, its own process) enforces ``--rate``
requests a second (a fixed window of one second, GitHub-style ``x-ratelimit-*`` headers, 429 with
``Retry-After`` past it). ``--clients`` concurrent clients read tickets for ``--seconds``, in
interleaved rounds: straight at the tracker (each sends its next read as soon as it has an answer),
then through the gateway (its own process, ``UNIGATE_REDIS_URL`` unset: one process). Prints, per
path, the reads answered 200 a second (from the first call to the last answer; median of the
rounds) as a share of the limit R, and the 429s the clients got; also the tracker's own refusals of
the gateway's calls (the first contact, before the budget is learned: queued again, never returned).
Target: through the gateway >= 0.9 R with zero 429s returned. R must be well below what the machine
can serve at all (on a busy 2-core machine, 50 req/s is not: then both paths fall short of R).
Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unigate.simulation.budget_tracker import TOKEN  # noqa: E402
from unigate.simulation.server import free_port  # noqa: E402

TRACKER = """
import sys
import uvicorn
from unigate.simulation.budget_tracker import budget_tracker
from unigate.simulation.budgets import FixedWindow
uvicorn.run(budget_tracker(FixedWindow(limit=int(sys.argv[1]), window=1)), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False)
"""

GATEWAY = """
import sys, tempfile
from pathlib import Path
import orjson
sys.path.insert(0, sys.argv[1])
from tests.support.manifest_gateway import manifest_gateway
from unigate.simulation.budget_tracker import SERVICE_ID, TICKETS, TOKEN, manifest
gateway = manifest_gateway(Path(tempfile.mkdtemp()), SERVICE_ID, manifest(), sys.argv[2], credentials={"token": TOKEN})
print(orjson.dumps({"url": gateway.server.url + TICKETS, "headers": gateway.headers(SERVICE_ID)}).decode(), flush=True)
sys.stdin.read()
gateway.stop()
"""


async def load(base: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[Counter[int], float]:
    """``clients`` clients reading ``base/<n>`` back to back for ``seconds``: the statuses they got, and the
    seconds from the first call to the last answer (a call queued past the end is waited for and counted)."""
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        end = time.monotonic() + seconds

        async def one(n: int) -> None:
            while time.monotonic() < end:
                statuses[(await client.get(f"{base}/{1 + n % 20}")).status_code] += 1
        await asyncio.gather(*(one(n) for n in range(clients)))
    return statuses, time.monotonic() - started


def start_tracker(rate: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", TRACKER, str(rate), str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/__budget", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the tracker did not start")


def refused(url: str) -> int:
    return int(httpx.get(url + "/__budget", timeout=10).json()["refused"])


def start_gateway(tracker_url: str) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    process = subprocess.Popen([sys.executable, "-c", GATEWAY, str(ROOT), tracker_url], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env={**os.environ, "UNIGATE_REDIS_URL": ""})
    assert process.stdout is not None
    return process, orjson.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tracker, url = start_tracker(args.rate)
    gateway, where = start_gateway(url)
    rounds: dict[str, list[tuple[Counter[int], float]]] = {"direct": [], "gateway": []}
    refused_by_tracker = []
    try:
        for _ in range(args.rounds):
            rounds["direct"].append(asyncio.run(load(f"{url}/issues", {"authorization": f"Bearer {TOKEN}"},
                                                     args.clients, args.seconds)))
            time.sleep(1.5)   # the tracker's window over
            before = refused(url)
            rounds["gateway"].append(asyncio.run(load(str(where["url"]), where["headers"],  # type: ignore[arg-type]
                                                      args.clients, args.seconds)))
            refused_by_tracker.append(refused(url) - before)
            time.sleep(1.5)
    finally:
        gateway.communicate(b"", timeout=30)
        tracker.terminate()
        tracker.wait(10)
    report(args, rounds, refused_by_tracker)


def report(args: argparse.Namespace, rounds: dict[str, list[tuple[Counter[int], float]]],
           refused_by_tracker: list[int]) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"tracker limit R = {args.rate} req/s (fixed 1 s window); {args.clients} clients; "
          f"{args.rounds} rounds of {args.seconds:g} s each way, interleaved")
    for path, counts in rounds.items():
        rates = [c[200] / elapsed for c, elapsed in counts]
        too_many = [c[429] for c, _ in counts]
        other = sum(sum(v for k, v in c.items() if k not in (200, 429)) for c, _ in counts)
        print(f"{path:8} 200s: {statistics.median(rates):7.1f} req/s = {statistics.median(rates) / args.rate:.2f} R "
              f"(rounds {', '.join(f'{r:.1f}' for r in rates)}); 429s returned: {too_many}; other: {other}")
    print(f"the tracker refused of the gateway's calls (queued again, never returned): {refused_by_tracker}")


if __name__ == "__main__":
    main()

"""Two gateway processes, one tracker account: with ``UNIGATE_REDIS_URL`` they spend one budget.

Each process is a separate ``python`` with its own vault, the same secret key (so the same account
fingerprint) and the same Redis key prefix (this test's own); both send their clients' reads to one
tracker limited to ``LIMIT`` requests a second at the same moment. The first pair learns the budget
(the first calls, made before anything is known of it, are refused and queued again: their clients
still get 200s); a second pair of new processes starts from what the first left in Redis, and the
tracker refuses hardly any of their calls. Each keeping its own budget (no Redis), new processes
know nothing and pay that first contact again.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from unigate.simulation.budget_tracker import budget_tracker
from unigate.simulation.budgets import FixedWindow
from unigate.testing import Simulator
from unigate.vault.crypto import generate_secret_key

from .support.redis_budgets import REDIS_URL, redis_prefix  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 8
CALLS = 16          # per process
CONCURRENCY = 12    # per process

WORKER = """
import asyncio, sys, tempfile, time
from pathlib import Path
import httpx, orjson
sys.path.insert(0, sys.argv[1])
from tests.support.manifest_gateway import manifest_gateway
from unigate.simulation.budget_tracker import SERVICE_ID, TICKETS, TOKEN, manifest
url, key, redis_url, prefix = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
calls, concurrency = int(sys.argv[6]), int(sys.argv[7])
settings = {"redis_url": redis_url or None, "redis_prefix": prefix}
gateway = manifest_gateway(Path(tempfile.mkdtemp()), SERVICE_ID, manifest(), url, credentials={"token": TOKEN},
                           secret_key=key, settings=settings)
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.readline()  # both start together, once both gateways are up
async def run():
    async with httpx.AsyncClient(base_url=gateway.server.url, headers=gateway.headers(SERVICE_ID), timeout=60) as c:
        gate = asyncio.Semaphore(concurrency)
        async def one(i):
            async with gate:
                return (await c.get(f"{TICKETS}/{1 + i % 20}")).status_code
        return await asyncio.gather(*(one(i) for i in range(calls)))
statuses = asyncio.run(run())
gateway.stop()
sys.stdout.write(orjson.dumps(statuses).decode())
"""


@pytest.fixture
def tracker() -> Iterator[tuple[Simulator, FixedWindow]]:
    policy = FixedWindow(limit=LIMIT, window=1)
    sim = Simulator.start(budget_tracker(policy))
    yield sim, policy
    sim.server.stop()


KEY = generate_secret_key()


def two_processes(url: str, redis_url: str, prefix: str, tmp: Path) -> Counter[int]:
    """Both workers' statuses; each sends its calls once both have said their gateway is up."""
    args = [str(ROOT), url, KEY, redis_url, prefix, str(CALLS), str(CONCURRENCY)]
    logs = [tmp / f"worker{n}.err" for n in range(2)]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log.open("wb")) for log in logs]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.stdout is not None and worker.stdout.readline() == b"ready\n", log.read_text()[-2000:]
    statuses: Counter[int] = Counter()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        worker.stdin.flush()
    for worker, log in zip(workers, logs, strict=True):
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, log.read_text()[-2000:]
        statuses.update(orjson.loads(out))
    return statuses


def test_processes_sharing_the_budget_through_redis_start_from_what_others_learned(
        tracker: tuple[Simulator, FixedWindow], redis_prefix: str, tmp_path: Path) -> None:
    sim, policy = tracker
    assert two_processes(sim.url, REDIS_URL, redis_prefix, tmp_path) == Counter({200: 2 * CALLS})
    learning = policy.refused
    assert learning >= LIMIT                     # the first contact: both processes' first calls at once
    assert two_processes(sim.url, REDIS_URL, redis_prefix, tmp_path) == Counter({200: 2 * CALLS})
    assert policy.refused - learning <= LIMIT // 2


def test_processes_each_with_its_own_budget_start_knowing_nothing(
        tracker: tuple[Simulator, FixedWindow], tmp_path: Path) -> None:
    sim, policy = tracker
    assert two_processes(sim.url, "", "", tmp_path) == Counter({200: 2 * CALLS})
    assert policy.refused >= LIMIT

"""A small closed-loop HTTP load generator run in its own process (aiohttp client).

``measure(url, headers, concurrency, seconds)`` starts a separate process that keeps
``concurrency`` requests in flight for ``seconds`` and returns req/s, p50 and p99 (ms).
Bounded in time and count; loopback targets only.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass

MAX_REQUESTS = 500_000


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _run(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Result:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0  # noqa: E731
    return Result(len(latencies), errors, elapsed, pick(0.50), pick(0.99))


def _child(queue: mp.Queue, url: str, headers: dict[str, str], concurrency: int, seconds: float) -> None:
    queue.put(asyncio.run(_run(url, headers, concurrency, seconds)))


def measure(url: str, headers: dict[str, str] | None = None, *, concurrency: int = 1, seconds: float = 3.0) -> Result:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(queue, url, headers or {}, concurrency, seconds))
    process.start()
    result = queue.get(timeout=seconds + 60)
    process.join(timeout=10)
    return result

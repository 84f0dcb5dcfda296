"""Does the gateway scale out? One worker, two workers, and two replicas, measured in one run.

    python bench/scale.py [--seconds 3] [--repeat 3] [--clients 32] [--no-postgres]

Starts a simulated AgentsMesh (no injected latency) and these topologies in front of it, each on a
vault of its own:

- ``1 worker``: ``unigate serve`` on SQLite (the baseline every ratio is against);
- ``2 workers``: ``unigate serve --workers 2`` on SQLite (one port, two worker processes);
- ``2 replicas``: two ``unigate serve`` processes on one SQLite vault;
- ``1 on PG`` and ``2 replicas PG``: one, and two, ``unigate serve`` processes on one PostgreSQL
  database (a schema of a database made for the run on ``UNIGATE_TEST_POSTGRES``, default the local
  server, dropped at the end; ``--no-postgres``: left out).

A separate load-generator process drives each topology with ``--clients`` requests in flight (the two
replicas get half each, from two load processes, summed), in interleaved rounds, for GET one ticket
and list 100 tickets. Prints req/s per topology and round, the median ratio against one worker, and
the gateway processes' CPU per request (all of a topology's processes and workers, from /proc: the
figure a busy machine disturbs least, and the one that says whether coordination costs anything),
with the machine's cores and load average: a req/s ratio can only approach the number of processes
when the cores are free for them (the load generator and the simulator need CPU too).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gateway import CASES, prepare_vault, serve_simulator, start_gateway, wait_for
from load import measure
from request_log import cpu_seconds

from unigate.simulation.server import free_port
from unigate.testing.databases import PostgresRun

# name -> (processes, workers per process, backend)
TOPOLOGIES = {"1 worker": (1, 1, "sqlite"), "2 workers": (1, 2, "sqlite"), "2 replicas": (2, 1, "sqlite"),
              "1 on PG": (1, 1, "postgresql"), "2 replicas PG": (2, 1, "postgresql")}


def start(topology: str, directory: Path, upstream: str, postgres: PostgresRun | None) -> tuple[list, list[int], dict]:
    """The topology's gateway processes, their ports, and the request headers of its vault."""
    count, workers, backend = TOPOLOGIES[topology]
    directory.mkdir()
    env, headers = prepare_vault(directory, upstream, postgres.new_database() if postgres and backend != "sqlite"
                                 else None)
    env["UNIGATE_WORKERS"] = str(workers)
    ports = [free_port() for _ in range(count)]
    processes = [start_gateway(env, port, timeout=180)[0] for port in ports]
    return processes, ports, headers


def gateway_cpu(processes: list[subprocess.Popen]) -> float:
    """CPU seconds of the topology's processes and their children (the workers of ``--workers``)."""
    pids = [p.pid for p in processes]
    for pid in list(pids):
        children = Path(f"/proc/{pid}/task/{pid}/children")
        pids += [int(c) for c in children.read_text().split()] if children.exists() else []
    return sum(cpu_seconds(pid) for pid in pids)


def rps(started: tuple, path: str, clients: int, seconds: float) -> tuple[float, float]:
    """Requests per second the topology answered, all its ports driven at once (clients split evenly),
    and its processes' CPU µs per request."""
    processes, ports, headers = started
    share = max(1, clients // len(ports))
    before = gateway_cpu(processes)
    with ThreadPoolExecutor(len(ports)) as pool:
        results = list(pool.map(lambda port: measure(f"http://127.0.0.1:{port}{path}", headers, concurrency=share,
                                                     seconds=seconds), ports))
    cpu = gateway_cpu(processes) - before
    assert all(r.errors == 0 for r in results), "errors answered"
    return sum(r.rps for r in results), cpu / sum(r.requests for r in results) * 1e6


def compare(started: dict, case: str, path: str, clients: int, repeat: int, seconds: float) -> None:
    """Interleaved rounds of one case over every topology; prints medians and ratios to one worker."""
    names = list(started)
    rounds: dict[str, list[float]] = {t: [] for t in names}
    cpu: dict[str, list[float]] = {t: [] for t in names}
    for n in range(repeat):
        for topology in names if n % 2 == 0 else names[::-1]:
            rps(started[topology], path, clients, 0.5)   # warm up
            answered, cpu_per_request = rps(started[topology], path, clients, seconds)
            rounds[topology].append(answered)
            cpu[topology].append(cpu_per_request)
    base = statistics.median(rounds["1 worker"])
    for topology in names:
        ratios = [r / b for r, b in zip(rounds[topology], rounds["1 worker"], strict=True)]
        print(f"{case:<17} {clients:>2} clients  {topology:<10} {statistics.median(rounds[topology]):7.0f} req/s "
              f"x{statistics.median(rounds[topology]) / base:4.2f} of 1 worker (rounds "
              f"{', '.join(f'{r:.2f}' for r in ratios)}), {statistics.median(cpu[topology]):5.0f} µs CPU/req")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite topologies only")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    postgres = None if args.no_postgres else PostgresRun()
    ctx = mp.get_context("spawn")
    sim_port = free_port()
    sim = ctx.Process(target=serve_simulator, args=(sim_port, 260), daemon=True)
    sim.start()
    started: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wait_for(sim_port)
            for topology, (_, _, backend) in TOPOLOGIES.items():
                if backend == "sqlite" or postgres is not None:
                    started[topology] = start(topology, Path(tmp) / topology.replace(" ", "-"),
                                              f"http://127.0.0.1:{sim_port}", postgres)
            for case, (_, path) in CASES.items():
                compare(started, case, path, args.clients, args.repeat, args.seconds)
        finally:
            for processes, _, _ in started.values():
                for process in processes:
                    process.terminate()
                    process.wait(15)
            sim.terminate()
            if postgres is not None:
                postgres.drop()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

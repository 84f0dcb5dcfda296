"""What does the request log cost? The same gateway with the log on and off, measured in one run.

    python bench/request_log.py [--seconds 3] [--repeat 5] [--clients 1,8,32] [--writer process|thread]

Starts a simulated AgentsMesh (no injected latency) and two `unigate serve` processes in front of it,
each with its own vault: one with UNIGATE_REQUEST_LOG=on (the default), one with it off. A separate
load-generator process drives each, in interleaved rounds (a noisy neighbour hits both alike), for GET
one ticket and list 100 tickets. Per round and mode it measures req/s and the gateway process's CPU
time per request (user + system, all its threads and its children: the log's writer process or thread
included, from /proc). Prints per
case the on/off req/s ratio per round and its median, and the off/on ratio of CPU per request (the
figure a busy machine disturbs least: it does not depend on how much CPU the neighbours leave).
Target: on/off >= 0.95. Then checks that nothing was lost: every request the logging gateway answered
(warm-ups included) is counted written by its /metrics, none dropped, and the rows are in its vault.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from gateway import CASES, prepare_vault, serve_simulator, start_gateway, wait_for
from load import Result, measure

from unigate.simulation.server import free_port

MODES = ("on", "off")


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of process ``pid`` (all its threads) and of its live children (the
    request log's writer process); NaN where /proc has no stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return float("nan")
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children)


def log_counters(port: int) -> dict[str, float]:
    """The logging gateway's request-log counters, from its /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = re.findall(r"^unigate_request_log_(written|dropped)_total (\S+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


def wait_written(port: int, expected: int, timeout: float = 30.0) -> dict[str, float]:
    """The counters once the writer has caught up with ``expected`` requests (or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        counters = log_counters(port)
        done = counters.get("written", 0) + counters.get("dropped", 0)
        if done >= expected or time.monotonic() > deadline:
            return counters
        time.sleep(0.1)


class Run:
    """Both gateways and what was sent to the logging one."""

    def __init__(self, ports: dict[str, int], pids: dict[str, int], headers: dict[str, dict[str, str]]) -> None:
        self.ports, self.pids, self.headers = ports, pids, headers
        self.sent_on = 0  # requests the logging gateway answered, warm-ups included

    def round(self, mode: str, path: str, clients: int, seconds: float) -> tuple[Result, float]:
        """One measurement of ``mode``: the load generator's result and the gateway's CPU µs per request."""
        url = f"http://127.0.0.1:{self.ports[mode]}{path}"
        warm = measure(url, self.headers[mode], concurrency=clients, seconds=0.5)
        before = cpu_seconds(self.pids[mode])
        result = measure(url, self.headers[mode], concurrency=clients, seconds=seconds)
        cpu = cpu_seconds(self.pids[mode]) - before
        assert warm.errors == 0 and result.errors == 0, f"{mode}: {warm.errors + result.errors} errors"
        if mode == "on":
            self.sent_on += warm.requests + result.requests
        return result, cpu / result.requests * 1e6


def compare(run: Run, case: str, path: str, clients: int, repeat: int, seconds: float) -> float:
    """Interleaved rounds of one case; prints them and returns the median on/off req/s ratio."""
    ratios, cpu_ratios = [], []
    rps: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    for n in range(repeat):
        measured = {}
        for mode in MODES if n % 2 == 0 else MODES[::-1]:  # alternate who goes first
            measured[mode] = run.round(mode, path, clients, seconds)
            rps[mode].append(measured[mode][0].rps)
            cpu[mode].append(measured[mode][1])
        ratios.append(measured["on"][0].rps / measured["off"][0].rps)
        cpu_ratios.append(measured["off"][1] / measured["on"][1])
    median, cpu_median = statistics.median(ratios), statistics.median(cpu_ratios)
    print(f"{case:<17} {clients:>2} clients: log on {statistics.median(rps['on']):6.0f} req/s "
          f"{statistics.median(cpu['on']):5.0f} µs CPU/req, off {statistics.median(rps['off']):6.0f} req/s "
          f"{statistics.median(cpu['off']):5.0f} µs CPU/req")
    print(f"{'':<29} req/s on/off per round {', '.join(f'{r:.3f}' for r in ratios)}; median {median:.3f}")
    print(f"{'':<29} CPU/req off/on per round {', '.join(f'{r:.3f}' for r in cpu_ratios)}; median {cpu_median:.3f}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--writer", choices=("process", "thread"), default="process",
                        help="UNIGATE_REQUEST_LOG_WRITER of the logging gateway (default: process, as served)")
    args = parser.parse_args()
    clients_list = [int(c) for c in args.clients.split(",")]
    ctx = mp.get_context("spawn")
    sim_port = free_port()
    sim = ctx.Process(target=serve_simulator, args=(sim_port, 260), daemon=True)
    sim.start()
    gateways = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wait_for(sim_port)
            ports, headers = {}, {}
            for mode in MODES:
                directory = Path(tmp) / mode
                directory.mkdir()
                env, headers[mode] = prepare_vault(directory, f"http://127.0.0.1:{sim_port}")
                env["UNIGATE_REQUEST_LOG"] = mode
                env["UNIGATE_REQUEST_LOG_WRITER"] = args.writer
                ports[mode] = free_port()
                gateways[mode], _ = start_gateway(env, ports[mode])
            run = Run(ports, {m: g.pid for m, g in gateways.items()}, headers)
            medians = [compare(run, case, path, clients, args.repeat, args.seconds)
                       for case, (_, path) in CASES.items() for clients in clients_list]
            counters = wait_written(ports["on"], run.sent_on)
            for gateway in gateways.values():
                gateway.terminate()
                gateway.wait(10)  # the logging gateway writes what is queued as it stops
            stored = {}
            for mode in MODES:
                db = sqlite3.connect(Path(tmp) / mode / "vault.db")
                stored[mode] = db.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
                db.close()
            worst = min(medians)
            print(f"logging gateway: {run.sent_on} requests answered, {counters.get('written', 0):.0f} written, "
                  f"{counters.get('dropped', 0):.0f} dropped; rows stored: on {stored['on']}, off {stored['off']} "
                  f"(retention keeps the newest 100,000)")
            print(f"worst median on/off ratio: {worst:.3f} (target >= 0.95: {'met' if worst >= 0.95 else 'MISSED'})")
        finally:
            for gateway in gateways.values():
                if gateway.poll() is None:
                    gateway.terminate()
            sim.terminate()


if __name__ == "__main__":
    main()

"""What does the request log cost? The same gateway with the log on and off, measured in one run.

    python bench/request_log.py [--seconds 3] [--repeat 5] [--clients 1,32]

Starts a simulated AgentsMesh (no injected latency) and two `unigate serve` processes in front of it,
each with its own vault: one with UNIGATE_REQUEST_LOG=on (the default), one with it off. A separate
load-generator process drives each, in interleaved rounds (a noisy neighbour hits both alike), for GET
one ticket and list 100 tickets. Prints req/s per round, the on/off ratio per round and its median,
and how many rows the logging gateway wrote (so the log was really on). Target: on/off >= 0.95.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gateway import CASES, prepare_vault, serve_simulator, start_gateway, wait_for
from load import measure

from unigate.simulation.server import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", default="1,32")
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
            for mode in ("on", "off"):
                directory = Path(tmp) / mode
                directory.mkdir()
                env, headers[mode] = prepare_vault(directory, f"http://127.0.0.1:{sim_port}")
                env["UNIGATE_REQUEST_LOG"] = mode
                ports[mode] = free_port()
                gateways[mode], _ = start_gateway(env, ports[mode])
            medians = []
            for case, (_, path) in CASES.items():
                for clients in clients_list:
                    ratios, rps = [], {"on": [], "off": []}
                    for _ in range(args.repeat):
                        round_rps = {}
                        for mode in ("on", "off") if len(ratios) % 2 == 0 else ("off", "on"):
                            url = f"http://127.0.0.1:{ports[mode]}{path}"
                            measure(url, headers[mode], concurrency=clients, seconds=0.5)  # warm up
                            result = measure(url, headers[mode], concurrency=clients, seconds=args.seconds)
                            assert result.errors == 0, f"{mode}: {result.errors} errors"
                            round_rps[mode] = result.rps
                            rps[mode].append(result.rps)
                        ratios.append(round_rps["on"] / round_rps["off"])
                    median = statistics.median(ratios)
                    medians.append(median)
                    print(f"{case:<17} {clients:>2} clients: log on {statistics.median(rps['on']):8.0f} req/s, "
                          f"off {statistics.median(rps['off']):8.0f} req/s; on/off per round "
                          f"{', '.join(f'{r:.3f}' for r in ratios)}; median {median:.3f}")
            for gateway in gateways.values():
                gateway.terminate()
                gateway.wait(10)  # the logging gateway writes what is queued as it stops
            db = sqlite3.connect(Path(tmp) / "on" / "vault.db")
            written = db.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
            db.close()
            db = sqlite3.connect(Path(tmp) / "off" / "vault.db")
            unlogged = db.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
            db.close()
            worst = min(medians)
            print(f"rows in the request log: on {written}, off {unlogged} (retention keeps the newest 100,000)")
            print(f"worst median on/off ratio: {worst:.3f} (target >= 0.95: {'met' if worst >= 0.95 else 'MISSED'})")
        finally:
            for gateway in gateways.values():
                if gateway.poll() is None:
                    gateway.terminate()
            sim.terminate()


if __name__ == "__main__":
    main()

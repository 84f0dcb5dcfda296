"""Where does the gateway spend its time? cProfile of `unigate serve`'s app under load.

    python bench/profile_gateway.py [--case list|one] [--clients 32] [--seconds 5] [--top 40]

Starts the simulated AgentsMesh in its own process, serves the gateway (real vault, real mapping,
production transport) in this process under cProfile, drives it from a load-generator process,
then prints the functions with the most own time. Used to find the hot spots listed in
docs/benchmarks.md; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gateway import CASES, prepare_vault, serve_simulator, wait_for
from load import measure

from unigate.simulation.server import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["one", "list"], default="list")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--callees", help="also print what functions matching this regex call")
    args = parser.parse_args()

    import uvicorn

    sim_port, gw_port = free_port(), free_port()
    simulator = mp.get_context("spawn").Process(target=serve_simulator, args=(sim_port, 300), daemon=True)
    simulator.start()
    wait_for(sim_port)
    with tempfile.TemporaryDirectory() as tmp:
        env, headers = prepare_vault(Path(tmp), f"http://127.0.0.1:{sim_port}")
        os.environ.update(env)
        from unigate.app import build_gateway, create_app
        from unigate.settings import Settings

        gateway = build_gateway(Settings.from_env(), env["UNIGATE_SECRET_KEY"])
        app = create_app(gateway)
        loops: list[asyncio.AbstractEventLoop] = []

        async def serving(scope, receive, send):  # noqa: ANN001, ANN202 - remembers the server's loop
            if not loops:
                loops.append(asyncio.get_running_loop())
            await app(scope, receive, send)

        server = uvicorn.Server(uvicorn.Config(serving, host="127.0.0.1", port=gw_port,
                                               log_level="warning", access_log=False))
        path = CASES["GET one ticket" if args.case == "one" else "list 100 tickets"][1]
        result: dict[str, object] = {}

        def drive() -> None:
            while not server.started:
                time.sleep(0.05)
            measure(f"http://127.0.0.1:{gw_port}{path}", headers, concurrency=args.clients, seconds=1.0)  # warm up
            # cProfile profiles the thread that enables it: enable it on the server's loop
            loops[0].call_soon_threadsafe(profiler.enable)
            result["load"] = measure(f"http://127.0.0.1:{gw_port}{path}", headers, concurrency=args.clients, seconds=args.seconds)
            loops[0].call_soon_threadsafe(profiler.disable)
            time.sleep(0.1)
            server.should_exit = True

        profiler = cProfile.Profile()
        threading.Thread(target=drive, daemon=True).start()
        server.run()
        load = result["load"]
        print(f"{args.case}, {args.clients} clients: {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, "  # type: ignore[attr-defined]
              f"p99 {load.p99_ms:.2f} ms (under the profiler)")  # type: ignore[attr-defined]
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.top)
        if args.callees:
            stats.print_callees(args.callees)
    simulator.terminate()


if __name__ == "__main__":
    main()

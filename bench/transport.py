"""Which downstream transport? A bare forwarder on each, under load from another process.

    python bench/transport.py [--seconds 3]

Starts a simulated tracker (AgentsMesh, no latency) and, in separate processes, a bare Starlette
forwarder that relays GET one ticket through httpx with (a) httpx's default transport and
(b) the aiohttp transport (httpx-aiohttp). Prints req/s, p50 and p99 at 1 and 32 concurrent
clients and the aiohttp/default ratio. Not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from load import measure

from unigate.simulation.server import free_port

PATH = "/api/v1/ext/orgs/acme/tickets/AM-7"


def serve_simulator(port: int) -> None:
    import uvicorn

    from unigate_connectors.agentsmesh.simulator import create_app

    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_forwarder(port: int, upstream: str, transport: str) -> None:
    import httpx
    import uvicorn
    from httpx_aiohttp import AiohttpTransport
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    client = httpx.AsyncClient(transport=AiohttpTransport(limits=limits) if transport == "aiohttp" else None, limits=limits)

    async def forward(request):  # noqa: ANN001, ANN202
        upstream_response = await client.get(upstream + request.url.path, headers={"x-api-key": DEFAULT_API_KEY})
        return Response(upstream_response.content, upstream_response.status_code, media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", forward)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def wait_for(port: int) -> None:
    import socket

    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    sim_port = free_port()
    processes = [ctx.Process(target=serve_simulator, args=(sim_port,), daemon=True)]
    ports = {}
    for transport in ("httpx", "aiohttp"):
        ports[transport] = free_port()
        args = (ports[transport], f"http://127.0.0.1:{sim_port}", transport)
        processes.append(ctx.Process(target=serve_forwarder, args=args, daemon=True))
    for p in processes:
        p.start()
    try:
        for port in [sim_port, *ports.values()]:
            wait_for(port)
        print(f"machine: {platform.machine()}, {mp.cpu_count()} cores, Python {platform.python_version()}")
        results = {}
        for concurrency in (1, 32):
            for transport, port in ports.items():
                measure(f"http://127.0.0.1:{port}{PATH}", concurrency=concurrency, seconds=0.5)  # warm up
                r = measure(f"http://127.0.0.1:{port}{PATH}", concurrency=concurrency, seconds=args.seconds)
                results[(transport, concurrency)] = r
                print(f"{transport:>8} transport, {concurrency:>2} clients: {r.rps:8.0f} req/s  p50 {r.p50_ms:6.1f} ms"
                      f"  p99 {r.p99_ms:6.1f} ms  errors {r.errors}")
            ratio = results[("aiohttp", concurrency)].rps / results[("httpx", concurrency)].rps
            print(f"   aiohttp/httpx at {concurrency} clients: {ratio:.2f}x")
    finally:
        for p in processes:
            p.terminate()


if __name__ == "__main__":
    main()

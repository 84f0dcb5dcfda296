"""The gateway's own CPU cost per request, without sockets: gateway vs bare forwarder, in process.

    python bench/overhead.py [--requests 2000] [--rounds 5]

Both ASGI apps are called directly (no server, no load generator) and call the downstream through
the same ``httpx.AsyncClient`` over an in-memory transport that answers the simulated AgentsMesh's
real bytes. What differs is only what the gateway does itself: auth and connection lookup,
parameter parsing, dispatch, mapping, envelope and JSON. Quick and repeatable where bench/gateway.py
is noisy: use it to iterate on hot spots, then confirm with bench/gateway.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from gateway import CASES, prepare_vault

UPSTREAM = "http://agentsmesh.bench.invalid"


def downstream_transport() -> httpx.MockTransport:
    """Answers each request with the bytes the simulator produced for it (computed once per URL)."""
    from starlette.testclient import TestClient

    from unigate_connectors.agentsmesh.simulator import create_app

    simulator = TestClient(create_app(ticket_count=300))
    cache: dict[str, tuple[int, bytes]] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        key = str(request.url.raw_path, "ascii")
        if key not in cache:
            r = simulator.get(key, headers=dict(request.headers))
            cache[key] = (r.status_code, r.content)
        status, body = cache[key]
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(answer)


def forwarder(client: httpx.AsyncClient) -> Any:
    from starlette.responses import Response

    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        query = scope["query_string"].decode()
        response = await client.get(UPSTREAM + scope["path"] + (f"?{query}" if query else ""),
                                    headers={"x-api-key": DEFAULT_API_KEY})
        await Response(response.content, response.status_code, media_type="application/json")(scope, receive, send)

    return app


async def per_request_us(app: Any, path: str, headers: dict[str, str], count: int) -> float:
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8080", **headers}.items()],
             "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000)}
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for _ in range(50):  # warm caches
        await app(dict(scope), receive, send)
    assert set(status) == {200}, status
    started = time.process_time()  # CPU time of this process: steadier than wall time on a shared machine
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.process_time() - started) / count * 1e6


async def main_async(count: int, rounds: int) -> None:
    from unigate.app import build_gateway, create_app
    from unigate.downstream.pool import CookielessClient
    from unigate.settings import Settings

    transport = downstream_transport()
    with tempfile.TemporaryDirectory() as tmp:
        env, headers = prepare_vault(Path(tmp), UPSTREAM)
        gateway = build_gateway(Settings(database=Path(env["UNIGATE_DATABASE"])), env["UNIGATE_SECRET_KEY"])
        # both call through the gateway's own client class (cookie-less), over the in-memory transport
        gateway.pool._clients["agentsmesh"] = CookielessClient(transport=transport)  # noqa: SLF001 - bench only
        app = create_app(gateway)
        bare = forwarder(CookielessClient(transport=transport))
        print(f"{'case':18} {'forwarder':>10} {'gateway':>10} {'gateway own work':>17}")
        for case, (direct_path, gateway_path) in CASES.items():
            f, g = float("inf"), float("inf")
            for _ in range(rounds):  # interleaved, best of each: the least disturbed measurement
                f = min(f, await per_request_us(bare, direct_path, {}, count))
                g = min(g, await per_request_us(app, gateway_path, headers, count))
            print(f"{case:18} {f:8.0f}us {g:8.0f}us {g - f:15.0f}us")
        gateway.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved measurements per app and case")
    args = parser.parse_args()
    asyncio.run(main_async(args.requests, args.rounds))


if __name__ == "__main__":
    main()

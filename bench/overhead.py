"""The gateway's own CPU cost per request, without sockets: gateway vs bare forwarder and the
hand-written floor, in process.

    python bench/overhead.py [--requests 2000] [--rounds 5]

Both ASGI apps are called directly (no server, no load generator) and call the downstream through
the same ``httpx.AsyncClient`` over an in-memory transport that answers the simulated AgentsMesh's
real bytes. What differs is only what the gateway does itself: auth and connection lookup,
parameter parsing, dispatch, mapping, envelope and JSON. Quick and repeatable where bench/gateway.py
is noisy: use it to iterate on hot spots, then confirm with bench/gateway.py.

The floor (bench/floor.py, issue 18 point 4) is the forwarder plus the same work done by hand in
Python: orjson decode, a hand-written dict mapping of the fields AgentsMesh's manifest maps, the
same envelope, orjson encode. Its answers are checked to carry the gateway's records and envelope
before timing. Target: gateway <= 1.3 x floor (CPU per request, both apps whole).
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
import orjson

sys.path.insert(0, str(Path(__file__).parent))

from floor import floor_app
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


def asgi_scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8080", **headers}.items()],
             "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000)}


async def answer_body(app: Any, path: str, headers: dict[str, str]) -> Any:
    """The decoded body ``app`` answers ``path`` with."""
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(asgi_scope(path, headers), receive, send)
    return orjson.loads(b"".join(chunks))


def same_work(gateway: Any, floor: Any) -> None:
    """The floor answers what the gateway answers: the same records, envelope keys and meta (the
    cursors differ: the gateway's are signed and scoped)."""
    assert floor["data"] == gateway["data"], "the floor maps the records differently from the gateway"
    assert list(floor) == list(gateway), (list(floor), list(gateway))
    if "meta" in gateway:
        assert floor["meta"]["items_on_page"] == gateway["meta"]["items_on_page"]
        assert floor["meta"]["total_count"] == gateway["meta"]["total_count"]


async def per_request_us(app: Any, path: str, headers: dict[str, str], count: int) -> float:
    scope = asgi_scope(path, headers)
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for _ in range(50):  # warm caches
        await app(dict(scope), receive, send)
        await asyncio.sleep(0)
    assert set(status) == {200}, status
    started = time.process_time()  # CPU time of this process: steadier than wall time on a shared machine
    for _ in range(count):
        await app(dict(scope), receive, send)
        # one turn of the event loop between requests, as a server gives it: the in-memory transport
        # never suspends, so what a request left to the loop (a cancelled task) would otherwise pile up
        await asyncio.sleep(0)
    return (time.process_time() - started) / count * 1e6


async def compare(apps: dict[str, tuple[Any, str, dict[str, str]]], case: str, count: int, rounds: int) -> None:
    """Interleaved rounds of one case for each app (best of each); prints CPU per request and ratios."""
    best = dict.fromkeys(apps, float("inf"))
    ratios = []
    for _ in range(rounds):  # interleaved, best of each: the least disturbed measurement
        measured = {name: await per_request_us(app, path, headers, count) for name, (app, path, headers) in apps.items()}
        best = {name: min(best[name], measured[name]) for name in apps}
        ratios.append(measured["gateway"] / measured["floor"])
    f, fl, g = best["forwarder"], best["floor"], best["gateway"]
    print(f"{case:18} {f:8.0f}us {fl:8.0f}us {g:8.0f}us {g - f:15.0f}us {g / fl:7.2f}x "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.30: {'met' if g / fl <= 1.3 else 'MISSED'})")


async def main_async(count: int, rounds: int, request_log: bool, settle: bool) -> None:
    from unigate import heap
    from unigate.app import build_gateway, create_app
    from unigate.downstream.pool import CookielessClient
    from unigate.settings import Settings
    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

    transport = downstream_transport()
    with tempfile.TemporaryDirectory() as tmp:
        env, headers = prepare_vault(Path(tmp), UPSTREAM)
        settings = Settings(database=Path(env["UNIGATE_DATABASE"]), request_log=request_log)
        gateway = build_gateway(settings, env["UNIGATE_SECRET_KEY"])
        # all call through the gateway's own client class (cookie-less), over the in-memory transport
        gateway.pool._clients["agentsmesh"] = CookielessClient(transport=transport)  # noqa: SLF001 - bench only
        app = create_app(gateway)
        bare = forwarder(CookielessClient(transport=transport))
        floor = floor_app(CookielessClient(transport=transport), UPSTREAM, {"x-api-key": DEFAULT_API_KEY})
        if settle:
            heap.settle()  # as `unigate serve` does once started (unigate.heap)
        print(f"request log {'on' if request_log else 'off'}, heap {'settled' if settle else 'not settled'}; "
              f"CPU per request, best of {rounds} interleaved rounds")
        print(f"{'case':18} {'forwarder':>10} {'floor':>10} {'gateway':>10} {'gateway own work':>17} {'gateway/floor':>8}")
        for case, (direct_path, gateway_path) in CASES.items():
            same_work(await answer_body(app, gateway_path, headers), await answer_body(floor, direct_path, {}))
            apps = {"forwarder": (bare, direct_path, {}), "floor": (floor, direct_path, {}),
                    "gateway": (app, gateway_path, headers)}
            await compare(apps, case, count, rounds)
        gateway.request_log.close()
        gateway.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved measurements per app and case")
    parser.add_argument("--request-log", choices=["on", "off"], default="on",
                        help="the gateway's request log (on: as `unigate serve` runs by default)")
    parser.add_argument("--no-settle", action="store_true",
                        help="leave start-up's objects in garbage collection (`unigate serve` freezes them: unigate.heap)")
    args = parser.parse_args()
    asyncio.run(main_async(args.requests, args.rounds, args.request_log == "on", not args.no_settle))


if __name__ == "__main__":
    main()

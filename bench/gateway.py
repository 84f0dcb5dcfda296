"""Is the gateway nearly free in the path? Direct vs bare forwarder vs gateway, on loopback.

    python bench/gateway.py [--seconds 3] [--repeat 3] [--paging 10000] [--case one|list] [--no-paging]

Starts, each in its own process: a simulated AgentsMesh with no injected latency; a bare
pass-through forwarder on the gateway's HTTP stack (Starlette + uvicorn + httpx over aiohttp) that
does no mapping; and the gateway with production settings (real SQLite vault, real mapping). A
separate load-generator process drives each. Prints req/s, p50 and p99 for GET one ticket and list
100 tickets at 1 and 32 clients, the ratios against the targets, the cursor paging scaling and
RSS growth, and how fast `unigate serve` answers /health. Bounded in time; not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from load import Result, measure

from unigate.simulation.server import free_port

ORG_PATH = "/api/v1/ext/orgs/acme"
CASES = {
    "GET one ticket": (f"{ORG_PATH}/tickets/AM-7", "/issue-tracking/collections/1/tickets/AM-7"),
    "list 100 tickets": (f"{ORG_PATH}/tickets?repository_id=1&offset=0&limit=100",
                         "/issue-tracking/collections/1/tickets?limit=100"),
}


def serve_simulator(port: int, tickets: int) -> None:
    import uvicorn

    from unigate_connectors.agentsmesh.simulator import create_app

    app = create_app(ticket_count=tickets)
    app.record = False  # recording every request would grow memory during the benchmark
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_forwarder(port: int, upstream: str) -> None:
    """The baseline: a bare ASGI app on the gateway's stack (uvicorn; httpx over aiohttp) that relays
    the request line as it came and the response bytes as they come back: no routing framework, no
    parsing, no mapping. The gateway is measured against the least an HTTP hop on this stack costs."""
    import uvicorn
    from starlette.responses import Response

    from unigate.downstream.pool import ClientPool
    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

    client = ClientPool().client("agentsmesh")  # the gateway's own downstream client, as `unigate serve` makes it
    headers = {"x-api-key": DEFAULT_API_KEY}

    async def forward(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return
        query = scope["query_string"].decode("latin-1")
        response = await client.get(upstream + scope["path"] + (f"?{query}" if query else ""), headers=headers)
        await Response(response.content, response.status_code, media_type="application/json")(scope, receive, send)

    uvicorn.run(forward, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off",
                proxy_headers=False)  # as `unigate serve` runs


def prepare_vault(directory: Path, upstream: str, database: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """A vault (``database``, else a SQLite file in ``directory``) with one app, consumer and AgentsMesh
    connection; returns (env, request headers)."""
    from unigate.app import open_store
    from unigate.settings import Settings
    from unigate.vault.crypto import generate_secret_key
    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

    key = generate_secret_key()
    env = {"UNIGATE_SECRET_KEY": key, "UNIGATE_DATABASE": database or str(directory / "vault.db"),
           "UNIGATE_LOG_LEVEL": "warning"}
    store = open_store(Settings.from_env(env), key)
    _, api_key = store.create_app("bench", app_id="bench")
    store.create_consumer("bench", "c")
    store.create_connection("bench", "c", "agentsmesh", settings={"base_url": upstream, "organization": "acme"},
                            credentials={"api_key": DEFAULT_API_KEY})
    store.close()
    return env, {"authorization": f"Bearer {api_key}", "x-apideck-app-id": "bench", "x-apideck-consumer-id": "c"}


def start_gateway(env: dict[str, str], port: int, timeout: float = 30.0) -> tuple[subprocess.Popen, float]:
    """`unigate serve` as an operator runs it; returns the process and seconds until /health answered
    (stopped, and RuntimeError, if it did not within ``timeout``)."""
    import httpx

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "unigate.cli", "serve", "--port", str(port)],
                               env={**os.environ, **env})
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.2).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.perf_counter() - started > timeout:
            process.terminate()
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)


def wait_for(port: int) -> None:
    import httpx

    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {port}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def page_through(base: str, headers: dict[str, str], count: int) -> float:
    import httpx

    started, seen, cursor = time.perf_counter(), 0, None
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while seen < count:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            body = client.get("/issue-tracking/collections/1/tickets", params=params).json()
            seen += len(body["data"])
            cursor = body["meta"]["cursors"]["next"]
            if cursor is None:
                break
    if seen < count:
        raise RuntimeError(f"paging ended after {seen} tickets")
    return time.perf_counter() - started


def median_result(runs: list[Result]) -> Result:
    """Each figure's median over the rounds."""
    return Result(requests=int(statistics.median(r.requests for r in runs)), errors=sum(r.errors for r in runs),
                  seconds=statistics.median(r.seconds for r in runs), p50_ms=statistics.median(r.p50_ms for r in runs),
                  p99_ms=statistics.median(r.p99_ms for r in runs))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="load duration per measurement")
    parser.add_argument("--paging", type=int, default=10_000, help="tickets in the first paging run (twice as many in the second)")
    parser.add_argument("--case", choices=["one", "list"], action="append",
                        help="only this case (repeatable); default: both")
    parser.add_argument("--no-paging", action="store_true", help="skip the paging and RSS runs")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds per measurement (medians reported)")
    args = parser.parse_args()
    cases = {name: CASES[name] for name, key in (("GET one ticket", "one"), ("list 100 tickets", "list"))
             if not args.case or key in args.case}
    ctx = mp.get_context("spawn")
    ports = {"direct": free_port(), "forwarder": free_port(), "gateway": free_port(), "paging_sim": free_port()}
    children = [
        ctx.Process(target=serve_simulator, args=(ports["direct"], 260), daemon=True),
        ctx.Process(target=serve_forwarder, args=(ports["forwarder"], f"http://127.0.0.1:{ports['direct']}"), daemon=True),
        ctx.Process(target=serve_simulator, args=(ports["paging_sim"], 2 * args.paging), daemon=True),
    ]
    for child in children:
        child.start()
    gateway = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name in ("direct", "forwarder", "paging_sim"):  # all up and idle before timing start-up
                wait_for(ports[name])
            env, headers = prepare_vault(Path(tmp), f"http://127.0.0.1:{ports['direct']}")
            gateway, health_seconds = start_gateway(env, ports["gateway"])
            print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
            print(f"`unigate serve` answered /health after {health_seconds:.2f}s  "
                  f"(target <= 1.5 s: {verdict(health_seconds <= 1.5)})\n")
            from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY

            target_headers = {"direct": {"x-api-key": DEFAULT_API_KEY}, "forwarder": {}, "gateway": headers}
            results: dict[tuple[str, str, int], Result] = {}
            for case, (downstream_path, unified_path) in cases.items():
                for clients in (1, 32):
                    rounds: dict[str, list[Result]] = {"direct": [], "forwarder": [], "gateway": []}
                    for _ in range(args.repeat):  # interleaved rounds: a noisy neighbour hits all three
                        for target in ("direct", "forwarder", "gateway"):
                            path = unified_path if target == "gateway" else downstream_path
                            url = f"http://127.0.0.1:{ports[target]}{path}"
                            hdrs = target_headers[target]
                            measure(url, hdrs, concurrency=clients, seconds=0.5)  # warm up
                            rounds[target].append(measure(url, hdrs, concurrency=clients, seconds=args.seconds))
                    for target, runs in rounds.items():
                        r = median_result(runs)
                        results[(case, target, clients)] = r
                        print(f"{case:<17} {clients:>2} clients {target:>9}: {r.rps:8.0f} req/s  p50 {r.p50_ms:7.2f} ms"
                              f"  p99 {r.p99_ms:7.2f} ms  errors {r.errors}  (median of {len(runs)})")
                    ratios = sorted(g.rps / f.rps for g, f in zip(rounds["gateway"], rounds["forwarder"], strict=True))
                    results[(case, "ratio", clients)] = ratios  # type: ignore[assignment]
                direct1, gw1 = results[(case, "direct", 1)], results[(case, "gateway", 1)]
                fwd1 = results[(case, "forwarder", 1)]
                gw32 = results[(case, "gateway", 32)]
                ratio32 = statistics.median(results[(case, "ratio", 32)])  # type: ignore[arg-type]
                print(f"  -> p50 at 1 client: gateway {gw1.p50_ms:.2f} ms vs direct {direct1.p50_ms:.2f} ms "
                      f"(+{gw1.p50_ms - direct1.p50_ms:.2f} ms; target <= +1 ms: {verdict(gw1.p50_ms <= direct1.p50_ms + 1)});"
                      f" the bare forwarder: +{fwd1.p50_ms - direct1.p50_ms:.2f} ms")
                print(f"  -> req/s at 32 clients: gateway/forwarder {ratio32:.2f} (per round: "
                      f"{', '.join(f'{x:.2f}' for x in results[(case, 'ratio', 32)])}; "  # type: ignore[union-attr]
                      f"target >= 0.80: {verdict(ratio32 >= 0.8)})")
                print(f"  -> p99/p50 at 32 clients: {gw32.p99_ms / gw32.p50_ms:.2f} (target <= 3: "
                      f"{verdict(gw32.p99_ms <= 3 * gw32.p50_ms)})\n")
            gateway.terminate()
            gateway.wait(10)
            if args.no_paging:
                return
            paging_env, paging_headers = prepare_vault(Path(tmp) / "paging", f"http://127.0.0.1:{ports['paging_sim']}")
            wait_for(ports["paging_sim"])
            gateway, _ = start_gateway(paging_env, ports["gateway"])
            base = f"http://127.0.0.1:{ports['gateway']}"
            rss_before = rss_mb(gateway.pid)
            first = page_through(base, paging_headers, args.paging)
            second = page_through(base, paging_headers, 2 * args.paging)
            growth = rss_mb(gateway.pid) - rss_before
            print(f"paging {args.paging:,} tickets: {first:.2f}s; {2 * args.paging:,}: {second:.2f}s; ratio "
                  f"{second / first:.2f} (target <= 2.2: {verdict(second <= 2.2 * first)})")
            print(f"gateway RSS growth over the paging runs: {growth:+.1f} MB (target < 20 MB: {verdict(growth < 20)})")
        finally:
            if gateway is not None:
                gateway.terminate()
            for child in children:
                child.terminate()


if __name__ == "__main__":
    main()

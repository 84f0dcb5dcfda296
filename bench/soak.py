"""Soak: minutes of mixed reads and writes through `unigate serve`, with faults, across tenants.

    python bench/soak.py [--seconds 120] [--clients 24] [--hang-clients 32]

Starts three simulated AgentsMesh trackers in this process and the gateway (`unigate serve`, a
real SQLite vault, production transport) in its own process, with seven tenants (consumers) of
one app, all on the same service and so sharing the gateway's one downstream client:

- four tenants on a *faulty* tracker that cycles through injected faults every second: latency,
  429 with Retry-After, 500, malformed JSON, dropped connections, a slow drip, a redirect to a
  login page, and healthy spells;
- one tenant on a *hanging* tracker (every call waits 30 s; the connection's timeout is 10 s);
- two tenants on a *healthy* tracker.

``--clients`` workers send, for random tenants other than the hanging one, 60 % lists, 20 % reads
of one ticket, 15 % creates (each with a unique subject), 5 % updates; ``--hang-clients`` more
workers hammer the hanging tenant, more than its connection's share of concurrent calls (16).
Prints requests, typed errors by type, untyped errors (anything not in Apideck's
error schema, and any 500: target 0), duplicated writes (a subject created more than once: target
0), the gateway's RSS and open file descriptors after warm-up and at the end (target: flat), and
the p50/p99 of the healthy tenants while the other tenant's tracker hangs. Exits 1 when a target
is missed. Bounded in time; traffic stays on loopback. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from unigate.app import open_store
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.simulation.server import free_port
from unigate.vault.crypto import generate_secret_key
from unigate_connectors.agentsmesh import simulator as agentsmesh

TICKETS = "/issue-tracking/collections/1/tickets"
TRACKER_TICKETS = f"/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets"
FAULTS: list[dict[str, Any]] = [
    {}, {}, {"latency_ms": 300}, {"status": 429, "retry_after": 1}, {"status": 500}, {"malformed_json": True},
    {"drop_connection": True}, {"drip_ms": 100}, {"status": 302, "location": "/login"}, {"status": 503},
]
APIDECK_TYPES = {"RequestValidationError", "UnauthorizedError", "ConnectorExecutionError", "ConnectorCredentialsError",
                 "ConnectorRateLimitError", "ConnectionNotFoundError", "EntityNotFoundError", "ConflictError",
                 "ConnectorOperationUnsupportedError", "InvalidCursorError", "ConnectorDisabledError",
                 "ConnectionSettingsError", "UnsupportedFiltersError", "UnsupportedSortFieldError"}


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.ok = 0
        self.typed: collections.Counter[str] = collections.Counter()
        self.untyped: list[str] = []
        self.client_timeouts = 0
        self.healthy_latencies: list[float] = []
        self.created_subjects: list[str] = []

    def note(self, response: httpx.Response) -> None:
        self.requests += 1
        if response.status_code < 400:
            self.ok += 1
            return
        try:
            body = response.json()
            type_name = body.get("type_name")
        except ValueError:
            body, type_name = None, None
        if (response.status_code >= 500 and response.status_code not in (501, 502, 504)) or type_name not in APIDECK_TYPES \
                or body.get("status_code") != response.status_code:
            self.untyped.append(f"{response.status_code} {response.text[:200]}")
        else:
            self.typed[f"{response.status_code} {type_name}"] += 1


def start_trackers() -> dict[str, BackgroundServer]:
    trackers = {}
    for name in ("faulty", "hanging", "healthy"):
        app = agentsmesh.create_app()
        app.record = False  # the request log would grow for the whole run
        trackers[name] = BackgroundServer(app).start()
    httpx.put(f"{trackers['hanging'].url}/__sim/faults", json={"latency_ms": 30_000}).raise_for_status()
    return trackers


def prepare_vault(database: Path, key: str, trackers: dict[str, BackgroundServer]) -> tuple[str, dict[str, str]]:
    """An app and seven consumers; returns the API key and consumer -> tracker role."""
    store = open_store(Settings(database=database), key)
    _, api_key = store.create_app("Soak", app_id="soak")
    roles = {f"faulty-{n}": "faulty" for n in range(4)} | {"hanging-0": "hanging"} | \
            {f"healthy-{n}": "healthy" for n in range(2)}
    for consumer, role in roles.items():
        store.create_consumer("soak", consumer)
        store.create_connection("soak", consumer, "agentsmesh", credentials={"api_key": agentsmesh.DEFAULT_API_KEY},
                                settings={"base_url": trackers[role].url, "organization": agentsmesh.DEFAULT_ORG,
                                          "timeout": 10 if role == "hanging" else 2})
    store.close()
    return api_key, roles


def start_gateway(database: Path, key: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": key, "UNIGATE_LOG_LEVEL": "error"}
    unigate = Path(sys.executable).with_name("unigate")
    gateway = subprocess.Popen([str(unigate), "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            time.sleep(0.1)
    gateway.kill()
    raise SystemExit("the gateway did not start")


def process_figures(pid: int) -> tuple[float, int]:
    """(RSS in MB, open file descriptors) of a process."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


async def cycle_faults(url: str, until: float) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < until:
            plan = random.choice(FAULTS)
            if plan:
                await client.put(f"{url}/__sim/faults", json=plan)
            else:
                await client.delete(f"{url}/__sim/faults")
            await asyncio.sleep(1.0)
        await client.delete(f"{url}/__sim/faults")


async def worker(client: httpx.AsyncClient, tenants: list[str], roles: dict[str, str], tally: Tally,
                 until: float) -> None:
    rng = random.Random()
    while time.monotonic() < until:
        consumer = rng.choice(tenants)
        headers = {"x-apideck-consumer-id": consumer}
        roll = rng.random()
        started = time.perf_counter()
        try:
            if roll < 0.60:
                response = await client.get(TICKETS, params={"limit": 20}, headers=headers)
            elif roll < 0.80:
                response = await client.get(f"{TICKETS}/AM-{rng.randint(1, 200)}", headers=headers)
            elif roll < 0.95:
                subject = f"soak-{uuid.uuid4().hex}"
                response = await client.post(TICKETS, json={"subject": subject}, headers=headers)
                if roles[consumer] != "hanging":
                    tally.created_subjects.append(subject)
            else:
                response = await client.patch(f"{TICKETS}/AM-{rng.randint(1, 200)}", json={"priority": "high"},
                                              headers=headers)
        except httpx.TimeoutException:
            tally.client_timeouts += 1
            continue
        if roles[consumer] == "healthy":
            tally.healthy_latencies.append(time.perf_counter() - started)
        tally.note(response)


def duplicated_writes(trackers: dict[str, BackgroundServer], subjects: list[str]) -> int:
    """Subjects found on more than one ticket across the trackers (a retried write)."""
    counts: collections.Counter[str] = collections.Counter()
    headers = {"x-api-key": agentsmesh.DEFAULT_API_KEY}
    for name in ("faulty", "healthy"):
        offset = 0
        while True:
            page = httpx.get(f"{trackers[name].url}{TRACKER_TICKETS}",
                             params={"repository_id": 1, "offset": offset, "limit": 100}, headers=headers).json()
            counts.update(t["title"] for t in page["tickets"] if t["title"].startswith("soak-"))
            offset += 100
            if offset >= page["total"]:
                break
    return sum(1 for subject, count in counts.items() if count > 1)


async def soak(base_url: str, api_key: str, roles: dict[str, str], trackers: dict[str, BackgroundServer],
               seconds: float, clients: int, hang_clients: int, gateway_pid: int) -> int:
    headers = {"authorization": f"Bearer {api_key}", "x-apideck-app-id": "soak"}
    limits = httpx.Limits(max_connections=(clients + hang_clients) * 2)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, limits=limits) as client:
        warm = Tally()
        await asyncio.gather(*(worker(client, [c for c in roles if roles[c] != "hanging"], roles, warm,
                                      time.monotonic() + 3) for _ in range(4)))
        rss0, fds0 = process_figures(gateway_pid)
        until = time.monotonic() + seconds
        tally = Tally()
        others = [c for c in roles if roles[c] != "hanging"]
        await asyncio.gather(cycle_faults(trackers["faulty"].url, until),
                             *(worker(client, ["hanging-0"], roles, tally, until) for _ in range(hang_clients)),
                             *(worker(client, others, roles, tally, until) for _ in range(clients)))
    await asyncio.sleep(1)
    rss1, fds1 = process_figures(gateway_pid)
    duplicates = duplicated_writes(trackers, tally.created_subjects)
    healthy = sorted(tally.healthy_latencies)
    p50 = statistics.median(healthy) * 1000 if healthy else float("nan")
    p99 = healthy[int(len(healthy) * 0.99) - 1] * 1000 if healthy else float("nan")
    print(f"requests {tally.requests} in {seconds:.0f} s at {clients}+{hang_clients} clients ({tally.requests / seconds:.0f}/s); "
          f"ok {tally.ok}; client-side timeouts {tally.client_timeouts}")
    print("typed errors: " + ", ".join(f"{k} x{v}" for k, v in tally.typed.most_common()))
    print(f"untyped errors: {len(tally.untyped)} (target 0)")
    for line in tally.untyped[:10]:
        print(f"  - {line}")
    print(f"duplicated writes: {duplicates} of {len(tally.created_subjects)} creates (target 0)")
    print(f"gateway RSS {rss0:.1f} -> {rss1:.1f} MB ({rss1 - rss0:+.1f}); open fds {fds0} -> {fds1} ({fds1 - fds0:+d})")
    print(f"healthy tenants while another tenant's tracker hangs: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"over {len(healthy)} requests")
    missed = bool(tally.untyped) or duplicates > 0 or rss1 - rss0 > 50 or fds1 - fds0 > 50
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--hang-clients", type=int, default=32)
    args = parser.parse_args()
    trackers = start_trackers()
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # the simulators' injected drops
    with tempfile.TemporaryDirectory() as tmp:
        key, port = generate_secret_key(), free_port()
        api_key, roles = prepare_vault(Path(tmp) / "vault.db", key, trackers)
        gateway = start_gateway(Path(tmp) / "vault.db", key, port)
        try:
            return asyncio.run(soak(f"http://127.0.0.1:{port}", api_key, roles, trackers, args.seconds,
                                    args.clients, args.hang_clients, gateway.pid))
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            for tracker in trackers.values():
                tracker.stop()


if __name__ == "__main__":
    sys.exit(main())

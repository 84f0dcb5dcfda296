"""Log lines of `unigate serve`, read from its stderr: every line logged while a request is served
carries that request's id (the gateway's own, the downstream client's, httpx's, uvicorn's), no line
holds a credential, and UNIGATE_LOG_FORMAT=json writes one parseable object per line."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from unigate.simulation.server import free_port
from unigate.testing import Simulator
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore
from unigate_connectors.agentsmesh import simulator as agentsmesh

KEY = agentsmesh.DEFAULT_API_KEY
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    api_key: str
    startup: list[str] = field(default_factory=list)  # the lines written until /health first answered

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}", "x-apideck-app-id": "app",
                "x-apideck-consumer-id": "consumer"}

    def drain(self, quiet: float = 0.3) -> list[str]:
        """Lines written until none came for ``quiet`` seconds."""
        out = []
        while True:
            try:
                out.append(self.lines.get(timeout=quiet))
            except queue.Empty:
                return out

    def lines_of(self, request_id: str, marker: str) -> list[str]:
        """The lines written from now until one containing ``request_id`` and ``marker`` (and a quiet moment)."""
        out: list[str] = []
        deadline = time.monotonic() + 10
        while not any(request_id in line and marker in line for line in out):
            assert time.monotonic() < deadline, f"no line with {marker!r} for {request_id}: {out}"
            with contextlib.suppress(queue.Empty):
                out.append(self.lines.get(timeout=0.2))
        return out + self.drain()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    s = Simulator.start(agentsmesh.create_app())
    yield s
    s.stop()


def serve(tmp: Path, sim: Simulator, log_format: str) -> Iterator[Served]:
    key = generate_secret_key()
    store = ConnectionStore(tmp / "vault.db", SecretBox(key))
    _, api_key = store.create_app("App", app_id="app")
    store.create_consumer("app", "consumer")
    store.create_connection("app", "consumer", "agentsmesh",
                            settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                            credentials={"api_key": KEY})
    store.close()
    port = free_port()
    env = {**os.environ, "UNIGATE_DATABASE": str(tmp / "vault.db"), "UNIGATE_SECRET_KEY": key,
           "UNIGATE_LOG_FORMAT": log_format, "UNIGATE_LOG_LEVEL": "debug"}
    process = subprocess.Popen([sys.executable, "-m", "unigate.cli", "serve", "--port", str(port)], env=env,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    served = Served(f"http://127.0.0.1:{port}", process, lines, api_key)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{served.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, served.drain()
            time.sleep(0.1)
        served.startup = served.drain()  # kept for the test that reads them, whichever test runs first
        yield served
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("jsonlog"), sim, "json")


def request_lines(served: Served, path: str) -> tuple[str, list[str]]:
    served.drain()  # what came before this request
    response = httpx.get(f"{served.url}{path}", headers=served.headers(), timeout=30)
    request_id = response.headers["request-id"]
    return request_id, served.lines_of(request_id, "unigate.access")


def test_every_json_line_of_a_request_carries_its_id_and_no_secret(json_server: Served) -> None:
    startup = [orjson.loads(line) for line in json_server.startup]
    uvicorn = [e for e in startup if e["logger"].startswith("uvicorn")]  # uvicorn's lines go through ours too
    assert uvicorn and {e["request_id"] for e in uvicorn} == {"-"}, startup  # outside any request
    request_lines(json_server, f"{TICKETS}/AM-7")  # warm: first-use lines (imports, connections) are not asserted

    # the tracker's credential as the ticket id: it is in the downstream URL of every line about the call
    request_id, lines = request_lines(json_server, f"{TICKETS}/{KEY}")
    entries = [orjson.loads(line) for line in lines]
    assert {e["request_id"] for e in entries} == {request_id}, lines
    loggers = {e["logger"] for e in entries}
    assert {"unigate.access", "unigate.downstream", "httpx"} <= loggers, loggers
    assert all(set(e) >= {"time", "level", "logger", "request_id", "message"} for e in entries)
    assert not [line for line in lines if KEY in line]
    downstream = [e["message"] for e in entries if e["logger"] == "unigate.downstream"]
    assert downstream and all("[REDACTED]" in m for m in downstream), downstream


def test_concurrent_requests_keep_their_own_ids(json_server: Served) -> None:
    json_server.drain()
    with httpx.Client(base_url=json_server.url, headers=json_server.headers(), timeout=30) as client:
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda n: client.get(f"{TICKETS}/AM-{n}").headers["request-id"], range(1, 9)))
    entries = [orjson.loads(line) for line in json_server.drain(0.5)]
    by_id: dict[str, list[str]] = {}
    for e in entries:
        by_id.setdefault(e["request_id"], []).append(e["message"])
    assert set(ids) <= set(by_id)
    for request_id in ids:  # each request's downstream line names its own ticket
        access = [m for m in by_id[request_id] if m.startswith(request_id)]
        path = access[0].split()[2]
        ticket = path.rsplit("/", 1)[1]
        assert [m for m in by_id[request_id] if m.startswith("downstream ") and m.split()[3].endswith(f"/{ticket}")]


def test_text_format_puts_the_id_in_brackets(tmp_path: Path, sim: Simulator) -> None:
    for served in serve(tmp_path, sim, "text"):
        served.drain()
        request_id, lines = request_lines(served, f"{TICKETS}/AM-7")
        assert lines and all(f"[{request_id}]" in line for line in lines), lines
        assert any(" unigate.downstream " in line for line in lines)


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "UNIGATE_DATABASE": str(tmp_path / "vault.db"), "UNIGATE_SECRET_KEY": generate_secret_key(),
           "UNIGATE_LOG_FORMAT": "xml"}
    result = subprocess.run([sys.executable, "-m", "unigate.cli", "serve", "--port", "1"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "UNIGATE_LOG_FORMAT must be text or json, not 'xml'" in result.stderr

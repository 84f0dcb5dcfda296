"""`unigate sandbox`: simulated trackers always, real trackers when their servers run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from unigate.app import create_app
from unigate.sandbox import APP_ID, CONSUMER_ID, Sandbox, prepare_sandbox
from unigate.simulation import BackgroundServer
from unigate.simulation.server import free_port


@pytest.fixture
def trackers_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty trackers dir, and no tracker variables from the environment of whoever runs the tests."""
    directory = tmp_path / "trackers"
    directory.mkdir()
    monkeypatch.setenv("UNIGATE_TRACKERS_DIR", str(directory))
    for prefix in ("REDMINE_", "ROUNDUP_"):
        for name in [n for n in os.environ if n.startswith(prefix)]:
            monkeypatch.delenv(name)
    return directory


@contextmanager
def prepared(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = prepare_sandbox(port=free_port(), data_dir=tmp_path / "sandbox")
    try:
        yield sandbox
    finally:
        sandbox.stop()
        sandbox.gateway.store.close()


def services(sandbox: Sandbox) -> set[str]:
    return {c.service_id for c in sandbox.gateway.store.connections_of(APP_ID, CONSUMER_ID)}


def test_sandbox_connects_the_demo_consumer_to_every_simulated_tracker(tmp_path: Path, trackers_dir: Path) -> None:
    with prepared(tmp_path) as sandbox:
        assert {"agentsmesh", "codimir", "github", "gitlab", "jira", "jira-api-token", "linear", "opine",
                "selectel"} <= services(sandbox)
        server = BackgroundServer(create_app(sandbox.gateway)).start()
        try:
            headers = {"authorization": f"Bearer {sandbox.api_key}", "x-apideck-app-id": APP_ID,
                       "x-apideck-consumer-id": CONSUMER_ID, "x-apideck-service-id": "codimir"}
            response = httpx.get(f"{server.url}/issue-tracking/collections", headers=headers)
            body = response.json()
            assert (response.status_code, body["service"]) == (200, "codimir")
            assert {"project_456", "project_457", "project_458"} <= {c["id"] for c in body["data"]}
        finally:
            server.stop()


def test_sandbox_says_how_to_start_a_real_tracker_that_is_not_running(tmp_path: Path, trackers_dir: Path) -> None:
    with prepared(tmp_path) as sandbox:
        assert "redmine" not in services(sandbox)
        assert any("connectors/redmine/tracker/start.sh" in line for line in sandbox.lines)


def test_sandbox_connects_a_real_tracker_whose_server_is_running(tmp_path: Path, trackers_dir: Path) -> None:
    server = BackgroundServer(Starlette()).start()  # anything that accepts connections where the env file says
    try:
        (trackers_dir / "redmine.env").write_text(f"REDMINE_BASE_URL={server.url}\nREDMINE_API_KEY=k\nREDMINE_PROJECT=demo\n")
        with prepared(tmp_path) as sandbox:
            assert "redmine" in services(sandbox)
            assert any(f"real server at {server.url}" in line and "/collections/demo/tickets" in line
                       for line in sandbox.lines)
    finally:
        server.stop()

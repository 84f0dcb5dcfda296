"""`unigate sandbox` start-up: the port is bound before anything is printed, --port / UNIGATE_PORT /
`make sandbox PORT=`, a stable demo API key per data directory, printed curls that work as pasted."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.plugins.registry import ConnectorRegistry
from unigate.sandbox import prepare_sandbox
from unigate.simulation.server import free_port
from unigate.testing.cli import running_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def no_trackers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "trackers"
    directory.mkdir()
    monkeypatch.setenv("UNIGATE_TRACKERS_DIR", str(directory))
    for name in [n for n in os.environ if n.startswith(("REDMINE_", "ROUNDUP_"))]:
        monkeypatch.delenv(name)
    return directory


def test_port_in_use_fails_with_a_sentence_before_printing_the_key_or_curls(tmp_path: Path, taken_port: int) -> None:
    data_dir = tmp_path / "sandbox"
    result = CliRunner().invoke(main, ["sandbox", "--port", str(taken_port), "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert f"cannot serve the sandbox on 127.0.0.1:{taken_port}" in result.output
    assert "choose another with --port PORT or UNIGATE_PORT=PORT (make sandbox PORT=PORT)" in result.output
    assert "api key" not in result.output and "curl" not in result.output
    assert not data_dir.exists()  # nothing was prepared either


def test_unigate_port_environment_variable_chooses_the_port(tmp_path: Path, taken_port: int) -> None:
    result = CliRunner().invoke(main, ["sandbox", "--data-dir", str(tmp_path / "sandbox")],
                                env={"UNIGATE_PORT": str(taken_port)})
    assert result.exit_code == 1
    assert f"127.0.0.1:{taken_port}" in result.output


def test_make_sandbox_passes_port_to_the_command() -> None:
    dry_run = subprocess.run(["make", "-n", "sandbox", "PORT=9123"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert ".venv/bin/unigate sandbox --port 9123" in dry_run.splitlines()


def test_demo_api_key_is_the_same_across_restarts_with_one_data_dir(tmp_path: Path, no_trackers: Path) -> None:
    keys = []
    for _ in range(2):
        sandbox = prepare_sandbox(port=free_port(), data_dir=tmp_path / "sandbox")
        try:
            keys.append(sandbox.api_key)
            assert sandbox.gateway.store.authenticate("sandbox-app", sandbox.api_key) is not None
        finally:
            sandbox.stop()
            sandbox.gateway.store.close()
    assert keys[0] == keys[1]
    assert (tmp_path / "sandbox" / "demo-api-key").stat().st_mode & 0o777 == 0o600


def test_another_data_dir_has_another_demo_api_key(tmp_path: Path, no_trackers: Path) -> None:
    keys = []
    for name in ("one", "two"):
        sandbox = prepare_sandbox(port=free_port(), data_dir=tmp_path / name)
        keys.append(sandbox.api_key)
        sandbox.stop()
        sandbox.gateway.store.close()
    assert keys[0] != keys[1]


@pytest.fixture
def running_sandbox(tmp_path: Path, no_trackers: Path) -> Iterator[tuple[str, list[str]]]:
    """`unigate sandbox --port P` as a subprocess: (its printed output up to 'Press Ctrl+C', P)."""
    port = free_port()
    with running_cli("sandbox", "--port", str(port), "--data-dir", str(tmp_path / "sandbox")) as output:
        yield output, [str(port)]


def test_every_curl_the_sandbox_prints_answers_when_pasted(running_sandbox: tuple[str, list[str]]) -> None:
    output, (port,) = running_sandbox
    assert f"unigate sandbox on http://127.0.0.1:{port}" in output
    curls = [line for line in output.splitlines() if line.startswith("curl ")]
    simulated = [d for d in ConnectorRegistry.load().definitions.values() if d.sandbox is not None]
    assert len(curls) == len(simulated) + 1  # one per simulated tracker, and one filtered and sorted list
    assert sum("filter[status]=closed&sort[by]=created_at" in curl for curl in curls) == 1
    for curl in curls:
        assert curl.startswith("curl -sg ")
        answer = subprocess.run(["bash", "-c", curl + " -w '\\n%{http_code}'"], capture_output=True, text=True,
                                timeout=30)
        body, _, status = answer.stdout.rpartition("\n")
        assert status == "200", (curl, answer.stdout, answer.stderr)
        assert orjson.loads(body)["data"], curl


def test_the_printed_connect_page_opens_on_the_demo_consumers_trackers(running_sandbox: tuple[str, list[str]]) -> None:
    output, (port,) = running_sandbox
    lines = output.splitlines()
    url = lines[lines.index("# The demo consumer's connect page (valid for a day; open it in a browser):") + 1]
    assert url.startswith(f"http://127.0.0.1:{port}/connect/session/")
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(url)
    assert page.status_code == 200 and "Test environment" in page.text
    for name in ("AgentsMesh", "Codimir", "Opine", "Selectel"):   # the simulated trackers, connected
        assert re.search(rf'>{name}[^<]*</a></h2>\s*<p class="state state-callable">', page.text), name

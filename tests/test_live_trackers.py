"""How a connector finds its real tracker (LiveProfile) and what its live tests do without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette

from unigate.plugins import LiveProfile
from unigate.simulation import BackgroundServer
from unigate.simulation.server import free_port

ROOT = Path(__file__).resolve().parents[1]
PROFILE = LiveProfile(env_prefix="ACME", settings={"base_url": "{ACME_BASE_URL}"},
                      credentials={"token": "{ACME_TOKEN}"}, secret_vars=("ACME_TOKEN",))


@pytest.fixture
def trackers_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNIGATE_TRACKERS_DIR", str(tmp_path))
    for name in [n for n in os.environ if n.startswith("ACME_")]:
        monkeypatch.delenv(name)
    return tmp_path


def test_environment_comes_from_the_env_file_the_start_script_wrote(trackers_dir: Path) -> None:
    (trackers_dir / "acme.env").write_text("ACME_BASE_URL=http://127.0.0.1:9\nACME_TOKEN=t0k\nOTHER=x\n")
    assert PROFILE.environment() == {"ACME_BASE_URL": "http://127.0.0.1:9", "ACME_TOKEN": "t0k"}


def test_process_environment_overrides_the_env_file(trackers_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (trackers_dir / "acme.env").write_text("ACME_BASE_URL=http://127.0.0.1:9\nACME_TOKEN=t0k\n")
    monkeypatch.setenv("ACME_TOKEN", "from-env")
    assert PROFILE.environment()["ACME_TOKEN"] == "from-env"


def test_connection_is_rendered_from_the_environment() -> None:
    env = {"ACME_BASE_URL": "http://h:1", "ACME_TOKEN": "t"}
    assert PROFILE.connection(env) == ({"base_url": "http://h:1"}, {"token": "t"})


def test_a_server_counts_as_running_only_when_it_accepts_connections() -> None:
    server = BackgroundServer(Starlette()).start()
    try:
        assert PROFILE.running({"ACME_BASE_URL": server.url})
    finally:
        server.stop()
    assert not PROFILE.running({"ACME_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    assert not PROFILE.running({})


def run_live_test(trackers_dir: Path) -> subprocess.CompletedProcess[str]:
    """One Redmine live test in its own pytest process, with the given trackers dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDMINE_", "UNIGATE_RECORD"))}
    env["UNIGATE_TRACKERS_DIR"] = str(trackers_dir)
    test = "connectors/redmine/tests/test_redmine_live.py::test_collections_are_the_projects"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", test], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_live_tests_replay_their_cassettes_when_no_server_runs(tmp_path: Path) -> None:
    result = run_live_test(tmp_path)  # an empty trackers dir: no env file, no server
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_live_tests_fail_when_the_env_file_names_a_server_that_does_not_answer(tmp_path: Path) -> None:
    (tmp_path / "redmine.env").write_text(f"REDMINE_BASE_URL=http://127.0.0.1:{free_port()}\n"
                                          "REDMINE_API_KEY=k\nREDMINE_PROJECT=demo\n")
    result = run_live_test(tmp_path)
    assert result.returncode != 0
    assert "does not answer" in result.stdout

"""The example out-of-tree plugin (examples/unigate-gitea), written from the docs only, passes its tests.

It is installed as its author installs it, in a venv of its own that sees this installation
(unigate.testing.outoftree), never in the project's: there it would add a connector to the registry
of every other test. Its tests run the acceptance suite against its simulator and use the helpers
docs/plugins.md advertises (connector_fixtures with credentials, injected_fault_tests, a cassette
beside the test module replayed by recorded_client), and the same suite against "a real Gitea"
replayed from the cassettes beside it (recorded against the simulator served as a stand-in).
"""

from __future__ import annotations

from pathlib import Path

from unigate.testing.outoftree import ThrowawayVenv

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "unigate-gitea"


def test_example_gitea_plugin_installs_and_passes_its_tests(tmp_path: Path) -> None:
    venv = ThrowawayVenv.create(tmp_path / "venv")
    venv.install(EXAMPLE)
    run = venv.pytest(EXAMPLE, "-p", "no:randomly", "-rs")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "failed" not in run.stdout and " passed" in run.stdout
    assert "skipped" not in run.stdout, run.stdout[-4000:]   # the live suite's fault contract runs too (FaultTap)
    assert "gitea: replayed from cassettes" in run.stdout   # the live suite ran, from its cassettes
    assert "test_gitea_acceptance.py::TestGiteaAcceptance::" in venv.pytest(EXAMPLE, "--collect-only").stdout
    shown = venv.run("-m", "unigate.cli", "connectors", "show", "gitea")
    assert shown.returncode == 0 and "tickets_update_labels" in shown.stdout, shown.stdout + shown.stderr
    checked = venv.run("-m", "unigate.cli", "connectors", "readme", "gitea", str(EXAMPLE / "README.md"))
    assert checked.returncode == 0, checked.stdout + checked.stderr   # its README's call table is current

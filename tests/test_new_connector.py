"""`unigate new-connector NAME` scaffolds a connector package that passes its own tests out of the box.

The package is installed the way its author installs it, in a venv of its own that sees this
installation (unigate.testing.outoftree), and its tests (the acceptance suite against the simulator
stub) run there: the project's own registry never sees it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from unigate.cli import main
from unigate.connector.base import Connector
from unigate.connector_info import BEGIN_CALLS, with_calls_table
from unigate.mapping.spec import load_mapping_file
from unigate.testing.outoftree import ThrowawayVenv


def test_scaffolded_package_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new-connector", "acme-cloud", "--dir", str(tmp_path / "src")])
    assert result.exit_code == 0, result.output
    package = tmp_path / "src" / "unigate-acme-cloud"
    venv = ThrowawayVenv.create(tmp_path / "venv")
    venv.install(package)
    run = venv.pytest(package, "-p", "no:randomly")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
    listed = venv.run("-m", "unigate.cli", "connectors")
    assert "acme-cloud" in listed.stdout, listed.stdout + listed.stderr
    checked = venv.run("-m", "unigate.cli", "connectors", "readme", "acme-cloud", str(package / "README.md"))
    assert checked.returncode == 0, checked.stdout + checked.stderr   # its call table is the manifest's, current


def test_scaffold_declares_the_entry_point_and_ships_the_manifest(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["new-connector", "acme", "--dir", str(tmp_path)])
    project = tomllib.loads((tmp_path / "unigate-acme" / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["unigate.connectors"] == {"acme": "unigate_acme.plugin"}
    assert project["tool"]["setuptools"]["package-data"] == {"unigate_acme": ["manifest.yaml"]}
    readme = (tmp_path / "unigate-acme" / "README.md").read_text()
    assert "| the tracker... | write | example |" in readme


def test_scaffold_readme_has_the_call_table_generated_from_its_manifest(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["new-connector", "acme", "--dir", str(tmp_path)])
    readme = (tmp_path / "unigate-acme" / "README.md").read_text()
    connector = Connector(load_mapping_file(tmp_path / "unigate-acme" / "unigate_acme" / "manifest.yaml"))
    assert BEGIN_CALLS in readme and "| `tickets_all` | tickets.all | `GET /projects/{collection_id}/issues` |" in readme
    assert with_calls_table(readme, connector) == readme


def test_a_name_that_is_no_service_id_or_an_existing_directory_is_refused(tmp_path: Path) -> None:
    bad = CliRunner().invoke(main, ["new-connector", "Acme_Cloud", "--dir", str(tmp_path)])
    assert bad.exit_code == 1 and "is not a service id" in bad.output
    CliRunner().invoke(main, ["new-connector", "acme", "--dir", str(tmp_path)])
    again = CliRunner().invoke(main, ["new-connector", "acme", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "exists" in again.output


def test_acceptance_suite_fails_a_connector_whose_pages_repeat_and_says_what_to_fix(tmp_path: Path) -> None:
    """The suite is no rubber stamp: a manifest sending the offset under a name the tracker ignores
    (every page is the first) fails the paging checks, naming the manifest key to fix."""
    root = Path(CliRunner().invoke(main, ["new-connector", "broken", "--dir", str(tmp_path)]).output.split()[1])
    manifest = root / "unigate_broken" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("offset_param: offset", "offset_param: start"))
    venv = ThrowawayVenv.create(tmp_path / "venv")
    venv.install(root)
    run = venv.pytest(root, "-p", "no:randomly", "-k", "test_list_pages and tickets")
    failed = sorted(re.findall(r"^FAILED \S+test_list_pages\[([^\]]+)\]", run.stdout, re.MULTILINE))
    assert failed == ["tickets-1", "tickets-2", "tickets-middle"], run.stdout[-3000:]   # max: one tracker page
    assert "records came twice" in run.stdout and "resources.tickets.operations.all.pagination" in run.stdout

"""`unigate simulate <service>`: one connector's simulator, standalone, from its SandboxProfile."""

from __future__ import annotations

import re

import httpx
from click.testing import CliRunner

from unigate.cli import main
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation.server import free_port
from unigate.testing.cli import running_cli


def test_simulate_serves_the_simulator_and_prints_its_url_and_credentials() -> None:
    port = free_port()
    with running_cli("simulate", "agentsmesh", "--port", str(port), timeout=30) as output:
        url = re.search(r"^AgentsMesh simulator on (http://\S+)$", output, re.M).group(1)
        assert url == f"http://127.0.0.1:{port}"
        organization = re.search(rf"^settings: base_url={re.escape(url)} organization=(\S+)$", output, re.M).group(1)
        api_key = re.search(r"^credentials: api_key=(\S+)$", output, re.M).group(1)
        assert (f"connection-create <app_id> <consumer_id> agentsmesh -s base_url={url} "
                f"-s organization={organization} -c api_key={api_key}") in output
        # the printed URL, organisation and key reach the simulator (the repositories the connector lists)
        repositories = f"{url}/api/v1/ext/orgs/{organization}/repositories"
        authorized = httpx.get(repositories, headers={"x-api-key": api_key})
        refused = httpx.get(repositories, headers={"x-api-key": "amk_wrong"})
        assert authorized.status_code == 200 and refused.status_code == 401
        assert authorized.json()["repositories"]


def simulators() -> str:
    """The installed connectors that have a simulator (a ``sandbox`` profile), as the CLI lists them."""
    return ", ".join(sorted(s for s, d in ConnectorRegistry.load().definitions.items() if d.sandbox is not None))


def test_simulate_a_connector_without_simulator_says_how_to_run_its_real_server() -> None:
    result = CliRunner().invoke(main, ["simulate", "redmine"])
    assert result.exit_code == 1
    assert ("the redmine connector has no simulator (it is tested against a real server: "
            f"connectors/redmine/tracker/start.sh); the simulators are: {simulators()}") in result.output


def test_simulate_an_unknown_service_lists_the_simulators() -> None:
    result = CliRunner().invoke(main, ["simulate", "mantis"])
    assert result.exit_code == 1
    assert f"no connector 'mantis' is installed; the simulators are: {simulators()}" in result.output

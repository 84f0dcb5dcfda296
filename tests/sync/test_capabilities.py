"""Each connector's capabilities (resources, operations, filters, sorts: native, emulated or
unsupported), from one reading of its manifest, by ``unigate connectors show`` and over HTTP
(``GET /vault/connectors[/{service_id}]``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.testing import ConnectorUnderTest, error_of

# filter[since] on the six built-in connectors: pushed down, or emulated
SINCE = {"redmine": "native", "roundup": "native", "codimir": "emulated", "agentsmesh": "emulated",
         "opine": "emulated", "selectel": "emulated"}


def show_json(service_id: str) -> dict:
    result = CliRunner().invoke(main, ["connectors", "show", service_id, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.output)


@pytest.mark.parametrize("service_id", sorted(SINCE))
def test_since_is_served_on_every_built_in_connector(service_id: str) -> None:
    since = show_json(service_id)["capabilities"]["tickets"]["filters"]["since"]
    assert since["mode"] == SINCE[service_id], since


def test_emulated_since_says_how() -> None:
    caps = show_json("codimir")["capabilities"]["tickets"]
    assert "newest-updated first" in caps["filters"]["since"]["how"]
    assert "scan" in show_json("agentsmesh")["capabilities"]["tickets"]["filters"]["since"]["how"]


def test_a_status_filtering_one_tracker_status_per_call_is_emulated_by_fanning_out() -> None:
    status = show_json("agentsmesh")["capabilities"]["tickets"]["filters"]["status"]
    assert status["mode"] == "emulated" and "one call per tracker status" in status["how"]
    assert show_json("redmine")["capabilities"]["tickets"]["filters"]["status"]["mode"] == "native"


def test_undeclared_filters_sorts_and_operations_are_unsupported() -> None:
    caps = show_json("opine")["capabilities"]
    assert caps["tickets"]["filters"]["assignee_id"]["mode"] == "unsupported"
    assert caps["tickets"]["sorts"]["updated_at desc"]["mode"] == "unsupported"
    assert caps["tickets"]["sorts"]["created_at asc"]["mode"] == "native"
    assert caps["comments"]["operations"]["update"]["mode"] == "unsupported"


def test_the_text_description_lists_the_capabilities() -> None:
    output = CliRunner().invoke(main, ["connectors", "show", "agentsmesh"]).output
    assert "tickets filters      status emulated; since emulated; assignee_id native" in output


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory,
            databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("caps"), "agentsmesh", simulate=False, database=databases())
    yield tracker
    tracker.stop()


@pytest.fixture
def client(gateway: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with gateway.harness.client() as client:
        yield client


def test_over_http_a_connector_is_its_show_json(client: httpx.Client) -> None:
    body = client.get("/vault/connectors/agentsmesh").json()
    assert body["status_code"] == 200
    assert body["data"] == {"id": "agentsmesh", "unified_api": "issue-tracking", **show_json("agentsmesh")}


def test_over_http_every_installed_connector_is_listed(client: httpx.Client) -> None:
    data = client.get("/vault/connectors").json()["data"]
    assert {c["id"] for c in data} >= set(SINCE)
    assert all("capabilities" in c for c in data)


def test_an_unknown_connector_is_a_typed_404(client: httpx.Client) -> None:
    assert error_of(client.get("/vault/connectors/nonesuch")) == (404, "ConnectorNotFoundError")


def test_the_connector_listing_needs_the_app_key(gateway: ConnectorUnderTest) -> None:
    with gateway.harness.anonymous() as anonymous:
        assert anonymous.get("/vault/connectors").status_code == 401

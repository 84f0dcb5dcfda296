"""Request style graphql: a manifest declares GraphQL documents with variables; the gateway POSTs
``{query, variables}``, selects records from ``data``, turns GraphQL ``errors`` into typed errors,
and validates every document against the schema file the manifest names when it loads. Against a
tiny GraphQL tracker served with graphql-core (tests/support/graphql_tracker.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from unigate.mapping.spec import MappingFileError, load_mapping_file
from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness, Simulator, error_of

from .conftest import cleared_client
from .support.graphql_tracker import Issues, graphql_tracker
from .support.manifest_gateway import manifest_gateway

MANIFEST = Path(__file__).parent / "support" / "graphql_tracker.yaml"
TICKETS = "/issue-tracking/collections/main/tickets"


@pytest.fixture(scope="module")
def issues() -> Issues:
    return Issues()


@pytest.fixture(scope="module")
def sim(issues: Issues) -> Iterator[Simulator]:
    control = graphql_tracker(issues)
    simulator = Simulator(control, BackgroundServer(control).start())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    gateway = manifest_gateway(Path(tmp_path_factory.mktemp("graphy")), "graphy", MANIFEST, sim.url)
    yield gateway
    gateway.stop()


client = cleared_client()


def test_one_posts_the_document_with_its_variables(client: httpx.Client, sim: Simulator) -> None:
    ticket = client.get(f"{TICKETS}/I-2").json()["data"]
    assert ticket == {"id": "I-2", "subject": "Issue 2", "status": "open"}
    sent = sim.requests()[0]
    assert sent["method"] == "POST" and sent["body"]["variables"] == {"id": "I-2"}
    assert sent["body"]["query"].startswith("query Issue($id: ID!)")


def test_a_list_pages_through_cursor_variables(client: httpx.Client, sim: Simulator) -> None:
    first = client.get(TICKETS, params={"limit": 2}).json()
    second = client.get(TICKETS, params={"limit": 2, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert [t["id"] for t in first["data"] + second["data"]] == ["I-1", "I-2", "I-3", "I-4"]
    assert [r["body"]["variables"] for r in sim.requests()] == [{"first": 2}, {"first": 2, "after": "c2"}]


def test_a_create_sends_the_mapped_body_as_a_variable(client: httpx.Client, issues: Issues) -> None:
    created = client.post(TICKETS, json={"subject": "Made through GraphQL"}).json()["data"]["id"]
    assert next(i for i in issues.items if i["id"] == created)["title"] == "Made through GraphQL"


def test_an_update_sends_the_id_and_the_mapped_body(client: httpx.Client, issues: Issues) -> None:
    assert client.patch(f"{TICKETS}/I-3", json={"status": "closed"}).status_code == 200
    assert issues.items[2]["state"] == "done"


def test_a_not_found_error_is_an_entity_not_found(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/I-404")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"][0]["message"] == "no issue I-404"


def test_a_bad_user_input_error_is_a_request_validation_error(client: httpx.Client) -> None:
    assert error_of(client.patch(f"{TICKETS}/I-1", json={"subject": ""})) == (400, "RequestValidationError")


def test_a_document_the_schema_refuses_fails_the_load(tmp_path: Path) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    manifest["resources"]["tickets"]["operations"]["one"]["request"]["document"] = \
        "query Issue($id: ID!) { issue(id: $id) { id headline } }"
    (tmp_path / "graphql_tracker.graphql").write_text((MANIFEST.parent / "graphql_tracker.graphql").read_text())
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(MappingFileError) as failed:
        load_mapping_file(tmp_path / "manifest.yaml")
    assert "operations.one.request.document" in str(failed.value) and "headline" in str(failed.value)

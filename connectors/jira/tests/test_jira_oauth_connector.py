"""jira (OAuth 2.0 3LO) through the gateway: the same manifest as jira-api-token, reached through
Atlassian's API gateway ``{api_url}/ex/jira/{cloud_id}/rest/api/3`` with the access token as Bearer;
every exchange held to Atlassian's description."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, SpecCheck, VendorSpec, connector_fixtures, error_of, walk_pages
from unigate_connectors.jira.simulator import CLOUD_ID, OAUTH_TOKEN, OTHER_CLOUD_ID
from unigate_connectors.jira.tests.test_jira_connector import ERRORS, SPEC

OPS = "/issue-tracking/collections/OPS/tickets"
GATEWAY = f"/ex/jira/{CLOUD_ID}/rest/api/3"

tracker, sim, harness, client = connector_fixtures("jira")


@pytest.fixture(scope="module")
def checked(sim: Simulator) -> SpecCheck:
    spec = VendorSpec.load(SPEC, base_path=f"/ex/jira/{CLOUD_ID}", undeclared={401: ERRORS, 404: ERRORS, 429: ERRORS})
    return SpecCheck.inside(sim.app, spec, skip=("/__sim", f"/ex/jira/{OTHER_CLOUD_ID}"))  # no grant: no spec


@pytest.fixture(autouse=True)
def spec_clean(checked: SpecCheck) -> Iterator[None]:
    yield
    checked.assert_clean()


def test_calls_go_through_the_gateway_with_the_bearer_token(client: httpx.Client, sim: Simulator) -> None:
    ids, ended = walk_pages(client, "/issue-tracking/collections/ENG/tickets", 100)
    assert ended and len(set(ids)) == 260
    paths = {r["path"] for r in sim.requests()}   # /field: the custom fields, read once per connection
    assert f"{GATEWAY}/search/jql" in paths and paths <= {f"{GATEWAY}/search/jql", f"{GATEWAY}/field"}
    assert {r["headers"]["authorization"] for r in sim.requests()} == {f"Bearer {OAUTH_TOKEN}"}


def test_a_ticket_lifecycle_through_the_gateway(client: httpx.Client) -> None:
    created = client.post(OPS, json={"subject": "Through 3LO", "status": "in_progress", "description": "<p>hi</p>"})
    assert created.status_code == 201, created.text
    ticket_id = created.json()["data"]["id"]
    ticket = client.get(f"{OPS}/{ticket_id}").json()["data"]
    assert (ticket["subject"], ticket["status"], ticket["description"]) == ("Through 3LO", "in_progress", "<p>hi</p>")
    assert client.delete(f"{OPS}/{ticket_id}").status_code == 200


def test_a_site_the_token_has_no_grant_for_is_not_found(tracker: ConnectorUnderTest) -> None:
    tracker.connect("elsewhere", settings={"cloud_id": OTHER_CLOUD_ID})
    with tracker.client("elsewhere") as other:
        assert error_of(other.get(OPS)) == (404, "EntityNotFoundError")


def test_jiras_429_is_a_rate_limit_error_with_retry_after(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(path=f"{GATEWAY}/search/jql", status=429, retry_after=30,
              body={"errorMessages": ["Rate limit exceeded."], "errors": {}})
    response = client.get(OPS)
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert "Rate limit exceeded." in response.text

"""GET /vault/logs as Apideck's Vault API describes it (fixtures/specs/apideck/vault-logs.yml): auth,
scoping to the calling app and consumer, filters, cursor paging, and every item a valid ``Log``; on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from unigate.testing.connector import ConnectorUnderTest
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

SPEC = yaml.safe_load((Path(__file__).parents[1] / "fixtures/specs/apideck/vault-logs.yml").read_text())
LOG = SPEC["components"]["schemas"]["Log"]
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"
OTHER = "second-consumer"
TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict, "array": list}


def check_schema(value: Any, schema: dict[str, Any], where: str = "Log") -> None:
    """The parts of OpenAPI 3.0 the Log schema uses: type, nullable, required, properties,
    additionalProperties: false, enum."""
    if value is None:
        assert schema.get("nullable"), f"{where} is null but not nullable"
        return
    expected = TYPES[schema["type"]]
    assert isinstance(value, expected) and not (schema["type"] in ("number", "integer") and isinstance(value, bool)), \
        f"{where}: {value!r} is not {schema['type']}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if schema["type"] == "object":
        properties = schema.get("properties", {})
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where} lacks {sorted(missing)}"
        if schema.get("additionalProperties") is False:
            assert not set(value) - set(properties), f"{where} has {sorted(set(value) - set(properties))}"
        for key, item in value.items():
            if key in properties:
                check_schema(item, properties[key], f"{where}.{key}")


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory, module_database: Path | str) -> Iterator[ConnectorUnderTest]:
    """The gateway, once on SQLite and once on PostgreSQL."""
    t = ConnectorUnderTest.start(tmp_path_factory.mktemp("vaultlogs"), "agentsmesh", database=module_database)
    t.connect(OTHER)
    yield t
    t.stop()


@pytest.fixture(scope="module")
def history(tracker: ConnectorUnderTest) -> dict[str, list[str]]:
    """Requests made once for the module: request ids by kind, oldest first."""
    sim = tracker.simulator
    assert sim is not None
    made: dict[str, list[str]] = {"reads": [], "failed": [], "other": [], "all": []}
    with tracker.client() as client:
        for n in (1, 2, 3, 4):
            made["reads"].append(client.get(f"{TICKETS}/AM-{n}").headers["request-id"])
        sim.fault(method="POST", path="/tickets$", status=500, times=1)
        made["failed"].append(client.post(TICKETS, json={"subject": "nope"}).headers["request-id"])
    with tracker.harness.client(consumer_id=OTHER) as other:
        made["other"].append(other.get(f"{TICKETS}/AM-5").headers["request-id"])
    made["all"] = made["reads"] + made["failed"]
    assert tracker.harness.gateway.request_log.flush()
    return made


def logs(tracker: ConnectorUnderTest, consumer: str = CONSUMER_ID, headers: dict[str, str] | None = None,
         **params: Any) -> httpx.Response:
    with httpx.Client(base_url=tracker.harness.server.url, timeout=30) as client:
        return client.get("/vault/logs", params=params,
                          headers=headers if headers is not None else tracker.harness.headers(consumer_id=consumer))


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [entry["id"] for entry in response.json()["data"]]


def test_every_log_is_an_apideck_log_newest_first(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    response = logs(tracker, limit=200)
    body = response.json()
    assert ids(response) == history["all"][::-1]
    assert (body["status_code"], body["status"], body["meta"]["items_on_page"]) == (200, "OK", 5)
    for entry in body["data"]:
        check_schema(entry, LOG)
    failed, read = body["data"][0], body["data"][-1]
    assert failed["operation"] == {"id": "collectionTicketsAdd", "name": "Create Ticket"}
    assert (failed["status_code"], failed["success"], failed["http_method"]) == (502, False, "POST")
    assert failed["error_message"].startswith("agentsmesh answered 500")
    assert read["operation"] == {"id": "collectionTicketsOne", "name": "Get Ticket"}
    assert (read["path"], read["status_code"], read["success"]) == (f"{TICKETS}/AM-1", 200, True)
    assert read["service"] == {"id": "agentsmesh", "name": "AgentsMesh"}
    assert (read["consumer_id"], read["unified_api"], read["api_style"]) == (CONSUMER_ID, "issue-tracking", "REST")
    assert read["execution"] >= read["duration"] > 0
    assert "_raw" not in body


def test_raw_true_adds_the_downstream_calls(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    body = logs(tracker, limit=1, raw="true").json()
    [detail] = body["_raw"]["logs"]
    assert detail["id"] == history["failed"][0] == body["data"][0]["id"]
    assert (detail["operation"], detail["error_type"]) == ("tickets.add", "ConnectorExecutionError")
    [call] = detail["calls"]
    assert (call["method"], call["response"]["status_code"]) == ("POST", 500)
    assert call["request"]["headers"]["x-api-key"] == "[REDACTED]"


def test_pages_follow_the_next_cursor(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = logs(tracker, **params)
        body = response.json()
        seen += ids(response)
        pages += 1
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            assert body["links"]["next"] is None
            break
        assert body["links"]["next"] == f"/vault/logs?limit=2&cursor={cursor}"
        params = {"limit": 2, "cursor": cursor}
    assert (seen, pages) == (history["all"][::-1], 3)


def test_filters(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    reads, failed = history["reads"][::-1], history["failed"]
    assert ids(logs(tracker, **{"filter[status_code]": "502"})) == failed
    assert ids(logs(tracker, **{"filter[status_codes]": "200,502"})) == failed + reads
    assert ids(logs(tracker, **{"filter[status_codes][]": ["404", "200"]})) == reads
    assert ids(logs(tracker, **{"filter[http_method]": "post"})) == failed
    assert ids(logs(tracker, **{"filter[connector_id]": "issue-tracking+agentsmesh"})) == failed + reads
    assert ids(logs(tracker, **{"filter[connector_id]": "codimir"})) == []
    assert ids(logs(tracker, **{"filter[path]": "/tickets/AM-2", "filter[path_match_mode]": "ENDS_WITH"})) \
        == [history["reads"][1]]
    assert ids(logs(tracker, **{"filter[path]": "AM-", "filter[path_match_mode]": "EXACT"})) == []
    assert ids(logs(tracker, **{"filter[path]": "AM-"})) == reads  # CONTAINS
    assert ids(logs(tracker, **{"filter[path]": "/issue-tracking/", "filter[path_match_mode]": "STARTS_WITH"})) \
        == failed + reads
    assert ids(logs(tracker, **{"filter[start_date]": "2999-01-01T00:00:00Z"})) == []
    assert ids(logs(tracker, **{"filter[end_date]": "2000-01-01T00:00:00Z"})) == []
    assert ids(logs(tracker, **{"filter[start_date]": "2000-01-01T00:00:00Z"})) == failed + reads
    assert ids(logs(tracker, **{"filter[exclude_unified_apis]": "issue-tracking,proxy"})) == []


def test_each_consumer_sees_its_own_logs(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    assert ids(logs(tracker, consumer=OTHER)) == history["other"]
    assert ids(logs(tracker, consumer="never-seen")) == []


def test_another_app_sees_nothing_of_this_one(tracker: ConnectorUnderTest, history: dict[str, list[str]]) -> None:
    store = tracker.harness.store
    _, key = store.create_app("Another app", app_id="another-app")
    store.create_consumer("another-app", CONSUMER_ID)  # the same consumer id, in another app
    headers = {"authorization": f"Bearer {key}", "x-apideck-app-id": "another-app",
               "x-apideck-consumer-id": CONSUMER_ID}
    assert ids(logs(tracker, headers=headers, limit=200)) == []
    # this app's key for the other app, and the other app's key for this one: refused
    mixed = {**headers, "authorization": f"Bearer {tracker.harness.api_key}"}
    assert logs(tracker, headers=mixed).status_code == 401
    assert logs(tracker, headers={**headers, "x-apideck-app-id": APP_ID}).status_code == 401


@pytest.mark.parametrize(("change", "status", "type_name"), [
    ({"authorization": None}, 401, "UnauthorizedError"),
    ({"authorization": "Bearer nope"}, 401, "UnauthorizedError"),
    ({"authorization": "Basic abc"}, 401, "UnauthorizedError"),
    ({"x-apideck-app-id": None}, 400, "RequestHeadersValidationError"),
    ({"x-apideck-consumer-id": None}, 400, "RequestHeadersValidationError"),
])
def test_refused_requests(tracker: ConnectorUnderTest, change: dict[str, str | None], status: int,
                          type_name: str) -> None:
    headers = tracker.harness.headers()
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    response = logs(tracker, headers=headers)
    assert (response.status_code, response.json()["type_name"]) == (status, type_name)
    assert response.json()["status_code"] == status


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "201"}, {"cursor": "not-a-cursor"}, {"filter[status_code]": "abc"},
    {"filter[status_code]": "99"}, {"filter[path_match_mode]": "REGEX", "filter[path]": "x"},
    {"filter[start_date]": "yesterday"},
    {"filter[start_date]": "2024-02-01T00:00:00Z", "filter[end_date]": "2024-01-01T00:00:00Z"},
])
def test_invalid_parameters_are_400(tracker: ConnectorUnderTest, params: dict[str, str]) -> None:
    response = logs(tracker, **params)
    assert response.status_code == 400
    assert response.json()["type_name"] == "RequestValidationError"


def test_only_get(tracker: ConnectorUnderTest) -> None:
    with httpx.Client(base_url=tracker.harness.server.url, timeout=30) as client:
        response = client.post("/vault/logs", headers=tracker.harness.headers())
    assert response.status_code == 405

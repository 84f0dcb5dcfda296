"""Hostile ids never reach a tracker: every connector refuses them with a 400 before any call.

A dot segment, an encoded ``/`` or ``\\``, an empty segment, a control character or an overlong id
in any path-parameter position is a ``RequestValidationError`` naming the parameter, and the
tracker's simulator receives nothing. (Before: ``DELETE .../comments/..`` on Codimir deleted the
ticket, because the downstream client normalised the dot segment away.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from unigate.testing import ConnectorUnderTest
from unigate.testing.hostile import hostile_requests, raw_request

COLLECTIONS = {"agentsmesh": "1", "codimir": "project_456", "opine": "organization", "selectel": "support"}


@pytest.fixture(scope="module", params=sorted(COLLECTIONS))
def tracker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    started = ConnectorUnderTest.start(tmp_path_factory.mktemp(request.param), request.param)
    yield started
    started.stop()


def test_every_hostile_id_is_a_400_naming_the_parameter_and_nothing_goes_downstream(
        tracker: ConnectorUnderTest) -> None:
    assert tracker.simulator is not None
    tracker.simulator.clear()
    headers = tracker.harness.headers(tracker.service_id)
    answers = {(method, target): raw_request(tracker.harness.server.url, method, target, headers)
               for method, target in hostile_requests(COLLECTIONS[tracker.service_id], "1")}
    wrong = {k: v for k, v in answers.items()
             if v[0] != 400 or not isinstance(v[1], dict) or v[1].get("type_name") != "RequestValidationError"
             or not set(v[1]["detail"]) & {"collection_id", "ticket_id", "id"}}
    assert wrong == {}
    assert tracker.simulator.requests() == []


def test_a_dot_segment_in_a_stored_id_is_escaped_on_the_way_downstream(tmp_path: Path) -> None:
    from unigate.mapping.template import compile_template
    rendered = compile_template("/tickets/{ticket_id}/comments/{id}").render({"ticket_id": "..", "id": "."},
                                                                            quote_values=True)
    assert rendered == "/tickets/%2E%2E/comments/%2E"


def test_a_collection_id_the_tracker_cannot_have_is_not_found_before_any_call(tmp_path: Path) -> None:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh")  # AgentsMesh ids are integers
    try:
        with tracker.client() as client:
            for method, path in [("POST", "/issue-tracking/collections/apideck-io/tickets"),
                                 ("GET", "/issue-tracking/collections/apideck-io/tickets")]:
                response = client.request(method, path, json={"subject": "x"} if method == "POST" else None)
                assert (response.status_code, response.json()["type_name"]) == (404, "EntityNotFoundError")
        assert tracker.simulator is not None and tracker.simulator.requests() == []
    finally:
        tracker.stop()

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

COLLECTIONS = {"agentsmesh": "1", "codimir": "project_456", "opine": "organization", "selectel": "support",
               "github": "octocat~Hello-World", "gitlab": "42"}


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


HOSTILE_INPUTS: list[tuple[str, str, dict[str, str], object]] = [
    # (method, query string, extra headers, JSON body)
    ("GET", "cursor=%C3%A9.x", {}, None),                                    # non-ASCII cursor
    ("GET", "cursor=" + "A" * 200 + ".Zm9v", {}, None),                      # well-formed, not ours
    ("GET", "limit=99999999999999999999999", {}, None),                      # beyond 64 bits
    ("GET", "limit=%D9%A3", {}, None),                                       # Arabic-Indic 3
    ("GET", "filter[since]=%C2%B3", {}, None),                               # superscript 3
    ("GET", "sort[by]=" + "x" * 5000, {}, None),
    ("GET", "pass_through" + "[a]" * 64 + "=1", {}, None),                   # nesting
    ("GET", "", {"x-padding": "p" * 20_000}, None),                          # headers over the cap
    ("POST", "", {}, {"subject": "x", "pass_through": [{"service_id": "{svc}", "extend_paths": [
        {"path": "$.x[20000000]", "value": 1}]}]}),                          # index past the end
    ("POST", "", {}, {"subject": "x", "pass_through": [{"service_id": "{svc}", "extend_paths": [
        {"path": "$" + ".a" * 300, "value": 1}]}]}),                         # 300 steps
    ("POST", "", {}, {"subject": "x", "pass_through": [{"service_id": "{svc}", "extend_object": {
        "n": 2 ** 70}}]}),                                                   # integer beyond 64 bits
    ("POST", "", {}, {"subject": "x", "priority": "high", "description": [[[[[[[[[[[]]]]]]]]]]]}),
]


def test_hostile_queries_headers_and_bodies_are_typed_4xx_before_any_call(tracker: ConnectorUnderTest) -> None:
    assert tracker.simulator is not None
    tracker.simulator.clear()
    headers = tracker.harness.headers(tracker.service_id)
    base = f"/issue-tracking/collections/{COLLECTIONS[tracker.service_id]}/tickets"
    wrong = {}
    for method, query, extra, body in HOSTILE_INPUTS:
        if isinstance(body, dict) and "pass_through" in body:
            body = {**body, "pass_through": [{**p, "service_id": tracker.service_id} for p in body["pass_through"]]}
        status, answer = raw_request(tracker.harness.server.url, method, base + (f"?{query}" if query else ""),
                                     {**headers, **extra}, body)
        typed = isinstance(answer, dict) and answer.get("status_code") == status and "type_name" in answer
        if not (400 <= status < 500 and typed):
            wrong[(method, query[:60], tuple(extra)[:1], str(body)[:60])] = (status, str(answer)[:200])
    assert wrong == {}
    assert tracker.simulator.requests() == []

"""Bad input is a typed 4xx naming what is wrong, before any downstream write: never a 500, never
unbounded memory. Each test here is a regression for an input that answered 500 (or froze the
gateway) before the hardening; the property test in tests/test_bad_input_properties.py hunts
for more.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from unigate.api.handler import MAX_HEADER_BYTES, MAX_URL_BYTES
from unigate.api.params import MAX_DEEP_SEGMENTS
from unigate.mapping.passthrough import MAX_ENTRIES, MAX_EXTEND_PATHS
from unigate.mapping.paths import MAX_INDEX, MAX_LIST_GROWTH, MAX_PATH_STEPS
from unigate.testing import Simulator, error_of

from .conftest import TICKETS


def refused(response: httpx.Response, sim: Simulator, status: int = 400,
            type_name: str = "RequestValidationError") -> dict[str, Any]:
    """The error body, after checking status, type and that nothing was written downstream."""
    assert error_of(response) == (status, type_name), response.json()
    assert not [r for r in sim.requests() if r["method"] != "GET"], "nothing may be written downstream"
    return response.json()


def with_paths(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"subject": "x", **fields, "pass_through": [{"service_id": "agentsmesh", "extend_paths": list(items)}]}


def sent_body(sim: Simulator) -> Any:
    return [r for r in sim.requests() if r["method"] != "GET"][-1]["body"]


# -- pass_through extend_paths: bounds ---------------------------------------------------------

def test_a_huge_index_is_refused_naming_the_entry(client: httpx.Client, sim: Simulator) -> None:
    # 126 bytes that used to pad a list to 20 million items (1.8 GB, 8 s)
    body = refused(client.post(TICKETS, json=with_paths({"path": "$.x[20000000]", "value": 1})), sim)
    assert body["detail"] == {"pass_through[0]": f"extend_paths[0]: index 20000000 in JSONPath; at most {MAX_INDEX}"}


def test_an_index_far_past_the_end_of_the_list_is_refused(client: httpx.Client, sim: Simulator) -> None:
    index = MAX_LIST_GROWTH + 1  # under MAX_INDEX, but more than MAX_LIST_GROWTH past an empty list
    body = refused(client.post(TICKETS, json=with_paths({"path": f"$.extra[{index}]", "value": 1})), sim)
    assert f"more than {MAX_LIST_GROWTH} past the end" in body["detail"]["pass_through[0]"]


def test_an_index_a_little_past_the_end_pads_the_list(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json=with_paths({"path": "$.extra[2]", "value": "v"}))
    assert response.status_code == 201, response.json()
    assert sent_body(sim)["extra"] == [{}, {}, "v"]


def test_a_path_deeper_than_the_bound_is_refused(client: httpx.Client, sim: Simulator) -> None:
    path = "$" + ".a" * 300  # used to build a 300-deep body the JSON encoder refused: 500
    body = refused(client.post(TICKETS, json=with_paths({"path": path, "value": 1})), sim)
    assert body["detail"] == {"pass_through[0]": f"extend_paths[0]: JSONPath of 300 steps; at most {MAX_PATH_STEPS}"}


def test_a_deep_path_with_wildcards_is_refused_before_jsonpath_ng_parses_it(client: httpx.Client, sim: Simulator) -> None:
    body = refused(client.post(TICKETS, json=with_paths({"path": "$" + ".a" * 300 + "[*]", "value": 1})), sim)
    assert "JSONPath of 301 steps" in body["detail"]["pass_through[0]"]


def test_too_many_entries_are_refused(client: httpx.Client, sim: Simulator) -> None:
    entries = [{"service_id": "agentsmesh", "extend_object": {"n": n}} for n in range(MAX_ENTRIES + 1)]
    body = refused(client.post(TICKETS, json={"subject": "x", "pass_through": entries}), sim)
    assert body["detail"] == {f"pass_through[{MAX_ENTRIES}]": f"{MAX_ENTRIES + 1} entries; at most {MAX_ENTRIES}"}


def test_too_many_extend_paths_over_all_entries_are_refused(client: httpx.Client, sim: Simulator) -> None:
    half = MAX_EXTEND_PATHS // 2
    entry = {"service_id": "agentsmesh", "extend_paths": [{"path": f"$.k{n}", "value": n} for n in range(half + 1)]}
    body = refused(client.post(TICKETS, json={"subject": "x", "pass_through": [entry, entry]}), sim)
    assert body["detail"] == {"pass_through[1]": f"extend_paths[{MAX_EXTEND_PATHS - half - 1}]: "
                                                 f"more than {MAX_EXTEND_PATHS} extend_paths in all entries"}


def test_the_root_path_only_takes_an_object(client: httpx.Client, sim: Simulator) -> None:
    body = refused(client.post(TICKETS, json=with_paths({"path": "$", "value": 1})), sim)
    assert "its value must be an object" in body["detail"]["pass_through[0]"]


# -- pass_through extend_paths: paths that cannot be set in the body they meet ----------------

def test_a_key_under_a_string_is_refused_not_overwritten(client: httpx.Client, sim: Simulator) -> None:
    body = refused(client.post(TICKETS, json=with_paths({"path": "$.title.x", "value": 1})), sim)
    assert body["detail"] == {"pass_through[0]": "extend_paths[0]: cannot create a parent at 'title': it holds a str "
                                                 "(in the body of downstream call tickets_add)"}


def test_an_index_under_an_object_names_the_entry(client: httpx.Client, sim: Simulator) -> None:
    # it raised inside the downstream call: 500
    body = refused(client.post(TICKETS, json=with_paths({"path": "$.title", "value": "y"}, {"path": "$[0]", "value": 1})), sim)
    assert body["detail"] == {"pass_through[0]": "extend_paths[1]: cannot set index [0] inside a dict "
                                                 "(in the body of downstream call tickets_add)"}


def test_a_wildcard_path_through_a_string_names_the_entry(client: httpx.Client, sim: Simulator) -> None:
    # jsonpath-ng's TypeError ('str' object does not support item assignment) was a 500
    entry = {"service_id": "agentsmesh", "extend_object": {"marks": [1, "a"]},
             "extend_paths": [{"path": "$.marks[*].x", "value": 1}]}
    body = refused(client.post(TICKETS, json={"subject": "x", "pass_through": [entry]}), sim)
    assert body["detail"]["pass_through[0]"].startswith("extend_paths[0]: cannot set '$.marks[*].x' in this document")


def test_a_split_call_body_that_cannot_take_its_path_is_refused_before_the_first_call(
        client: httpx.Client, sim: Simulator) -> None:
    # the status call's body is {"status": ...}: a key under it cannot be set; the main PUT must not go out
    entry = {"service_id": "agentsmesh", "operation_id": "tickets_update_status",
             "extend_paths": [{"path": "$.status.reason", "value": "dup"}]}
    body = refused(client.patch(f"{TICKETS}/AM-30", json={"subject": "y", "status": "closed", "pass_through": [entry]}), sim)
    assert "tickets_update_status" in body["detail"]["pass_through[0]"]


def test_a_null_value_sets_null(client: httpx.Client, sim: Simulator) -> None:
    # {"value": null} was dropped with the other nulls and the entry's missing value was a 500
    response = client.post(TICKETS, json=with_paths({"path": "$.assignee_id", "value": None}))
    assert response.status_code == 201, response.json()
    assert sent_body(sim)["assignee_id"] is None


# -- numbers no JSON encoder sends on ----------------------------------------------------------

def test_an_integer_beyond_64_bits_in_extend_object_is_refused(client: httpx.Client, sim: Simulator) -> None:
    entry = {"service_id": "agentsmesh", "extend_object": {"points": 10**30}}
    body = refused(client.post(TICKETS, json={"subject": "x", "pass_through": [entry]}), sim)
    assert body["detail"] == {"pass_through[0].extend_object.points": "integer out of range: at most 64 bits"}


def test_an_integer_beyond_64_bits_in_an_extend_path_value_is_refused(client: httpx.Client, sim: Simulator) -> None:
    body = refused(client.post(TICKETS, json=with_paths({"path": "$.n", "value": [1, -(2**70)]})), sim)
    assert body["detail"] == {"pass_through[0].extend_paths[0].value[1]": "integer out of range: at most 64 bits"}


def test_an_integer_beyond_64_bits_in_custom_mappings_is_refused(client: httpx.Client, sim: Simulator) -> None:
    body = refused(client.post(TICKETS, json={"subject": "x", "custom_mappings": {"n": 2**64}}), sim)
    assert body["detail"] == {"custom_mappings.n": "integer out of range: at most 64 bits"}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_a_non_finite_number_is_refused_not_sent_as_null(client: httpx.Client, sim: Simulator, number: str) -> None:
    raw = '{"subject":"x","pass_through":[{"service_id":"agentsmesh","extend_object":{"a":' + number + '}}]}'
    body = refused(client.post(TICKETS, content=raw, headers={"content-type": "application/json"}), sim)
    assert body["detail"] == {"pass_through[0].extend_object.a": "must be a finite number (JSON has no NaN or Infinity)"}


def test_very_deep_json_nesting_is_refused(client: httpx.Client, sim: Simulator) -> None:
    raw = b'{"subject":"x","custom_mappings":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    body = refused(client.post(TICKETS, content=raw, headers={"content-type": "application/json"}), sim)
    assert "recursion limit exceeded" in body["detail"]["body"]


# -- query parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("since", ["³", "①", "٣"])
def test_a_since_of_non_ascii_digits_is_refused(client: httpx.Client, sim: Simulator, since: str) -> None:
    # str.isdigit() said yes and float() said no: 500
    body = refused(client.get(TICKETS, params={"filter[since]": since}), sim)
    assert body["detail"] == {"filter[since]": f"expected an ISO 8601, RFC 2822 or epoch timestamp, got {since!r}"}


def test_an_epoch_since_beyond_any_date_is_refused(client: httpx.Client, sim: Simulator) -> None:
    # OverflowError / "year is out of range" from datetime: 500
    body = refused(client.get(TICKETS, params={"filter[since]": "9" * 30}), sim)
    assert body["detail"] == {"filter[since]": f"epoch timestamp out of range: {'9' * 30}"}


def test_a_due_date_beyond_any_date_is_refused(client: httpx.Client, sim: Simulator) -> None:
    # the OverflowError escaped pydantic's validator (it only converts ValueError): 500
    body = refused(client.post(TICKETS, json={"subject": "x", "due_date": "9" * 30}), sim)
    assert body["detail"] == {"due_date": f"must be an ISO 8601 date-time: epoch timestamp out of range: {'9' * 30}"}


def test_a_limit_of_non_ascii_digits_is_refused(client: httpx.Client, sim: Simulator) -> None:
    # int() reads Arabic-Indic ٣ as 3
    body = refused(client.get(TICKETS, params={"limit": "٣"}), sim)
    assert body["detail"] == {"limit": "must be an integer from 1 to 200, got '٣'"}


@pytest.mark.parametrize("cursor", ["abc.é", "①.①", "é"])
def test_a_non_ascii_cursor_is_an_invalid_cursor(client: httpx.Client, sim: Simulator, cursor: str) -> None:
    # hmac.compare_digest raises TypeError on non-ASCII str: 500
    refused(client.get(TICKETS, params={"cursor": cursor}), sim, 400, "InvalidCursorError")
    assert sim.requests() == []


def test_pass_through_query_nested_too_deep_is_refused(client: httpx.Client, sim: Simulator) -> None:
    # flatten_query recursed once per level: RecursionError, 500
    body = refused(client.get(f"{TICKETS}?pass_through" + "[a]" * 2000 + "=1"), sim)
    assert body["detail"] == {"pass_through[a]": f"nested 2000 levels deep; at most {MAX_DEEP_SEGMENTS}"}
    assert sim.requests() == []


def test_pass_through_query_at_the_nesting_bound_reaches_downstream(client: httpx.Client, sim: Simulator) -> None:
    nested = "[a]" * (MAX_DEEP_SEGMENTS - 1)
    response = client.get(f"{TICKETS}?pass_through[x]{nested}=1")
    assert response.status_code == 200, response.json()
    assert [f"x{nested}", "1"] in [list(pair) for pair in sim.requests()[-1]["query"]]


# -- request size ------------------------------------------------------------------------------

def test_request_headers_over_the_cap_are_431(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(TICKETS, headers={"x-padding": "a" * MAX_HEADER_BYTES})
    body = refused(response, sim, 431, "RequestHeadersValidationError")
    assert body["error"] == "Request Header Fields Too Large"
    assert response.headers["request-id"]
    assert sim.requests() == []


def test_request_headers_over_the_cap_are_431_before_routing(client: httpx.Client, sim: Simulator) -> None:
    response = client.get("/no/such/route", headers={"x-padding": "a" * MAX_HEADER_BYTES})
    assert error_of(response) == (431, "RequestHeadersValidationError")


def test_a_url_over_the_cap_is_414(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(TICKETS, params={"pass_through[q]": "x" * MAX_URL_BYTES})
    body = refused(response, sim, 414, "RequestValidationError")
    assert body["error"] == "Request-URI Too Long"
    assert sim.requests() == []

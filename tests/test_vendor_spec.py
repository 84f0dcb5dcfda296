"""unigate.testing.vendor_spec: exchanges checked against a vendor's OpenAPI 3 description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from unigate.simulation import BackgroundServer, SimulatorControl
from unigate.testing.vendor_spec import SpecCheck, SpecCheckTransport, SpecViolation, VendorSpec

ERROR = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
ITEM = {"type": "object", "required": ["id", "name", "closed_at"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "closed_at": {"type": "string", "format": "date-time", "nullable": True},
                       "reason": {"type": "string", "nullable": True, "enum": ["done", "dropped"]},
                       "url": {"type": "string", "format": "uri"}}}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "paths": {
        "/things": {
            "get": {"operationId": "things/list",
                    "parameters": [{"$ref": "#/components/parameters/page"},
                                   {"name": "state", "in": "query",
                                    "schema": {"type": "string", "enum": ["open", "closed"]}},
                                   {"name": "ids", "in": "query",
                                    "schema": {"type": "array", "items": {"type": "integer"}}},
                                   {"name": "tags", "in": "query", "explode": False,
                                    "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 2}},
                                   {"name": "X-Tenant", "in": "header", "required": True,
                                    "schema": {"type": "string", "minLength": 2}}],
                    "responses": {"200": {"description": "ok", "headers": {
                        "Link": {"$ref": "#/components/headers/link"},
                        "X-Total": {"required": True, "schema": {"type": "integer"}}},
                        "content": {"application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/item"}}}}}}},
            "post": {"operationId": "things/create",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["name"], "additionalProperties": False,
                         "properties": {"name": {"type": "string"}}}}}},
                     "responses": {"201": {"description": "made", "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/item"}}}},
                                   "422": {"$ref": "#/components/responses/invalid"}}}},
        "/things/{thing_id}": {
            "parameters": [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"operationId": "things/get", "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/item"}}}},
                "304": {"description": "not modified"}}},
            "delete": {"operationId": "things/delete", "responses": {"204": {"description": "gone"}}}},
        "/things/special": {"get": {"operationId": "things/special", "responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    },
    "components": {
        "schemas": {"item": ITEM, "error": ERROR},
        "parameters": {"page": {"name": "page", "in": "query", "schema": {"type": "integer"}}},
        "headers": {"link": {"schema": {"type": "string", "pattern": "^<"}}},
        "responses": {"invalid": {"description": "bad", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/error"}}}}},
    },
}
GOOD = {"id": 1, "name": "one", "closed_at": None, "reason": None, "url": "https://x.test/things/1"}


@pytest.fixture
def spec() -> VendorSpec:
    return VendorSpec(DOCUMENT, undeclared={401: "#/components/schemas/error"})


def violation(check: Any) -> str:
    with pytest.raises(SpecViolation) as caught:
        check()
    return str(caught.value)


def test_literal_segments_win_over_parameters(spec: VendorSpec) -> None:
    assert spec.operation("GET", "/things/special").operation_id == "things/special"
    assert spec.operation("GET", "/things/7").path_params == {"thing_id": "7"}


def test_base_path_is_stripped_first() -> None:
    spec = VendorSpec(DOCUMENT, base_path="/api/v3")
    assert spec.operation("GET", "/api/v3/things/7").operation_id == "things/get"
    assert violation(lambda: spec.operation("GET", "/things/7")) == "GET /things/7: outside the base path /api/v3"


def test_unknown_path_and_method_are_violations(spec: VendorSpec) -> None:
    assert violation(lambda: spec.operation("GET", "/nope")) == "GET /nope: no path of the description matches"
    assert "has no PATCH operation" in violation(lambda: spec.operation("PATCH", "/things/1"))


def test_a_valid_response_passes_nullable_included(spec: VendorSpec) -> None:
    assert spec.check_response("GET", "/things/1", 200, body=GOOD).operation_id == "things/get"


def test_a_wrong_type_names_operation_status_and_json_pointer(spec: VendorSpec) -> None:
    message = violation(lambda: spec.check_response("GET", "/things", 200, body=[GOOD, {**GOOD, "id": "2"}]))
    assert message == 'things/list (GET /things) response 200: /1/id: "2" is not of type "integer"'


def test_nullable_enum_still_refuses_other_values(spec: VendorSpec) -> None:
    message = violation(lambda: spec.check_response("GET", "/things/1", 200, body={**GOOD, "reason": "meh"}))
    assert message.startswith("things/get (GET /things/{thing_id}) response 200: /reason: ")


def test_formats_are_asserted(spec: VendorSpec) -> None:
    message = violation(lambda: spec.check_response("GET", "/things/1", 200, body={**GOOD, "closed_at": "yesterday"}))
    assert "/closed_at: " in message and "date-time" in message


def test_a_missing_required_property_points_at_its_object(spec: VendorSpec) -> None:
    body = {k: v for k, v in GOOD.items() if k != "name"}
    assert "response 200: /: " in violation(lambda: spec.check_response("GET", "/things/1", 200, body=body))


def test_undeclared_status_is_a_violation_unless_listed(spec: VendorSpec) -> None:
    message = violation(lambda: spec.check_response("GET", "/things/1", 500, body={"message": "x"}))
    assert message == "things/get (GET /things/{thing_id}) response 500: status not declared (declared: 200, 304)"
    spec.check_response("GET", "/things/1", 401, body={"message": "Bad credentials"})
    assert "/: " in violation(lambda: spec.check_response("GET", "/things/1", 401, body={}))


def test_an_undeclared_status_listed_without_schema_has_no_body() -> None:
    spec = VendorSpec(DOCUMENT, undeclared={304: None})
    spec.check_response("GET", "/things", 304)
    assert "declares no body" in violation(lambda: spec.check_response("GET", "/things", 304, body={}))


def test_responses_declared_without_content_must_have_no_body(spec: VendorSpec) -> None:
    spec.check_response("DELETE", "/things/1", 204)
    spec.check_response("GET", "/things/1", 304)
    assert "declares no body" in violation(lambda: spec.check_response("DELETE", "/things/1", 204, body={}))


def test_a_declared_body_must_be_sent(spec: VendorSpec) -> None:
    assert "none was sent" in violation(lambda: spec.check_response("GET", "/things/1", 200))


def test_response_refs_resolve(spec: VendorSpec) -> None:
    spec.check_response("POST", "/things", 422, body={"message": "Validation Failed"})
    assert "response 422: /message" in violation(lambda: spec.check_response("POST", "/things", 422,
                                                                             body={"message": 3}))


def test_request_query_parameters_are_declared_and_typed(spec: VendorSpec) -> None:
    spec.check_request("GET", "/things", query=[("page", "2"), ("state", "open")])
    assert violation(lambda: spec.check_request("GET", "/things", query=[("pages", "2")])) == \
        "things/list (GET /things) request: query parameter 'pages' is not declared"
    assert "query parameter 'page': /: " in violation(
        lambda: spec.check_request("GET", "/things", query=[("page", "two")]))
    assert "query parameter 'state'" in violation(
        lambda: spec.check_request("GET", "/things", query=[("state", "all")]))


def test_array_query_parameters_take_every_occurrence_or_commas_when_not_exploded(spec: VendorSpec) -> None:
    spec.check_request("GET", "/things", query=[("ids", "1"), ("ids", "2"), ("tags", "a,b")])
    assert "query parameter 'ids': /1: " in violation(
        lambda: spec.check_request("GET", "/things", query=[("ids", "1"), ("ids", "x")]))
    assert "query parameter 'tags'" in violation(
        lambda: spec.check_request("GET", "/things", query=[("tags", "a,b,c")]))


def test_header_parameters_are_checked_when_headers_are_given(spec: VendorSpec) -> None:
    spec.check_request("GET", "/things", headers={"x-tenant": "acme"})
    spec.check_request("GET", "/things")  # no headers given: not looked at
    assert violation(lambda: spec.check_request("GET", "/things", headers={})) == \
        "things/list (GET /things) request: required header 'X-Tenant' is missing"
    assert "header parameter 'X-Tenant'" in violation(
        lambda: spec.check_request("GET", "/things", headers={"X-Tenant": "a"}))


def test_declared_response_headers_are_checked_when_headers_are_given(spec: VendorSpec) -> None:
    json_headers = {"content-type": "application/json", "x-total": "1"}
    spec.check_response("GET", "/things", 200, body=[GOOD], headers={**json_headers, "Link": '<u>; rel="next"'})
    assert violation(lambda: spec.check_response("GET", "/things", 200, body=[GOOD],
                                                 headers={"content-type": "application/json"})) == \
        "things/list (GET /things) response 200: required header 'X-Total' is missing"
    assert "header 'X-Total': /: " in violation(lambda: spec.check_response(
        "GET", "/things", 200, body=[GOOD], headers={**json_headers, "x-total": "many"}))
    assert "header 'Link': /: " in violation(lambda: spec.check_response(
        "GET", "/things", 200, body=[GOOD], headers={**json_headers, "link": "u"}))


def test_a_json_body_must_be_sent_as_json_when_headers_are_given(spec: VendorSpec) -> None:
    assert violation(lambda: spec.check_response("GET", "/things/1", 200, body=GOOD,
                                                 headers={"content-type": "text/plain"})) == \
        "things/get (GET /things/{thing_id}) response 200: a JSON body sent as 'text/plain'"
    spec.check_response("GET", "/things/1", 200, body=GOOD, headers={"Content-Type": "application/vnd.x+json"})


def test_request_path_parameters_are_typed(spec: VendorSpec) -> None:
    assert "path parameter 'thing_id'" in violation(lambda: spec.check_request("GET", "/things/abc"))


def test_request_bodies_are_checked_and_required(spec: VendorSpec) -> None:
    spec.check_request("POST", "/things", body={"name": "x"})
    assert violation(lambda: spec.check_request("POST", "/things")) == \
        "things/create (POST /things) request: a body is required"
    assert "request body: /: " in violation(lambda: spec.check_request("POST", "/things", body={"nam": "x"}))


# -- the ASGI hook ------------------------------------------------------------------------------

async def _list(request: Request) -> Response:
    broken = request.query_params.get("broken") == "1"
    return JSONResponse([{**GOOD, "id": "1"}] if broken else [GOOD], headers={"X-Total": "1"})


async def _delete(request: Request) -> Response:
    return Response(status_code=204)


@pytest.fixture
def served() -> Iterator[tuple[httpx.Client, SpecCheck]]:
    app = Starlette(routes=[Route("/things", _list), Route("/things/{thing_id}", _delete, methods=["DELETE"])])
    checked = SpecCheck(app, VendorSpec(DOCUMENT))
    with BackgroundServer(checked) as server, \
            httpx.Client(base_url=server.url, headers={"X-Tenant": "acme"}) as client:
        yield client, checked


def test_the_hook_checks_every_exchange_and_passes_answers_through(served: tuple[httpx.Client, SpecCheck]) -> None:
    client, checked = served
    assert client.get("/things", params={"page": 1}).json() == [GOOD]
    assert client.delete("/things/3").status_code == 204
    assert checked.checked == 2
    checked.assert_clean()


def test_the_hook_collects_response_violations(served: tuple[httpx.Client, SpecCheck]) -> None:
    client, checked = served
    with checked.requests_unchecked():
        assert client.get("/things", params={"broken": "1"}).status_code == 200
    message = violation(checked.assert_clean)
    assert message == ("1 exchange(s) break the vendor's description:\n"
                       '- things/list (GET /things) response 200: /0/id: "1" is not of type "integer"')
    checked.assert_clean()  # reported once


def test_the_hook_collects_request_violations(served: tuple[httpx.Client, SpecCheck]) -> None:
    client, checked = served
    client.get("/things", params={"per_page": 5})
    assert "query parameter 'per_page' is not declared" in violation(checked.assert_clean)


def test_the_hook_checks_headers_too(served: tuple[httpx.Client, SpecCheck]) -> None:
    client, checked = served
    client.get("/things", headers={"X-Tenant": ""})
    assert "header parameter 'X-Tenant'" in violation(checked.assert_clean)


# -- the httpx transport ----------------------------------------------------------------------------

def _things(request: httpx.Request) -> httpx.Response:
    if request.method == "DELETE":
        return httpx.Response(204)
    return httpx.Response(200, json=[GOOD] if "broken" not in str(request.url) else [{}], headers={"X-Total": "1"})


def test_the_transport_checks_what_a_client_sends_and_receives() -> None:
    transport = SpecCheckTransport(httpx.MockTransport(_things), VendorSpec(DOCUMENT))
    with httpx.Client(transport=transport, base_url="http://vendor.test", headers={"X-Tenant": "acme"}) as client:
        assert client.get("/things", params={"page": 2}).json() == [GOOD]
        assert client.delete("/things/1").status_code == 204
        transport.assert_clean()
        client.get("/things", params={"broken": "1"})
    assert transport.checked == 3
    message = violation(transport.assert_clean)
    assert "query parameter 'broken' is not declared" in message and "response 200: /0: " in message


def test_the_transport_works_for_async_clients_too() -> None:
    import asyncio

    async def run() -> SpecCheckTransport:
        transport = SpecCheckTransport(httpx.MockTransport(_things), VendorSpec(DOCUMENT))
        async with httpx.AsyncClient(transport=transport, base_url="http://vendor.test") as client:
            assert (await client.get("/things", headers={"X-Tenant": "acme"})).json() == [GOOD]
        return transport

    transport = asyncio.run(run())
    assert transport.checked == 1
    transport.assert_clean()


# -- edges ---------------------------------------------------------------------------------------

MORE: dict[str, Any] = {"openapi": "3.0.3", "paths": {
    "/search": {"get": {"operationId": "search", "parameters": [
        {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "score", "in": "query", "schema": {"type": "number", "minimum": 0, "exclusiveMinimum": True}},
        {"name": "exact", "in": "query", "schema": {"type": "boolean"}}],
        "responses": {"200": {"description": "csv", "content": {"text/csv": {"schema": {"type": "string"}}}}}}},
    "/notes": {"post": {"operationId": "notes/create", "requestBody": {"content": {"application/json": {
        "schema": {"type": "object"}}}}, "responses": {"201": {"description": "made"}}}},
    "/files": {"put": {"operationId": "files/put", "requestBody": {"required": True, "content": {
        "application/octet-stream": {}}}, "responses": {"204": {"description": "stored"}}}},
    "/remote": {"get": {"operationId": "remote", "responses": {"200": {"$ref": "other.json#/responses/ok"}}}},
}}


def test_a_required_query_parameter_must_be_there() -> None:
    assert violation(lambda: VendorSpec(MORE).check_request("GET", "/search")) == \
        "search (GET /search) request: required query parameter 'q' is missing"


def test_numbers_and_booleans_are_read_from_the_query_string() -> None:
    spec = VendorSpec(MORE)
    spec.check_request("GET", "/search", query=[("q", "x"), ("score", "0.5"), ("exact", "true")])
    assert "query parameter 'score'" in violation(
        lambda: spec.check_request("GET", "/search", query=[("q", "x"), ("score", "0")]))  # exclusive minimum
    assert "query parameter 'exact'" in violation(
        lambda: spec.check_request("GET", "/search", query=[("q", "x"), ("exact", "maybe")]))


def test_bodies_that_are_not_json_are_not_judged_by_schema() -> None:
    spec = VendorSpec(MORE)
    spec.check_response("GET", "/search", 200, body="a,b")
    spec.check_request("PUT", "/files", body="raw bytes")
    spec.check_request("POST", "/notes")  # an optional body may be left out


def test_openapi_3_1_schemas_are_json_schema_already() -> None:
    document = {"openapi": "3.1.0", "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {
        "description": "ok", "content": {"application/json": {"schema": {"type": ["string", "null"]}}}}}}}}}
    VendorSpec(document).check_response("GET", "/x", 200, body=None)
    assert "/: 1 is not of type" in violation(lambda: VendorSpec(document).check_response("GET", "/x", 200, body=1))


def test_only_local_references_are_followed() -> None:
    assert violation(lambda: VendorSpec(MORE).check_response("GET", "/remote", 200, body={})) == \
        "only local references are supported, not 'other.json#/responses/ok'"


def test_the_transport_refuses_the_wrong_kind_of_client() -> None:
    import asyncio

    with pytest.raises(TypeError, match="async transport"), \
            httpx.Client(transport=SpecCheckTransport(httpx.AsyncHTTPTransport(), VendorSpec(DOCUMENT))) as client:
        client.get("http://vendor.test/things")

    async def run() -> None:
        transport = SpecCheckTransport(httpx.HTTPTransport(), VendorSpec(DOCUMENT))
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("http://vendor.test/things")

    with pytest.raises(TypeError, match="sync transport"):
        asyncio.run(run())


async def _text(request: Request) -> Response:
    return Response("oops", media_type="text/plain", headers={"X-Total": "0"})


def test_the_hook_reports_a_body_that_is_not_json() -> None:
    checked = SpecCheck(Starlette(routes=[Route("/things", _text)]), VendorSpec(DOCUMENT), check_requests=False)
    with BackgroundServer(checked) as server:
        assert httpx.get(f"{server.url}/things").text == "oops"
    assert violation(checked.assert_clean) == ("1 exchange(s) break the vendor's description:\n"
                                               "- things/list (GET /things) response 200: /: \"oops\" is not of type "
                                               "\"array\"")


def test_inside_a_simulator_control_injected_faults_are_not_judged() -> None:
    app = Starlette(routes=[Route("/things", _list)])
    control = SimulatorControl(app)
    checked = SpecCheck.inside(control, VendorSpec(DOCUMENT), check_requests=False)
    control.add_fault(path="/things", status=500, times=1)
    with BackgroundServer(control) as server:
        assert httpx.get(f"{server.url}/things").status_code == 500  # a fault: not the vendor's answer
        assert httpx.get(f"{server.url}/things").json() == [GOOD]
    assert (control.app, checked.checked) == (checked, 1)
    checked.assert_clean()

"""`GET /openapi.json` (Apideck's contract plus unigate's additions) and the reference page at `/docs`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from unigate.testing import GatewayHarness

ROOT = Path(__file__).resolve().parent.parent
APIDECK = yaml.safe_load((ROOT / "src/unigate/openapi/issue-tracking.yml").read_text())
WRITES = ("post", "patch")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A gateway, and a client sending no credentials at all."""
    harness = GatewayHarness(tmp_path_factory.mktemp("openapi"))
    try:
        with harness.anonymous() as client:
            yield client
    finally:
        harness.stop()


@pytest.fixture(scope="module")
def spec(gateway: httpx.Client) -> dict[str, Any]:
    response = gateway.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return orjson.loads(response.content)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_openapi_json_is_an_openapi_3_document_whose_references_all_resolve(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    unresolved = sorted({r for r in refs(spec) if not r.startswith("#/") or _missing(spec, r)})
    assert unresolved == []


def _missing(spec: dict[str, Any], ref: str) -> bool:
    try:
        resolve(spec, ref)
    except (KeyError, TypeError):
        return True
    return False


def test_openapi_json_loads_in_schemathesis_with_every_operation(spec: dict[str, Any]) -> None:
    import schemathesis

    operations = [result.ok() for result in schemathesis.openapi.from_dict(spec).get_all_operations()]
    expected = {(m.upper(), p) for p, item in APIDECK["paths"].items() for m in item if m in ("get", "post", "patch", "delete")}
    assert {(o.method.upper(), o.path) for o in operations} == expected


def test_openapi_json_has_every_issue_tracking_path_and_operation_of_apideck(spec: dict[str, Any]) -> None:
    assert set(spec["paths"]) == set(APIDECK["paths"])
    for path, item in APIDECK["paths"].items():
        assert {m: o["operationId"] for m, o in spec["paths"][path].items()} == \
               {m: o["operationId"] for m, o in item.items()}, path
    assert spec["components"]["schemas"]["Ticket"] == APIDECK["components"]["schemas"]["Ticket"]


def test_create_and_update_responses_document_meta_warnings_of_field_and_message(spec: dict[str, Any]) -> None:
    warning = spec["components"]["schemas"]["UnigateWarning"]
    assert warning["required"] == ["field", "message"] and set(warning["properties"]) == {"field", "message"}
    writes = [op for item in spec["paths"].values() for method, op in item.items() if method in WRITES]
    assert len(writes) == 4  # tickets and comments, add and update
    for op in writes:
        schema = resolve(spec, resolve(spec, op["responses"]["200" if "200" in op["responses"] else "201"]["$ref"])
                         ["content"]["application/json"]["schema"]["$ref"])
        warnings = schema["properties"]["meta"]["properties"]["warnings"]
        assert warnings["type"] == "array" and warnings["items"] == {"$ref": "#/components/schemas/UnigateWarning"}
        assert "meta" not in schema.get("required", [])  # optional


def test_list_responses_meta_warnings_may_carry_field_and_message(spec: dict[str, Any]) -> None:
    tickets = resolve(spec, "#/components/schemas/GetTicketsResponse")
    assert tickets["properties"]["meta"] == {"$ref": "#/components/schemas/Meta"}
    items = spec["components"]["schemas"]["Meta"]["properties"]["warnings"]["items"]
    assert {"$ref": "#/components/schemas/UnigateWarning"} in items["anyOf"]
    assert APIDECK["components"]["schemas"]["Meta"]["properties"]["warnings"]["items"] in items["anyOf"]


def test_strict_header_is_a_parameter_of_every_write_and_of_no_read(spec: dict[str, Any]) -> None:
    strict = spec["components"]["parameters"]["UnigateStrict"]
    assert (strict["name"], strict["in"], strict["schema"]) == ("x-unigate-strict", "header",
                                                                {"type": "boolean", "default": False})
    assert "400" in strict["description"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            has = {"$ref": "#/components/parameters/UnigateStrict"} in op.get("parameters", [])
            assert has == (method in WRITES), (method, path)


def test_openapi_json_is_cached_and_revalidated_with_its_etag(gateway: httpx.Client) -> None:
    first = gateway.get("/openapi.json")
    assert first.headers["cache-control"] == "public, max-age=3600"
    again = gateway.get("/openapi.json", headers={"if-none-match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    changed = gateway.get("/openapi.json", headers={"if-none-match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_the_packaged_spec_is_apideck_issue_tracking_10_34() -> None:
    assert (APIDECK["info"]["title"], APIDECK["info"]["version"]) == ("Issue Tracking API", "10.34.0")


def test_writing_to_openapi_json_is_405_in_the_error_schema(gateway: httpx.Client) -> None:
    response = gateway.post("/openapi.json")
    assert response.status_code == 405 and response.json()["type_name"] == "RequestValidationError"


ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)\"""")


def test_docs_page_assets_are_all_served_by_the_gateway(gateway: httpx.Client) -> None:
    page = gateway.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = ASSET.findall(page.text)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/unigate-docs.js"} <= set(assets)
    assert not re.search(r"(https?:)?//", page.text.replace("<!DOCTYPE html>", ""))  # no external URL at all
    for url in assets:
        response = gateway.get(url)
        assert response.status_code == 200, url
        kind = {"css": "text/css", "js": "text/javascript", "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert response.headers["content-type"].startswith(kind), url
        assert len(response.content) > 100 or url.endswith(".png"), url


def test_docs_page_loads_the_gateways_own_description_without_the_external_validator(gateway: httpx.Client) -> None:
    init = gateway.get("/docs/unigate-docs.js").text
    assert 'url: "/openapi.json"' in init and "validatorUrl: null" in init
    assert "http" not in init


def test_unknown_docs_file_is_404_and_paths_outside_the_bundle_are_not_served(gateway: httpx.Client) -> None:
    for path in ("/docs/index.j2", "/docs/swagger-ui.js.map", "/docs/..%2F__init__.py"):
        response = gateway.get(path)
        assert response.status_code == 404 and response.json()["type_name"] == "EntityNotFoundError", path

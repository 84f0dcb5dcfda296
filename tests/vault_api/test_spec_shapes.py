"""The Vault API's answers have vault.yml's shapes (fixtures/specs/apideck/vault.yml): each success is
checked against its operation's response schema (OpenAPI 3.0 read as JSON Schema: ``nullable`` is
``null`` allowed), and the paths and methods served are the spec's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml

from unigate.testing import Simulator
from unigate.vault_api import ROUTES

from .conftest import CONNECTION, MAPPINGS, connect

SPEC = yaml.safe_load((Path(__file__).parents[2] / "fixtures/specs/apideck/vault.yml").read_text())


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: refs into ``$defs``, ``nullable`` as a null alternative."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k not in ("nullable", "discriminator", "example",
                                                                    "properties")}
    if isinstance(node.get("properties"), dict):   # a property may be named like a keyword (`example`)
        out["properties"] = {k: json_schema(v) for k, v in node["properties"].items()}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") else out


DEFS = json_schema(SPEC["components"]["schemas"])


def response_schema(path: str, method: str) -> dict[str, Any]:
    responses = SPEC["paths"][path][method]["responses"]
    ok = responses.get("200")
    name = ok["$ref"].rpartition("/")[2]
    schema = SPEC["components"]["responses"][name]["content"]["application/json"]["schema"]
    return {"$defs": DEFS, **json_schema(schema)}


def check(response: httpx.Response, path: str, method: str) -> None:
    assert response.status_code == 200, response.text
    errors = [str(e) for e in jsonschema_rs.validator_for(response_schema(path, method)).iter_errors(response.json())]
    assert errors == [], f"{method.upper()} {path}: {errors}"


@pytest.fixture
def connected(vault: httpx.Client, sim: Simulator) -> httpx.Client:
    connect(vault, sim, metadata={"plan": "gold"})
    vault.post(f"{MAPPINGS}/issue-tracking+tickets+slug", json={"value": "$.slug"})
    return vault


def test_consumer_answers(connected: httpx.Client, consumer: str) -> None:
    check(connected.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"user_name": "Ada"}}),
          "/vault/consumers", "post")
    check(connected.get("/vault/consumers", params={"limit": 2}), "/vault/consumers", "get")
    one = "/vault/consumers/{consumer_id}"
    check(connected.get(f"/vault/consumers/{consumer}"), one, "get")
    check(connected.patch(f"/vault/consumers/{consumer}", json={"metadata": {"email": "a@b.test"}}), one, "patch")
    check(connected.delete(f"/vault/consumers/{consumer}"), one, "delete")


def test_connection_answers(connected: httpx.Client) -> None:
    one = "/vault/connections/{unified_api}/{service_id}"
    check(connected.get("/vault/connections"), "/vault/connections", "get")
    check(connected.get(CONNECTION), one, "get")
    check(connected.patch(CONNECTION, json={"enabled": True}), one, "patch")
    check(connected.post(f"{CONNECTION}/validate", json={}), f"{one}/validate", "post")
    check(connected.get(f"{CONNECTION}/tickets/custom-mappings"), f"{one}/{{resource}}/custom-mappings", "get")
    check(connected.get("/vault/connections/issue-tracking/codimir"), one, "get")   # available


def test_custom_mapping_answers(connected: httpx.Client) -> None:
    one = "/vault/custom-mappings/{unified_api}/{service_id}/{target_field_id}"
    check(connected.get(MAPPINGS), "/vault/custom-mappings/{unified_api}/{service_id}", "get")
    check(connected.get(f"{MAPPINGS}/issue-tracking+tickets+slug"), one, "get")
    check(connected.patch(f"{MAPPINGS}/issue-tracking+tickets+slug", json={"value": "$.id"}), one, "patch")
    check(connected.post(f"{MAPPINGS}/issue-tracking+tickets+kind", json={"value": "$.type"}), one, "post")


def test_session_answer(connected: httpx.Client) -> None:
    check(connected.post("/vault/sessions", json={"settings": {"show_logs": False}, "theme": {"vault_name": "Acme"}}),
          "/vault/sessions", "post")


def test_the_routes_are_the_specs_paths_and_methods() -> None:
    # ours beyond Apideck's Vault: the audit trail, OAuth clients, connector capabilities (docs/vault-api.md)
    extensions = {("vault", "audit"), ("vault", "oauth-clients", "{unified_api}", "{service_id}"),
                  ("vault", "connectors"), ("vault", "connectors", "{service_id}")}
    served = {("/" + "/".join(r.pattern), m.lower()) for r in ROUTES for m in r.methods if r.pattern not in extensions}
    described = {(p, m) for p, ops in SPEC["paths"].items() for m in ops if m in ("get", "post", "patch", "delete")}
    assert served == described

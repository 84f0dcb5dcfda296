"""The Webhook API's subscription operations, held to webhook.yml (fixtures/specs/apideck/webhook.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml
from apideck_unify import models

from unigate.testing import GatewayHarness
from unigate.testing.sdk import new_sdk

SPEC = yaml.safe_load((Path(__file__).parents[2] / "fixtures/specs/apideck/webhook.yml").read_text())
NEW = {"unified_api": "issue-tracking", "status": "enabled", "delivery_url": "https://receiver.example/hook",
       "events": ["issue-tracking.ticket.created"], "description": "tickets"}


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 as JSON Schema: refs into ``$defs``, ``nullable`` as a null alternative."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k not in ("nullable", "example", "properties")}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {k: json_schema(v) for k, v in node["properties"].items()}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") else out


DEFS = json_schema(SPEC["components"]["schemas"])


def check(response: httpx.Response, path: str, method: str, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    name = SPEC["paths"][path][method]["responses"][str(status)]["$ref"].rpartition("/")[2]
    schema = SPEC["components"]["responses"][name]["content"]["application/json"]["schema"]
    errors = [str(e) for e in jsonschema_rs.validator_for({"$defs": DEFS, **json_schema(schema)})
              .iter_errors(response.json())]
    assert errors == [], f"{method.upper()} {path}: {errors}"
    return response.json()


def test_every_answer_has_the_spec_s_shape(api: httpx.Client) -> None:
    one = "/webhook/webhooks/{id}"
    created = check(api.post("/webhook/webhooks", json=NEW), "/webhook/webhooks", "post", 201)
    sub_id = created["data"]["id"]
    check(api.get("/webhook/webhooks"), "/webhook/webhooks", "get")
    check(api.get(f"/webhook/webhooks/{sub_id}"), one, "get")
    check(api.patch(f"/webhook/webhooks/{sub_id}", json={"status": "disabled"}), one, "patch")
    check(api.delete(f"/webhook/webhooks/{sub_id}"), one, "delete")


def test_create_answers_the_subscription_and_its_secret_once(api: httpx.Client) -> None:
    created = api.post("/webhook/webhooks", json=NEW).json()
    assert created["secret"].startswith("whsec_")
    assert {k: created["data"][k] for k in NEW} == NEW
    again = api.get(f"/webhook/webhooks/{created['data']['id']}").json()
    assert "secret" not in again and "secret" not in again["data"]


def test_update_changes_only_what_it_names(api: httpx.Client) -> None:
    sub_id = api.post("/webhook/webhooks", json=NEW).json()["data"]["id"]
    updated = api.patch(f"/webhook/webhooks/{sub_id}", json={"events": ["*"]}).json()["data"]
    assert (updated["events"], updated["delivery_url"], updated["status"]) == (["*"], NEW["delivery_url"], "enabled")


def test_delete_removes_the_subscription(api: httpx.Client) -> None:
    sub_id = api.post("/webhook/webhooks", json=NEW).json()["data"]["id"]
    assert api.delete(f"/webhook/webhooks/{sub_id}").json()["data"]["id"] == sub_id
    assert api.get(f"/webhook/webhooks/{sub_id}").status_code == 404


def test_the_list_pages_with_cursors(api: httpx.Client) -> None:
    ids = [api.post("/webhook/webhooks", json=NEW).json()["data"]["id"] for _ in range(3)]
    first = api.get("/webhook/webhooks", params={"limit": 2}).json()
    second = api.get("/webhook/webhooks", params={"limit": 2, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert [s["id"] for s in first["data"] + second["data"]] == sorted(ids)
    assert second["meta"]["cursors"]["next"] is None


@pytest.mark.parametrize(("change", "field"), [
    ({"unified_api": "crm"}, "unified_api"),
    ({"events": ["crm.contact.created"]}, "events"),
    ({"events": []}, "events"),
    ({"delivery_url": "ftp://receiver.example"}, "delivery_url"),
    ({"status": "paused"}, "status"),
    ({"secret": "mine"}, "secret"),
])
def test_an_invalid_subscription_is_refused_naming_the_field(api: httpx.Client, change: dict[str, Any],
                                                             field: str) -> None:
    answer = api.post("/webhook/webhooks", json={**NEW, **change})
    assert answer.status_code == 400
    assert any(key.startswith(field) for key in answer.json()["detail"])


def test_another_app_cannot_see_a_subscription(api_harness: GatewayHarness, api: httpx.Client) -> None:
    sub_id = api.post("/webhook/webhooks", json=NEW).json()["data"]["id"]
    _, other_key = api_harness.store.create_app("Other", app_id="other-app")
    answer = httpx.get(f"{api_harness.server.url}/webhook/webhooks/{sub_id}",
                       headers={"authorization": f"Bearer {other_key}", "x-apideck-app-id": "other-app"})
    assert answer.status_code == 404
    assert answer.json()["type_name"] == "EntityNotFoundError"


def test_a_wrong_api_key_is_unauthorized(api_harness: GatewayHarness) -> None:
    answer = httpx.get(f"{api_harness.server.url}/webhook/webhooks",
                       headers={"authorization": "Bearer nope", "x-apideck-app-id": "test-app"})
    assert (answer.status_code, answer.json()["type_name"]) == (401, "UnauthorizedError")


def test_the_official_sdk_manages_subscriptions(api_harness: GatewayHarness) -> None:
    sdk = new_sdk(api_harness)
    created = sdk.webhook.webhooks.create(**{**NEW, "events": [models.WebhookEventType.ISSUE_TRACKING_TICKET_CREATED]})
    sub_id = created.create_webhook_response.data.id
    sdk.webhook.webhooks.update(id=sub_id, status="disabled")
    found = sdk.webhook.webhooks.get(id=sub_id).get_webhook_response.data
    listed = sdk.webhook.webhooks.list().get_webhooks_response.data
    assert (found.status, [w.id for w in listed]) == ("disabled", [sub_id])
    sdk.webhook.webhooks.delete(id=sub_id)
    assert sdk.webhook.webhooks.list().get_webhooks_response.data == []


def test_subscription_changes_are_in_the_audit_trail_without_the_secret(api: httpx.Client) -> None:
    created = api.post("/webhook/webhooks", json=NEW).json()
    sub_id = created["data"]["id"]
    api.patch(f"/webhook/webhooks/{sub_id}", json={"status": "disabled"})
    api.delete(f"/webhook/webhooks/{sub_id}")
    trail = [e for e in api.get("/vault/audit").json()["data"] if e["target"] == sub_id]
    assert [e["action"] for e in trail] == ["webhook.deleted", "webhook.updated", "webhook.created"]
    assert trail[1]["changes"] == {"status": {"from": "enabled", "to": "disabled"}}
    assert created["secret"] not in str(trail)

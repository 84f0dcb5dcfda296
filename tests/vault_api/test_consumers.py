"""Consumers over the Vault API: add (an upsert), get, update, delete and list, as vault.yml says."""

from __future__ import annotations

import httpx

from unigate.testing import GatewayHarness, Simulator

from .conftest import TICKETS, connect, error


def test_add_creates_the_consumer_with_its_metadata(vault: httpx.Client, consumer: str) -> None:
    response = vault.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"account_name": "Acme",
                                                                                           "email": "it@acme.test"}})
    assert response.status_code == 200
    body = response.json()
    assert (body["status_code"], body["status"]) == (200, "OK")
    assert body["data"]["consumer_id"] == consumer
    assert body["data"]["metadata"] == {"account_name": "Acme", "email": "it@acme.test"}
    assert (body["data"]["connections"], body["data"]["services"]) == ([], [])


def test_add_of_a_known_consumer_merges_its_metadata(vault: httpx.Client, consumer: str) -> None:
    vault.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"account_name": "Acme"}})
    again = vault.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"user_name": "Ada"}})
    assert again.status_code == 200
    assert again.json()["data"]["metadata"] == {"account_name": "Acme", "user_name": "Ada"}


def test_get_shows_the_consumers_connections(vault: httpx.Client, consumer: str, sim: Simulator) -> None:
    connect(vault, sim)
    data = vault.get(f"/vault/consumers/{consumer}").json()["data"]
    assert data["services"] == ["agentsmesh"]
    [connection] = data["connections"]
    assert (connection["id"], connection["state"], connection["health"]) == ("issue-tracking+agentsmesh",
                                                                               "callable", "ok")


def test_unknown_consumer_is_not_found(vault: httpx.Client) -> None:
    error(vault.get("/vault/consumers/nobody-here"), 404, "EntityNotFoundError")


def test_update_merges_metadata_and_null_removes_a_key(vault: httpx.Client, consumer: str) -> None:
    vault.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"account_name": "Acme",
                                                                               "email": "it@acme.test"}})
    updated = vault.patch(f"/vault/consumers/{consumer}", json={"metadata": {"email": None, "user_name": "Ada"}})
    assert updated.status_code == 200
    assert updated.json()["data"]["metadata"] == {"account_name": "Acme", "user_name": "Ada"}


def test_delete_removes_the_consumer_with_its_connections(vault: httpx.Client, consumer: str,
                                                          sim: Simulator) -> None:
    connect(vault, sim)
    deleted = vault.delete(f"/vault/consumers/{consumer}")
    assert deleted.status_code == 200
    assert deleted.json()["data"] == {"consumer_id": consumer}
    error(vault.get(f"/vault/consumers/{consumer}"), 404, "EntityNotFoundError")
    error(vault.get(TICKETS, params={"limit": 1}), 404, "ConnectionNotFoundError")


def test_list_pages_through_the_apps_consumers_in_id_order(vault: httpx.Client, consumer: str) -> None:
    for n in range(3):
        vault.post("/vault/consumers", json={"consumer_id": f"{consumer}-{n}"})
    first = vault.get("/vault/consumers", params={"limit": 2, "filter[consumer_id]": consumer}).json()
    assert [c["consumer_id"] for c in first["data"]] == [f"{consumer}-0", f"{consumer}-1"]
    following = vault.get(first["links"]["next"]).json()
    assert [c["consumer_id"] for c in following["data"]] == [f"{consumer}-2"]
    assert following["meta"]["cursors"]["next"] is None


def test_search_matches_metadata(vault: httpx.Client, consumer: str) -> None:
    vault.post("/vault/consumers", json={"consumer_id": consumer, "metadata": {"account_name": "Zyxwv Corp"}})
    found = vault.get("/vault/consumers", params={"filter[search]": "zyxwv"}).json()["data"]
    assert [c["consumer_id"] for c in found] == [consumer]


def test_invalid_bodies_are_bad_requests(vault: httpx.Client) -> None:
    missing = error(vault.post("/vault/consumers", json={"metadata": {}}), 400, "RequestValidationError")
    assert "consumer_id" in missing["detail"]
    unknown = error(vault.post("/vault/consumers", json={"consumer_id": "x", "colour": "red"}), 400,
                    "RequestValidationError")
    assert unknown["detail"] == {"colour": "unknown property"}
    error(vault.post("/vault/consumers", content=b"{not json"), 400, "RequestValidationError")


def test_a_wrong_api_key_is_unauthorized(harness: GatewayHarness, vault: httpx.Client) -> None:
    error(vault.get("/vault/consumers", headers={"authorization": "Bearer not-the-key"}), 401, "UnauthorizedError")
    with harness.anonymous() as anonymous:
        error(anonymous.get("/vault/consumers"), 401, "UnauthorizedError")


def test_an_app_sees_only_its_own_consumers(harness: GatewayHarness, vault: httpx.Client, consumer: str) -> None:
    vault.post("/vault/consumers", json={"consumer_id": consumer})
    _, other_key = harness.store.create_app("Other", app_id=f"other-{consumer[-6:]}")
    other = {"authorization": f"Bearer {other_key}", "x-apideck-app-id": f"other-{consumer[-6:]}"}
    assert vault.get("/vault/consumers", headers=other).json()["data"] == []
    error(vault.get(f"/vault/consumers/{consumer}", headers=other), 404, "EntityNotFoundError")


def test_unknown_vault_paths_and_methods_answer_in_the_error_schema(vault: httpx.Client) -> None:
    error(vault.get("/vault/sessions/nothing"), 404, "EntityNotFoundError")
    refused = vault.put("/vault/consumers", json={})
    error(refused, 405, "RequestValidationError")
    assert refused.headers["allow"] == "GET, HEAD, POST"


def test_bad_paging_parameters_are_bad_requests(vault: httpx.Client) -> None:
    error(vault.get("/vault/consumers", params={"limit": 0}), 400, "RequestValidationError")
    error(vault.get("/vault/consumers", params={"cursor": "not-ours"}), 400, "RequestValidationError")
    error(vault.get("/vault/audit", params={"cursor": "x"}), 400, "RequestValidationError")

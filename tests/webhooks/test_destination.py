"""Delivery URLs go to the public internet only, unless the operator opts in (SSRF): refused with a
typed 400 when a subscription is created or updated, and again at delivery, where the connection
goes to the address just checked and redirects are not followed (unigate.webhooks.destination).

Names other than ``localhost`` resolve through a fixed table (tests never touch the internet's DNS).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.settings import Settings
from unigate.testing import GatewayHarness
from unigate.webhooks import events as ev
from unigate.webhooks.delivery import Deliverer
from unigate.webhooks.destination import Egress, system_resolve

from .conftest import CONSUMER_ID, DNS, PUBLIC, Receiver, table

NEW = {"unified_api": "issue-tracking", "status": "enabled", "events": ["*"]}


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One gateway for the table below: a refusal creates nothing, so the cases cannot meet."""
    found = GatewayHarness(tmp_path_factory.mktemp("refusing"), settings={"webhooks": False})
    found.gateway.webhook_egress = Egress(resolve=table(DNS))
    with found.client() as client:
        yield client
    found.stop()


REFUSED = [
    "http://127.0.0.1:8080/hook", "http://127.0.0.2/hook", "http://0.0.0.0:8080/hook", "http://10.0.0.5/hook",
    "http://172.16.3.4/hook", "http://192.168.1.1/hook", "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/hook", "http://[::]/hook", "http://[fd00::1]/hook",
    "http://[fe80::1]/hook", "http://[fe80::1%25eth0]/hook", "http://[ff02::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:169.254.169.254]/hook", "http://[2002:7f00:1::]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook", "http://[::127.0.0.1]/hook", "http://2130706433/hook",
    "http://0x7f000001/hook", "http://0x7f.0.0.1/hook", "http://0177.0.0.1/hook", "http://127.1/hook",
    "http://017700000001/hook", "http://localhost:8080/hook", "http://localhost./hook", "http://LOCALHOST/hook",
    "http://rebind.example/hook", "http://metadata.example/hook", "http://split.example/hook",
    "http://v6loop.example/hook", "http://nowhere.example/hook", "http://user:pw@hooks.example/hook",
    "http://hooks.example@127.0.0.1/hook", "http:/\\127.0.0.1/hook", "http://hooks.example /hook",
    "file:///etc/passwd", "gopher://hooks.example/", "https://",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_delivery_url_to_a_non_public_address_is_refused_at_create(refusing: httpx.Client, url: str) -> None:
    answer = refusing.post("/webhook/webhooks", json={**NEW, "delivery_url": url})
    assert (answer.status_code, answer.json()["type_name"]) == (400, "RequestValidationError"), answer.text
    assert list(answer.json()["detail"]) == ["delivery_url"]
    assert refusing.get("/webhook/webhooks").json()["data"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost:9/hook", "http://metadata.example/"])
def test_a_delivery_url_to_a_non_public_address_is_refused_at_update(api: httpx.Client, url: str) -> None:
    created = api.post("/webhook/webhooks", json={**NEW, "delivery_url": "https://hooks.example/hook"}).json()
    answer = api.patch(f"/webhook/webhooks/{created['data']['id']}", json={"delivery_url": url})
    assert (answer.status_code, list(answer.json()["detail"])) == (400, ["delivery_url"])
    kept = api.get(f"/webhook/webhooks/{created['data']['id']}").json()["data"]["delivery_url"]
    assert kept == "https://hooks.example/hook"


@pytest.mark.parametrize("url", [f"https://{PUBLIC}/hook", "https://hooks.example:8443/hook?x=1",
                                 "http://[2606:4700:4700::1111]/hook"])
def test_a_delivery_url_to_a_public_address_is_accepted(api: httpx.Client, url: str) -> None:
    answer = api.post("/webhook/webhooks", json={**NEW, "delivery_url": url})
    assert answer.status_code == 201, answer.text


def test_the_refusal_says_why(api: httpx.Client) -> None:
    answer = api.post("/webhook/webhooks", json={**NEW, "delivery_url": "http://metadata.example/"})
    assert "169.254.169.254" in answer.json()["detail"]["delivery_url"]
    assert "UNIGATE_WEBHOOK_ALLOW_PRIVATE" in answer.json()["detail"]["delivery_url"]


def test_allowing_private_addresses_lets_loopback_through_but_not_link_local(api_harness: GatewayHarness,
                                                                             api: httpx.Client) -> None:
    api_harness.gateway.webhook_egress = Egress.parse(("*",), table(DNS))
    for url, status in (("http://127.0.0.1:8080/hook", 201), ("http://localhost:8080/hook", 201),
                        ("http://[fd00::1]/hook", 201), ("http://169.254.169.254/", 400), ("http://0.0.0.0/", 400),
                        ("http://2130706433/", 400)):
        assert api.post("/webhook/webhooks", json={**NEW, "delivery_url": url}).status_code == status, url


def test_an_allow_list_admits_only_its_hosts_and_networks(api_harness: GatewayHarness, api: httpx.Client) -> None:
    api_harness.gateway.webhook_egress = Egress.parse(("10.1.0.0/16", "lan.example"), table(DNS))
    for url, status in (("http://10.1.2.3/hook", 201), ("http://lan.example/hook", 201), ("http://10.2.0.1/", 400),
                        ("http://127.0.0.1/", 400), ("http://rebind.example/", 400)):
        assert api.post("/webhook/webhooks", json={**NEW, "delivery_url": url}).status_code == status, url


@pytest.mark.parametrize(("value", "allowed"), [
    ("1", ("*",)), ("on", ("*",)), ("*", ("*",)), ("", ()), ("off", ()),
    ("10.0.0.0/8, hooks.lan", ("10.0.0.0/8", "hooks.lan")),
])
def test_the_opt_in_is_read_from_the_environment(value: str, allowed: tuple[str, ...]) -> None:
    assert Settings.from_env({"UNIGATE_WEBHOOK_ALLOW_PRIVATE": value}).webhook_allow_private == allowed


# -- at delivery ------------------------------------------------------------------------------------------
def deliver_once(api_harness: GatewayHarness, url: str, egress: Egress) -> dict[str, Any]:
    """A subscription stored as is (no check: made while the operator allowed it, or before its DNS changed),
    one event queued and one delivery attempted with ``egress``; its outbox row."""
    store = api_harness.gateway.webhook_store
    assert store is not None
    subscription, _ = store.create_subscription("test-app", unified_api="issue-tracking", status="enabled",
                                                delivery_url=url, events=["*"])
    payload = ev.TicketEvent(ev.CREATED, "codimir", CONSUMER_ID, "test-app", "p1", "7", ev.iso_now()).payload(
        ev.new_id(), "http://gw.example")
    store.enqueue([(subscription.id, ev.new_id(), ev.CREATED, payload)])

    async def attempt() -> None:
        deliverer = Deliverer(store, api_harness.gateway.settings, "test", api_harness.gateway.request_log, egress)
        await deliverer.tick()
        await deliverer.drain()
        await deliverer.aclose()
    asyncio.run(attempt())
    [row] = store.outbox(subscription_id=subscription.id)
    return row


def _local(receiver: Receiver, host: str) -> str:
    return receiver.url("hook").replace("127.0.0.1", host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "rebind.example"])
def test_a_delivery_to_a_non_public_address_is_refused_and_never_sent(api_harness: GatewayHarness, receiver: Receiver,
                                                                       host: str) -> None:
    row = deliver_once(api_harness, _local(receiver, host), Egress(resolve=table(DNS)))
    assert receiver.received == []
    assert (row["delivered_at"], row["attempts"], row["last_status"]) == (None, 1, None)
    assert row["last_error"].startswith("delivery_url refused")


def test_dns_rebinding_after_create_is_refused_at_delivery(api_harness: GatewayHarness, api: httpx.Client,
                                                           receiver: Receiver) -> None:
    answers = {"flip.example": [PUBLIC]}
    api_harness.gateway.webhook_egress = Egress(resolve=table(answers))
    url = receiver.url("hook").replace("127.0.0.1", "flip.example")
    assert api.post("/webhook/webhooks", json={**NEW, "delivery_url": url}).status_code == 201
    answers["flip.example"] = ["127.0.0.1"]        # the name now points inside
    row = deliver_once(api_harness, url, Egress(resolve=table(answers)))
    assert receiver.received == [] and "127.0.0.1" in row["last_error"]


def test_a_delivery_connects_to_the_address_checked_keeping_the_host_name(api_harness: GatewayHarness,
                                                                          receiver: Receiver) -> None:
    # hooks.lan has no DNS entry anywhere but this table: the POST reaching the receiver went to the checked address
    egress = Egress.parse(("*",), table({"hooks.lan": ["127.0.0.1"]}))
    row = deliver_once(api_harness, _local(receiver, "hooks.lan"), egress)
    [got] = receiver.received
    assert got["headers"]["host"] == f"hooks.lan:{receiver.url('hook').split(':')[2].split('/')[0]}"
    assert row["delivered_at"] is not None


def test_a_redirect_is_not_followed(api_harness: GatewayHarness, receiver: Receiver) -> None:
    receiver.redirect = receiver.url("inside")
    row = deliver_once(api_harness, receiver.url("hook"), Egress.parse(("*",), system_resolve))
    assert [r["path"] for r in receiver.received] == ["/hook"]
    assert (row["last_status"], row["delivered_at"]) == (307, None)


def test_a_refused_delivery_is_in_the_request_log(api_harness: GatewayHarness, receiver: Receiver) -> None:
    deliver_once(api_harness, receiver.url("hook"), Egress(resolve=table(DNS)))
    api_harness.gateway.request_log.flush()
    with api_harness.client() as client:
        [entry] = [e for e in client.get("/vault/logs").json()["data"] if e["unified_api"] == "webhook"]
    assert (entry["status_code"], entry["success"]) == (0, False)
    assert "loopback" in entry["error_message"] and entry["operation"]["id"] == "webhook.delivery"

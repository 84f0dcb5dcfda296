"""Many processes, one truth: two ``unigate serve`` processes on one vault database agree, on SQLite and
on PostgreSQL.

A connection changed through one is seen by the other within a second; a cursor made by one pages on
the other; an OAuth refresh both need at once is made once (the token endpoint counts them); and the
webhook poller runs in one of them only, so a change is delivered once.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from unigate.db import create_engine, schema

from ..webhooks.conftest import wait_for
from .conftest import APP_REDIRECT, OAUTH_SERVICE, Cluster, Replica

TICKETS = "/issue-tracking/collections/project_456/tickets"
CONNECTION = "/vault/connections/issue-tracking/codimir"


def _refused_within(cluster: Cluster, replica: Replica, seconds: float) -> float:
    """Seconds until ``replica`` refuses to list tickets (at most ``seconds``, else the test fails)."""
    started = time.monotonic()
    with cluster.client(replica, **{"x-apideck-service-id": "codimir"}) as client:
        while time.monotonic() - started < seconds:
            response = client.get(TICKETS, params={"limit": 1})
            if response.status_code != 200:
                assert response.json()["type_name"] == "ConnectorDisabledError", response.text
                return time.monotonic() - started
    raise AssertionError(f"still served {seconds}s after the change")


def test_a_connection_changed_through_one_process_is_seen_by_the_other_within_a_second(cluster: Cluster) -> None:
    with cluster.client(cluster.b) as b:
        assert b.get(TICKETS, params={"limit": 1}).status_code == 200   # b has the connection cached
    with cluster.client(cluster.a) as a:
        assert a.patch(CONNECTION, json={"enabled": False}).status_code == 200
    try:
        assert _refused_within(cluster, cluster.b, 1.0) < 1.0
    finally:
        with cluster.client(cluster.b) as b:
            assert b.patch(CONNECTION, json={"enabled": True}).status_code == 200


def test_a_cursor_made_by_one_process_pages_on_the_other(cluster: Cluster) -> None:
    with cluster.client(cluster.a) as a:
        first = a.get(TICKETS, params={"limit": 2}).json()
        cursor = first["meta"]["cursors"]["next"]
        own_next = a.get(TICKETS, params={"limit": 2, "cursor": cursor}).json()
    with cluster.client(cluster.b) as b:
        response = b.get(TICKETS, params={"limit": 2, "cursor": cursor})
    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["data"]] == [t["id"] for t in own_next["data"]]
    assert {t["id"] for t in response.json()["data"]}.isdisjoint(t["id"] for t in first["data"])


def _authorize(cluster: Cluster, consumer: str) -> None:
    """The consumer authorizes the OAuth tracker through process a (browser hops followed by hand)."""
    with cluster.client(cluster.a, consumer) as a, httpx.Client(timeout=30) as browser:
        setup = a.patch(f"/vault/connections/issue-tracking/{OAUTH_SERVICE}",
                        json={"settings": {"base_url": cluster.provider_url}})
        assert setup.status_code == 200, setup.text
        url = setup.json()["data"]["authorize_url"] + "&" + urlencode({"redirect_uri": APP_REDIRECT})
        to_callback = browser.get(browser.get(url).headers["location"])
        back = browser.get(to_callback.headers["location"])
        assert (back.status_code, back.headers.get("location")) == (302, APP_REDIRECT), back.text


async def _list_on_both(cluster: Cluster, consumer: str, each: int) -> list[int]:
    async def one(replica: Replica) -> int:
        headers = dict(cluster.client(replica, consumer, **{"x-apideck-service-id": OAUTH_SERVICE}).headers)
        async with httpx.AsyncClient(base_url=replica.url, headers=headers, timeout=60) as client:
            return (await client.get("/issue-tracking/collections/1/tickets")).status_code
    return list(await asyncio.gather(*(one(r) for r in (cluster.a, cluster.b) for _ in range(each))))


def test_a_refresh_both_processes_need_at_once_is_made_once(cluster: Cluster, consumer: str) -> None:
    _authorize(cluster, consumer)
    provider = cluster.provider
    provider.token_delay = 0.5   # a slow token endpoint: both processes' requests pile up on the refresh
    provider.revoke_all(refresh=False)   # the tracker refuses every access token: all requests need a refresh
    before = len(provider.grants("refresh_token"))
    try:
        statuses = asyncio.run(_list_on_both(cluster, consumer, 4))
    finally:
        provider.token_delay = 0.0
    assert statuses == [200] * 8
    assert len(provider.grants("refresh_token")) == before + 1   # a rotated refresh token used twice would fail


def _subscribe(cluster: Cluster) -> None:
    with cluster.client(cluster.a) as a:
        answer = a.post("/webhook/webhooks", json={"unified_api": "issue-tracking", "status": "enabled",
                                                   "delivery_url": cluster.receiver.url("replicas"), "events": ["*"]})
    assert answer.status_code == 201, answer.text


def _leaders(cluster: Cluster) -> list[str]:
    engine = create_engine(cluster.database)
    try:
        with engine.connect() as conn:
            leases = schema.webhook_leases
            return list(conn.execute(select(leases.c.owner).where(leases.c.name == "webhooks-leader")).scalars())
    finally:
        engine.dispose()


def test_one_process_leads_the_webhook_poller_and_a_change_is_delivered_once(cluster: Cluster) -> None:
    _subscribe(cluster)
    [leader] = wait_for(lambda: _leaders(cluster))
    assert int(leader.split(":")[1]) in (cluster.a.process.pid, cluster.b.process.pid)
    time.sleep(1.0)   # both processes' runners have ticked: the baseline poll is made (once)
    with cluster.client(cluster.b) as b:
        created = b.post(TICKETS, json={"subject": "Seen by one poller"})
    assert created.status_code == 201, created.text
    ticket = created.json()["data"]["id"]

    def deliveries() -> list[object]:
        return [d for d in cluster.receiver.delivered("replicas") if d["body"]["payload"]["entity_id"] == ticket]
    wait_for(deliveries)
    time.sleep(1.5)   # several poll intervals of both processes: a second poller would deliver again
    assert len(deliveries()) == 1
    assert _leaders(cluster) == [leader]

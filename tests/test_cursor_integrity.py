"""Cursors are signed: one this gateway did not issue, or issued for another list or service, is an
``InvalidCursorError`` (400) before any downstream call — even when it is well formed.

The cursors forged here decode fine (valid base64url JSON payload, a MAC of the right length), so
only the signature check, or the service/list binding, can refuse them.
"""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from unigate.cursor import CursorCodec, CursorPosition
from unigate.testing import GatewayHarness, Simulator, error_of

from .conftest import TICKETS


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def payload_of(cursor: str) -> dict:
    body = cursor.partition(".")[0]
    return orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.fixture
def issued(client: httpx.Client, sim: Simulator) -> str:
    """A genuine next cursor of the tickets list (offset 2); the simulator's log is cleared after."""
    cursor = client.get(TICKETS, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    assert payload_of(cursor)["o"] == 2
    sim.clear()
    return cursor


def refused(client: httpx.Client, sim: Simulator, cursor: str) -> dict:
    """The error body of a list request with ``cursor``, checking nothing went downstream."""
    response = client.get(TICKETS, params={"limit": 2, "cursor": cursor})
    assert error_of(response) == (400, "InvalidCursorError")
    assert sim.requests() == []
    return response.json()


def test_the_genuine_cursor_pages_on(client: httpx.Client, sim: Simulator, issued: str) -> None:
    response = client.get(TICKETS, params={"limit": 2, "cursor": issued})
    assert response.status_code == 200
    assert ("offset", "2") in [tuple(p) for p in sim.requests()[-1]["query"]]


def test_a_well_formed_cursor_signed_with_another_key_is_refused(client: httpx.Client, sim: Simulator,
                                                                issued: str) -> None:
    payload = payload_of(issued)
    forged = CursorCodec(b"another gateway's cursor key").encode(payload["svc"], payload["scp"],
                                                                 CursorPosition(offset=40))
    assert forged.partition(".")[0] != issued.partition(".")[0]
    body = refused(client, sim, forged)
    assert "not issued by this gateway" in body["detail"]


def test_a_cursor_with_a_made_up_mac_of_the_right_length_is_refused(client: httpx.Client, sim: Simulator,
                                                                   issued: str) -> None:
    body, mac = issued.split(".")
    made_up = "".join("B" if c == "A" else "A" for c in mac)
    assert len(made_up) == len(mac)
    refused(client, sim, f"{body}.{made_up}")


def test_a_cursor_whose_payload_was_altered_under_its_old_mac_is_refused(client: httpx.Client, sim: Simulator,
                                                                        issued: str) -> None:
    _body, mac = issued.split(".")
    altered = b64(orjson.dumps({**payload_of(issued), "o": 200}))
    assert orjson.loads(base64.urlsafe_b64decode(altered + "=" * (-len(altered) % 4)))["o"] == 200
    refused(client, sim, f"{altered}.{mac}")


def test_a_cursor_without_its_mac_is_refused(client: httpx.Client, sim: Simulator, issued: str) -> None:
    refused(client, sim, issued.partition(".")[0])


def test_a_cursor_of_another_list_is_refused_before_any_downstream_call(client: httpx.Client, sim: Simulator) -> None:
    other_list = client.get("/issue-tracking/collections/2/tickets", params={"limit": 2}).json()
    cursor = other_list["meta"]["cursors"]["next"]
    sim.clear()
    body = refused(client, sim, cursor)
    assert "another list" in body["detail"]


def test_a_cursor_this_gateway_signed_for_another_service_is_refused(client: httpx.Client, sim: Simulator,
                                                                    harness: GatewayHarness, issued: str) -> None:
    """Signed with this gateway's own key, so only the service binding refuses it."""
    codec = harness.gateway.dispatcher.codec
    foreign = codec.encode("codimir", payload_of(issued)["scp"], CursorPosition(offset=2))
    body = refused(client, sim, foreign)
    assert "issued for service 'codimir'" in body["detail"]

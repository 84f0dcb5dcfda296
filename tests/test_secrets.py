"""Credentials never appear in responses, raw captures, error details or log lines."""

from __future__ import annotations

import logging

import httpx
import pytest

from unigate.testing import Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

SECRET = agentsmesh.DEFAULT_API_KEY


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_credential_is_sent_downstream_as_the_auth_header(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 1})
    assert sim.requests()[-1]["headers"]["x-api-key"] == SECRET


def test_downstream_echo_of_the_credential_is_redacted_in_errors(client: httpx.Client, sim: Simulator, logs) -> None:  # noqa: ANN001
    sim.fault(status=401, body={"error": f"key {SECRET} is revoked", "code": "INVALID_TOKEN"})
    response = client.get(f"{TICKETS}/AM-1", params={"raw": "true"})
    sim.clear()
    assert response.status_code == 401
    assert SECRET not in response.text
    assert "[REDACTED]" in response.json()["downstream_errors"][0]["message"]
    assert SECRET not in logs.text


def test_raw_of_every_operation_is_free_of_the_credential(client: httpx.Client, logs) -> None:  # noqa: ANN001
    responses = [
        client.get(TICKETS, params={"raw": "true", "limit": 3}),
        client.get(f"{TICKETS}/AM-1", params={"raw": "true"}),
        client.post(TICKETS, params={"raw": "true"}, json={"subject": f"mentions {SECRET}"}),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        assert "_raw" in response.json()
        assert SECRET not in response.text
    assert SECRET not in logs.text


def test_access_and_downstream_log_lines_carry_no_credential(client: httpx.Client, logs) -> None:  # noqa: ANN001
    client.get(TICKETS, params={"limit": 1})
    lines = [r.getMessage() for r in logs.records if r.name.startswith("unigate")]
    assert any("downstream agentsmesh GET" in line for line in lines)
    assert not any(SECRET in line for line in lines)

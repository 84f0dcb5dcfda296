"""What a downstream session does with each attempt of a call is its hooks' business
(``unigate.downstream.hooks``): every attempt made reaches ``on_call`` as a ``RawCall``, every
retry reaches ``on_retry`` with its reason, and the default hooks keep the calls for ``raw`` and
the request log. A session given other hooks runs those instead."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from unigate.downstream.client import DownstreamSession
from unigate.downstream.hooks import CallHooks
from unigate.downstream.models import Endpoint, ErrorPaths, RawCall
from unigate.downstream.redact import Redactor
from unigate.testing import Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

TICKET = f"/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets/AM-5"


class Seen:
    def __init__(self) -> None:
        self.calls: list[RawCall] = []
        self.retries: list[tuple[str, str]] = []

    def hooks(self) -> CallHooks:
        return CallHooks(on_call=(lambda session, call, elapsed: self.calls.append(call),),
                         on_retry=(lambda service_id, reason, wait: self.retries.append((service_id, reason)),))


def get(sim: Simulator, **session: Any) -> DownstreamSession:
    async def run() -> DownstreamSession:
        endpoint = Endpoint(sim.url, {"X-API-Key": agentsmesh.DEFAULT_API_KEY}, {}, 10.0, ErrorPaths([], [], []),
                            Redactor([agentsmesh.DEFAULT_API_KEY]))
        async with httpx.AsyncClient() as client:
            made = DownstreamSession("agentsmesh", client, endpoint, **session)
            await made.request("tickets_one", "GET", TICKET)
            return made

    return asyncio.run(run())


def test_a_retried_answer_is_one_retry_then_the_answer_is_the_call(sim: Simulator) -> None:
    seen = Seen()
    sim.fault(status=503, times=1)
    get(sim, hooks=seen.hooks())
    assert seen.retries == [("agentsmesh", "503")]
    assert [(c.call_id, c.status_code, c.retries) for c in seen.calls] == [("tickets_one", 200, 1)]


def test_a_dropped_connection_is_a_call_without_answer_then_a_retry(sim: Simulator) -> None:
    seen = Seen()
    sim.fault(drop_connection=True, times=1)
    get(sim, hooks=seen.hooks())
    assert [(c.status_code, c.error, c.retries) for c in seen.calls] == [(None, "connection", 0), (200, None, 1)]
    assert seen.retries == [("agentsmesh", "connection")]


def test_a_session_given_its_own_hooks_keeps_no_calls_of_its_own(sim: Simulator) -> None:
    seen = Seen()
    session = get(sim, hooks=seen.hooks())
    assert session.calls == [] and len(seen.calls) == 1


def test_the_default_hooks_keep_each_call_for_raw_and_the_request_log(sim: Simulator) -> None:
    session = get(sim)
    assert [(c.call_id, c.method, c.status_code) for c in session.calls] == [("tickets_one", "GET", 200)]
    assert session.raw() == session.calls[0].body and "AM-5" in str(session.raw())

"""A tracker that authenticates with credentials in query parameters (``?key=...``): the
credentials reach the tracker, and nothing the gateway shows or logs carries them — not the log
records of any logger (our own, httpx's, httpcore's, aiohttp's, uvicorn's), not ``_raw``, not error
responses — in plain or URL-encoded form, whether or not the parameter's name says it is secret.
"""

from __future__ import annotations

import logging
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from unigate.plugins import ConnectorDefinition, hookimpl
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer, SimulatorControl
from unigate.testing import GatewayHarness, Simulator, error_of

from .conftest import cleared_client

# ``key`` is a parameter name the redactor knows as secret; ``auth_sig`` is not.
API_KEY = "Qk/3y+s3cret=val ue"
SIGNATURE = "s1g/n4ture+k3pt~private"
CREDENTIALS = {"api_key": API_KEY, "signature": SIGNATURE}
REVOKED = {"api_key": "0ld/k3y+revoked", "signature": "0ld/s1g+revoked"}  # the stale consumer's
TICKETS = "/issue-tracking/collections/main/tickets"

MAPPING = {
    "service_id": "querykey",
    "name": "Query-key tracker",
    "connection": {
        "settings": {"base_url": {"required": True}},
        "credentials": {"api_key": {"required": True}, "signature": {"required": True}},
    },
    "http": {
        "base_url": "{settings.base_url}",
        "query": {"key": "{credentials.api_key}", "auth_sig": "{credentials.signature}"},
        "errors": {"message": "$.error"},
    },
    "resources": {
        "tickets": {
            "fields": {"id": {"read": "$.number", "transform": "string"}, "subject": "$.summary"},
            "operations": {
                "all": {"path": "/issues", "records": "$.issues",
                        "pagination": {"style": "page", "page_param": "page", "limit_param": "per_page",
                                       "max_limit": 2, "total": "$.count"}},
                "one": {"path": "/issues/{ticket_id}", "record": "$.issue"},
            },
        },
    },
}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="querykey", mapping=MAPPING)]


def query_key_tracker() -> SimulatorControl:
    """Answers only requests carrying both credentials as query parameters; its errors echo the
    request URL back (as some trackers' do), credentials included."""
    issues = [{"number": n, "summary": f"Issue {n}"} for n in range(1, 6)]

    def authorized(request: Request) -> bool:
        return request.query_params.get("key") == API_KEY and request.query_params.get("auth_sig") == SIGNATURE

    async def list_issues(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": f"unauthorized: {request.url}"}, status_code=401)
        page, per_page = int(request.query_params["page"]), int(request.query_params["per_page"])
        return JSONResponse({"issues": issues[(page - 1) * per_page: page * per_page], "count": len(issues)})

    async def one_issue(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": f"unauthorized: {request.url}"}, status_code=401)
        number = int(request.path_params["number"])
        if not 1 <= number <= len(issues):
            return JSONResponse({"error": f"no issue at {request.url}"}, status_code=404)
        return JSONResponse({"issue": issues[number - 1]})

    return SimulatorControl(Starlette(routes=[Route("/issues", list_issues),
                                              Route("/issues/{number:int}", one_issue)]))


def leaked_forms(secret: str) -> set[str]:
    """The secret as written and as a URL would carry it."""
    return {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), quote_plus(secret, safe="")}


SECRET_FORMS = set().union(*(leaked_forms(secret) for secret in [*CREDENTIALS.values(), *REVOKED.values()]))


def assert_no_secret(text: str) -> None:
    found = sorted(form for form in SECRET_FORMS if form in text)
    assert not found, f"credential {found} in: {text}"


class RecordsItsThread:
    """The tracker's server thread: what is logged there is the tracker's own log, not the gateway's
    (in production the tracker is another machine)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.threads: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.threads.add(threading.get_ident())
        await self.app(scope, receive, send)


TRACKER = RecordsItsThread(query_key_tracker())


class EveryRecord(logging.Handler):
    """Every log record of every logger but the tracker's, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread in TRACKER.threads:
            return
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def logs(sim: Simulator) -> Iterator[EveryRecord]:
    """Captures all loggers at DEBUG: a handler on the root logger, and on every logger that does
    not propagate to it (uvicorn's); every logger's level lowered to DEBUG for the test."""
    handler = EveryRecord()
    loggers = [logging.getLogger()] + [lg for lg in logging.root.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    attached = [lg for lg in loggers if lg is logging.getLogger() or not lg.propagate]
    for lg in attached:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg in attached:
            lg.removeHandler(handler)
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(TRACKER.app, BackgroundServer(TRACKER).start())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module", params=["aiohttp", "httpx"])
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            sim: Simulator) -> Iterator[GatewayHarness]:
    """A gateway (over either downstream transport) whose consumer is connected to the tracker."""
    registry = ConnectorRegistry.load()
    registry.register_module("querykey", types.SimpleNamespace(__name__="querykey_test_plugin",
                                                               unigate_connectors=unigate_connectors))
    gateway = GatewayHarness(Path(tmp_path_factory.mktemp("querykey")), registry=registry,
                             transport=request.param)
    gateway.connect("querykey", settings={"base_url": sim.url}, credentials=CREDENTIALS)
    gateway.connect_consumer("querykey", "stale-key", {"base_url": sim.url}, REVOKED)
    yield gateway
    gateway.stop()


client = cleared_client()


def test_the_credentials_reach_the_tracker_as_query_parameters(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(f"{TICKETS}/3")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["subject"] == "Issue 3"
    query = dict(sim.requests()[-1]["query"])
    assert (query["key"], query["auth_sig"]) == (API_KEY, SIGNATURE)


def test_no_log_record_of_any_logger_carries_the_credentials(client: httpx.Client, logs: EveryRecord) -> None:
    assert client.get(TICKETS, params={"limit": 5}).status_code == 200
    assert client.get(f"{TICKETS}/99").status_code == 404
    assert any(r.name == "httpx" for r in logs.records), "httpx's request log line was not captured"
    for line in logs.lines:
        assert_no_secret(line)


def test_the_downstream_log_line_names_the_call_without_the_credentials(client: httpx.Client,
                                                                       logs: EveryRecord) -> None:
    assert client.get(f"{TICKETS}/3").status_code == 200
    lines = [r.getMessage() for r in logs.records if r.name == "unigate.downstream"]
    assert len(lines) == 1
    assert lines[0].startswith("downstream querykey GET ") and "/issues/3?" in lines[0]
    assert "key=%5BREDACTED%5D" in lines[0] and "auth_sig=%5BREDACTED%5D" in lines[0]
    assert_no_secret(lines[0])


def test_a_secret_looking_parameter_is_redacted_from_the_call_logs_even_when_not_a_stored_credential(
        client: httpx.Client, sim: Simulator, logs: EveryRecord) -> None:
    """A client's own ``pass_through[token]``, redacted by its name though the vault never saw it,
    from the log lines of the downstream call (ours and httpx's; the client's own request URL,
    echoed in ``links``, is the client's business)."""
    client_token = "client-owned-t0ken"
    response = client.get(f"{TICKETS}/3", params={"pass_through[token]": client_token})
    assert response.status_code == 200, response.json()
    assert ("token", client_token) in sim.requests()[-1]["query"]
    call_lines = [r.getMessage() for r in logs.records
                  if r.name == "unigate.downstream" or (r.name == "httpx" and sim.url in r.getMessage())]
    assert len(call_lines) == 2
    assert all("token=%5BREDACTED%5D" in line and client_token not in line for line in call_lines)


def test_raw_of_a_multi_call_list_carries_urls_without_the_credentials(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"limit": 5, "raw": "true"})
    assert response.status_code == 200, response.json()
    calls = response.json()["_raw"]["calls"]
    assert len(calls) == 3  # pages of 2
    assert all("/issues?" in call["url"] and "key=%5BREDACTED%5D" in call["url"] for call in calls)
    assert_no_secret(response.text)


def test_raw_of_a_secret_looking_pass_through_parameter_is_redacted(client: httpx.Client) -> None:
    client_token = "client-owned-t0ken"
    response = client.get(TICKETS, params={"limit": 5, "raw": "true", "pass_through[token]": client_token})
    assert response.status_code == 200, response.json()
    calls = response.json()["_raw"]["calls"]
    assert all("token=%5BREDACTED%5D" in call["url"] and client_token not in call["url"] for call in calls)


def test_a_downstream_4xx_echoing_the_url_is_reported_without_the_credentials(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/99", params={"raw": "true"})
    assert error_of(response) == (404, "EntityNotFoundError")
    body = response.json()
    assert body["downstream_errors"][0]["message"].startswith("no issue at ")
    assert body["detail"]["downstream_status"] == 404
    assert_no_secret(response.text)


def test_rejected_credentials_are_reported_without_the_credentials(harness: GatewayHarness, sim: Simulator) -> None:
    with harness.client(consumer_id="stale-key") as client:
        response = client.get(f"{TICKETS}/3")
    assert error_of(response) == (401, "ConnectorCredentialsError")
    assert response.json()["downstream_errors"][0]["message"].startswith("unauthorized: ")
    assert_no_secret(response.text)


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"drop_connection": True}],
                         ids=["500", "503", "dropped"])
def test_a_downstream_failure_is_reported_without_the_credentials(client: httpx.Client, sim: Simulator,
                                                                  logs: EveryRecord, fault: dict) -> None:
    sim.fault(**fault)
    response = client.get(f"{TICKETS}/3", params={"raw": "true"})
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert_no_secret(response.text)
    for line in logs.lines:
        assert_no_secret(line)

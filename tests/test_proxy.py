"""The Proxy API (``/proxy``) through the real gateway over HTTP, in front of simulated trackers.

What arrives at the tracker is read from the simulator's own request log (``sim.requests()``),
and what the tracker answers is read from it directly, bypassing the gateway. Streaming is shown
with a downstream (``Echo``) that waits for the other side between the two halves of a body: a
gateway that buffered either body would never let the second half go.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from apideck_unify import models
from starlette.types import Receive, Scope, Send

from unigate.proxy.call import PREFETCH_BYTES
from unigate.proxy.headers import MAX_TIMEOUT_MS, timeout_seconds
from unigate.simulation import BackgroundServer
from unigate.testing import Simulator
from unigate.testing.connector import ConnectorUnderTest
from unigate.testing.sdk import new_sdk
from unigate_connectors.agentsmesh import simulator as agentsmesh
from unigate_connectors.codimir import simulator as codimir

SPEC = Path(__file__).parent.parent / "fixtures" / "specs" / "apideck" / "proxy.yml"
ORG_PATH = f"/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}"
AM = {"x-apideck-service-id": "agentsmesh"}


def spec_methods() -> list[str]:
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return [m.upper() for m in document["paths"]["/proxy"] if m in ("get", "put", "post", "patch", "delete",
                                                                   "options", "head", "trace")]


def direct(sim: Simulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The tracker's own answer, bypassing the gateway (the request is then cleared from its log)."""
    headers = {"x-api-key": agentsmesh.DEFAULT_API_KEY, **kwargs.pop("headers", {})}
    answer = httpx.request(method, f"{sim.url}{ORG_PATH}{path}", headers=headers, **kwargs)
    sim.app.requests.pop()
    return answer


def only_request(sim: Simulator) -> dict[str, Any]:
    requests = sim.requests()
    assert len(requests) == 1, requests
    return requests[0]


class Echo:
    """A downstream answering what it received: ``{method, path, query, headers, size, sha256}``.

    ``/download?size=N`` answers N bytes (``a`` then ``b``) in two halves, the second only once the
    test sets ``resume`` (within 10 s, else the response is left incomplete). While a request body
    arrives, ``first_chunk`` is set on its first bytes.
    """

    def __init__(self) -> None:
        self.first_chunk = threading.Event()
        self.resume = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"].endswith("/download"):
            await self._download(scope, send)
            return
        if scope["path"].endswith("/forge"):
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"request-id", b"forged"), (b"x-apideck-downstream-error", b"true"), (b"x-tracker", b"kept"),
                (b"set-cookie", b"session=minted-for-the-connection"), (b"content-length", b"6")]})
            await send({"type": "http.response.body", "body": b"forged"})
            return
        digest, size = hashlib.sha256(), 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            if chunk:
                self.first_chunk.set()
            digest.update(chunk)
            size += len(chunk)
            if not message.get("more_body"):
                break
        body = orjson.dumps({"method": scope["method"], "path": scope["path"],
                             "query": scope["query_string"].decode(), "size": size, "sha256": digest.hexdigest(),
                             "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]]})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _download(self, scope: Scope, send: Send) -> None:
        size = int(scope["query_string"].decode().partition("=")[2])
        half = size // 2
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        await send({"type": "http.response.body", "body": b"a" * half, "more_body": True})
        for _ in range(1000):
            if self.resume.is_set():
                await send({"type": "http.response.body", "body": b"b" * (size - half)})
                return
            await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[Echo, str]]:
    app = Echo()
    server = BackgroundServer(app).start()
    yield app, server.url
    server.stop()


@pytest.fixture(scope="module")
def codimir_sim() -> Iterator[Simulator]:
    sim = Simulator.start(codimir.create_app())
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def consumers(tracker: ConnectorUnderTest, echo: tuple[Echo, str], codimir_sim: Simulator) -> dict[str, str]:
    """Consumer id -> connection id: capped answers, the echo downstream and a Codimir (cookie) one."""
    harness = tracker.harness
    settings, credentials = tracker.profile.connection(tracker.url)
    ids = {}
    for consumer, extra in {"small-cap": {"max_response_bytes": 1000},
                            "mid-cap": {"max_response_bytes": 200_000},
                            "echo": {"base_url": echo[1]}}.items():
        ids[consumer] = harness.connect_consumer("agentsmesh", consumer, {**settings, **extra}, credentials).id
    ids["cookie"] = harness.connect_consumer("codimir", "cookie", {"base_url": codimir_sim.url},
                                             {"session_token": codimir.DEFAULT_API_KEY}).id
    return ids


def released(tracker: ConnectorUnderTest, connection_id: str) -> bool:
    """The connection's bulkhead slots are all free again (the gateway releases its slot just after
    the last byte is sent: allow it a moment)."""
    bulkhead = tracker.harness.gateway.pool.bulkhead
    deadline = time.monotonic() + 5
    while bulkhead.in_flight(connection_id) and time.monotonic() < deadline:
        time.sleep(0.01)
    return bulkhead.in_flight(connection_id) == 0


def consumer_client(tracker: ConnectorUnderTest, consumer: str) -> httpx.Client:
    return tracker.client(consumer)


# -- every method of the contract -----------------------------------------------------------------
def test_the_contract_lists_the_six_methods() -> None:
    assert spec_methods() == ["GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


@pytest.mark.parametrize("method", spec_methods())
def test_every_method_of_the_contract_reaches_the_tracker_as_sent(client: httpx.Client, sim: Simulator,
                                                                  method: str) -> None:
    body = b'{"probe": "%s"}' % method.encode() if method in ("POST", "PUT", "PATCH") else None
    expected = direct(sim, method, "/repositories?probe=1", content=body)
    answer = client.request(method, "/proxy", content=body,
                            headers={**AM, "x-apideck-downstream-url": "/repositories?probe=1"})
    seen = only_request(sim)
    assert (seen["method"], seen["path"], seen["query"]) == (method, f"{ORG_PATH}/repositories", [("probe", "1")])
    assert seen["body"] == (orjson.loads(body) if body else None)
    assert (answer.status_code, answer.content) == (expected.status_code, expected.content)
    assert answer.headers["content-type"] == expected.headers["content-type"]
    assert answer.headers["request-id"]
    if expected.status_code >= 400:  # the tracker's "404 page not found" for methods it has no route for
        assert answer.headers["x-apideck-downstream-error"] == "true"
    else:
        assert "x-apideck-downstream-error" not in answer.headers


def test_get_answers_the_trackers_own_body(client: httpx.Client, sim: Simulator) -> None:
    expected = direct(sim, "GET", "/repositories")
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"})
    assert answer.status_code == 200
    assert answer.json() == expected.json()
    assert answer.json()["repositories"]  # the seeded repositories, not an empty page


@pytest.mark.parametrize(("upstream", "override"), [("POST", "PUT"), ("GET", "DELETE"), ("PUT", "patch")])
def test_downstream_method_overrides_the_requests_own(client: httpx.Client, sim: Simulator, upstream: str,
                                                       override: str) -> None:
    body = b'{"title": "x"}' if upstream != "GET" else None
    client.request(upstream, "/proxy", content=body, headers={
        **AM, "x-apideck-downstream-url": "/tickets/nope", "x-apideck-downstream-method": override})
    seen = only_request(sim)
    assert seen["method"] == override.upper()
    assert seen["body"] == (orjson.loads(body) if body else None)


def test_an_unknown_downstream_method_is_refused_and_nothing_sent(client: httpx.Client, sim: Simulator) -> None:
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-downstream-method": "TRACE"})
    assert answer.status_code == 400
    assert answer.json()["type_name"] == "RequestHeadersValidationError"
    assert sim.requests() == []


@pytest.mark.parametrize("method", ["HEAD", "TRACE"])
def test_methods_outside_the_contract_are_405(client: httpx.Client, sim: Simulator, method: str) -> None:
    answer = client.request(method, "/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    if method != "HEAD":
        assert answer.json()["type_name"] == "RequestValidationError"
    assert sim.requests() == []


def test_missing_downstream_url_is_a_header_error(client: httpx.Client, sim: Simulator) -> None:
    answer = client.get("/proxy", headers=AM)
    assert answer.status_code == 400
    assert answer.json()["type_name"] == "RequestHeadersValidationError"
    assert "x-apideck-downstream-url" in answer.json()["message"]
    assert sim.requests() == []


def test_the_connection_is_resolved_like_the_unified_apis(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    sim.clear()
    with tracker.harness.anonymous() as anonymous:
        answer = anonymous.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"})
        assert (answer.status_code, answer.json()["type_name"]) == (401, "UnauthorizedError")
        wrong = {**tracker.harness.headers("agentsmesh"), "authorization": "Bearer nope",
                 "x-apideck-downstream-url": "/repositories"}
        answer = anonymous.get("/proxy", headers=wrong)
        assert (answer.status_code, answer.json()["type_name"]) == (401, "UnauthorizedError")
    with tracker.client() as client:
        answer = client.get("/proxy", headers={"x-apideck-service-id": "opine", "x-apideck-downstream-url": "/x"})
        assert (answer.status_code, answer.json()["type_name"]) == (404, "ConnectionNotFoundError")
    assert sim.requests() == []


# -- headers ----------------------------------------------------------------------------------------
def test_header_rules(client: httpx.Client, sim: Simulator) -> None:
    sent = {
        **AM, "x-apideck-downstream-url": "/repositories", "x-apideck-timeout": "5000",
        "x-apideck-anything": "1", "x-apideck-follow-redirects": "true",
        "cookie": "session=client", "host": "tracker.example", "connection": "keep-alive, x-hop-named",
        "x-hop-named": "1", "keep-alive": "timeout=5", "te": "trailers", "proxy-authorization": "Basic eA==",
        "trailer": "x-t", "x-custom": "kept", "accept": "application/json", "user-agent": "my-app/1.0",
        "if-none-match": '"abc"', "content-type": "application/json", "accept-language": "de",
    }
    client.post("/proxy", headers=sent, content=b'{"a": 1}')
    headers = only_request(sim)["headers"]
    for name in ("x-custom", "accept", "user-agent", "if-none-match", "content-type", "accept-language"):
        assert headers[name] == sent[name], name
    assert not [name for name in headers if name.startswith("x-apideck-")]
    for name in ("cookie", "authorization", "x-hop-named", "keep-alive", "te", "proxy-authorization", "trailer"):
        assert name not in headers, name
    assert headers["host"] == sim.url.removeprefix("http://")
    assert headers["content-length"] == "8"
    assert headers.get("connection", "keep-alive") == "keep-alive"
    assert headers["x-api-key"] == agentsmesh.DEFAULT_API_KEY


def test_header_values_go_through_byte_for_byte(client: httpx.Client, sim: Simulator) -> None:
    client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories", "x-utf8": "Zoë ✓".encode()})
    assert only_request(sim)["headers"]["x-utf8"] == "Zoë ✓"  # the same bytes (the simulator reads UTF-8)


def test_no_accept_encoding_from_the_client_asks_the_tracker_for_identity(client: httpx.Client,
                                                                          sim: Simulator) -> None:
    request = client.build_request("GET", "/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"})
    del request.headers["accept-encoding"]
    client.send(request)
    assert only_request(sim)["headers"]["accept-encoding"] == "identity"


def test_compressed_answers_pass_through_as_the_tracker_sent_them(tracker: ConnectorUnderTest,
                                                                   consumers: dict[str, str]) -> None:
    with consumer_client(tracker, "echo") as client:
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/x", "accept-encoding": "br"})
    assert ["accept-encoding", "br"] in answer.json()["headers"]


def test_the_connections_credentials_replace_the_clients(client: httpx.Client, sim: Simulator) -> None:
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-api-key": agentsmesh.READ_ONLY_API_KEY, "X-Api-Key": "amk_forged"})
    headers = only_request(sim)["headers"]
    assert headers["x-api-key"] == agentsmesh.DEFAULT_API_KEY
    assert answer.status_code == 200


def test_an_empty_downstream_authorization_is_no_override(client: httpx.Client, sim: Simulator) -> None:
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-downstream-authorization": ""})
    headers = only_request(sim)["headers"]
    assert (headers["x-api-key"], "authorization" in headers) == (agentsmesh.DEFAULT_API_KEY, False)
    assert answer.status_code == 200


def test_downstream_authorization_replaces_the_injected_credentials(client: httpx.Client, sim: Simulator) -> None:
    expected = direct(sim, "GET", "/repositories", headers={"x-api-key": agentsmesh.READ_ONLY_API_KEY})
    override = f"Bearer {agentsmesh.READ_ONLY_API_KEY}"
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-downstream-authorization": override})
    headers = only_request(sim)["headers"]
    assert headers["authorization"] == f"Bearer {agentsmesh.READ_ONLY_API_KEY}"
    assert "x-api-key" not in headers
    assert (answer.status_code, answer.json()) == (200, expected.json())


def test_a_rejected_downstream_authorization_is_the_trackers_401(client: httpx.Client, sim: Simulator) -> None:
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-downstream-authorization": "Bearer amk_unknown"})
    assert answer.status_code == 401
    assert answer.json() == {"error": "Invalid API key", "code": "INVALID_TOKEN"}
    assert answer.headers["x-apideck-downstream-error"] == "true"


def test_cookie_credentials_are_injected_and_the_clients_cookie_dropped(
        tracker: ConnectorUnderTest, consumers: dict[str, str], codimir_sim: Simulator) -> None:
    codimir_sim.clear()
    expected = httpx.get(f"{codimir_sim.url}/api/projects",
                         cookies={"__Secure-next-auth.session-token": codimir.DEFAULT_API_KEY}).json()
    codimir_sim.clear()
    with consumer_client(tracker, "cookie") as client:
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/projects", "cookie": "a=b"})
        assert (answer.status_code, answer.json()) == (200, expected)
        [seen] = codimir_sim.requests()
        assert seen["path"] == "/api/projects"
        assert seen["headers"]["cookie"] == f"__Secure-next-auth.session-token={codimir.DEFAULT_API_KEY}"
        codimir_sim.clear()
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/projects",
                                               "x-apideck-downstream-authorization": "Bearer other"})
        [seen] = codimir_sim.requests()
        assert "cookie" not in seen["headers"]  # the credential header is left out with an override
        assert seen["headers"]["authorization"] == "Bearer other"
        assert answer.status_code == 401
        assert answer.headers["x-apideck-downstream-error"] == "true"


# -- downstream errors --------------------------------------------------------------------------------
def test_downstream_4xx_is_passed_through_with_the_marker(client: httpx.Client, sim: Simulator) -> None:
    expected = direct(sim, "GET", "/tickets/nope")
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/tickets/nope"})
    assert expected.status_code == 404
    assert (answer.status_code, answer.content) == (404, expected.content)
    assert answer.headers["content-type"] == expected.headers["content-type"]
    assert answer.headers["x-apideck-downstream-error"] == "true"


def test_downstream_5xx_is_passed_through_once_not_retried(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=503, body={"error": "maintenance"}, retry_after=7)
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"})
    assert (answer.status_code, answer.json()) == (503, {"error": "maintenance"})
    assert answer.headers["retry-after"] == "7"
    assert answer.headers["x-apideck-downstream-error"] == "true"
    assert len(sim.requests()) == 1


def test_a_tracker_cannot_forge_the_gateways_headers_nor_set_cookies(tracker: ConnectorUnderTest,
                                                                      consumers: dict[str, str]) -> None:
    with consumer_client(tracker, "echo") as client:
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/forge"})
    assert (answer.status_code, answer.content) == (200, b"forged")
    assert answer.headers.get_list("request-id") != ["forged"]
    assert len(answer.headers.get_list("request-id")) == 1
    assert "x-apideck-downstream-error" not in answer.headers
    assert "set-cookie" not in answer.headers
    assert answer.headers["x-tracker"] == "kept"


# -- streaming, size cap, timeout, bulkhead -------------------------------------------------------------
def test_a_large_body_goes_up_intact_with_its_length(tracker: ConnectorUnderTest, consumers: dict[str, str]) -> None:
    body = bytes(range(256)) * 20_000  # 5 MB
    with consumer_client(tracker, "echo") as client:
        answer = client.put("/proxy", content=body, headers={"x-apideck-downstream-url": "/upload?x=1"})
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("PUT", f"{ORG_PATH}/upload", "x=1")
    assert (seen["size"], seen["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert ["content-length", str(len(body))] in seen["headers"]


def test_the_request_body_is_streamed_not_buffered(tracker: ConnectorUnderTest, consumers: dict[str, str],
                                                   echo: tuple[Echo, str]) -> None:
    app, _ = echo
    app.first_chunk.clear()

    def body() -> Iterator[bytes]:
        yield b"x" * 100_000
        # the rest is sent only once the downstream has the first part: a buffering gateway never gets it
        assert app.first_chunk.wait(10), "the first part of the body did not reach the tracker before the rest"
        yield b"y" * 100_000

    with consumer_client(tracker, "echo") as client:
        answer = client.post("/proxy", content=body(), headers={"x-apideck-downstream-url": "/stream"})
    seen = answer.json()
    assert seen["size"] == 200_000
    assert seen["sha256"] == hashlib.sha256(b"x" * 100_000 + b"y" * 100_000).hexdigest()
    assert ["transfer-encoding", "chunked"] in seen["headers"]  # no length declared: none invented


def test_the_answer_is_streamed_and_holds_the_bulkhead_slot(tracker: ConnectorUnderTest,
                                                            consumers: dict[str, str], echo: tuple[Echo, str]) -> None:
    app, _ = echo
    app.resume.clear()
    bulkhead = tracker.harness.gateway.pool.bulkhead
    size = 400_000
    with consumer_client(tracker, "echo") as client, client.stream(
            "GET", "/proxy", headers={"x-apideck-downstream-url": f"/download?size={size}"}) as answer:
        chunks = answer.iter_bytes()
        got = b""
        for chunk in chunks:
            got += chunk
            if len(got) >= size // 2:
                break
        # the first half is here while the tracker still holds back the second: streamed, not buffered
        assert got == b"a" * (size // 2)
        assert bulkhead.in_flight(consumers["echo"]) == 1
        app.resume.set()
        got += b"".join(chunks)
    assert got == b"a" * (size // 2) + b"b" * (size - size // 2)
    assert released(tracker, consumers["echo"])


@pytest.mark.parametrize("declared", [True, False])
def test_a_large_answer_comes_down_intact(client: httpx.Client, sim: Simulator, declared: bool) -> None:
    size = 5_000_000
    sim.fault(stream_bytes=size, declare_length=declared)
    with client.stream("GET", "/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"}) as answer:
        got = answer.read()
    assert answer.status_code == 200
    assert (len(got), set(got)) == (size, {ord("x")})
    assert answer.headers.get("content-length") == (str(size) if declared else None)


@pytest.mark.parametrize("declared", [True, False])
def test_an_answer_over_the_cap_is_a_typed_error(tracker: ConnectorUnderTest, consumers: dict[str, str],
                                                 sim: Simulator, declared: bool) -> None:
    with consumer_client(tracker, "small-cap") as client:
        sim.fault(stream_bytes=5000, declare_length=declared)
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/repositories"})
    body = answer.json()
    assert (answer.status_code, body["type_name"]) == (502, "ConnectorExecutionError")
    assert (body["detail"]["reason"], body["detail"]["limit_bytes"]) == ("response_too_large", 1000)
    assert "x-apideck-downstream-error" not in answer.headers
    assert tracker.harness.gateway.pool.bulkhead.in_flight(consumers["small-cap"]) == 0


def test_an_answer_passing_the_cap_while_streamed_is_cut_off(tracker: ConnectorUnderTest, consumers: dict[str, str],
                                                             sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="unigate.proxy")
    got = b""
    with consumer_client(tracker, "mid-cap") as client:
        sim.fault(stream_bytes=1_000_000)
        with pytest.raises(httpx.RemoteProtocolError), client.stream(
                "GET", "/proxy", headers={"x-apideck-downstream-url": "/repositories"}) as answer:
            assert answer.status_code == 200  # the head was sent before the cap was reached
            for chunk in answer.iter_bytes():
                got += chunk
    assert PREFETCH_BYTES <= len(got) <= 200_000
    assert any("cut off" in r.getMessage() and "exceeded 200000 bytes" in r.getMessage() for r in caplog.records)
    assert released(tracker, consumers["mid-cap"])


def test_x_apideck_timeout_bounds_the_call(client: httpx.Client, sim: Simulator, tracker: ConnectorUnderTest) -> None:
    sim.fault(latency_ms=5000)
    started = time.monotonic()
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-timeout": "300"})
    assert time.monotonic() - started < 3
    body = answer.json()
    assert (answer.status_code, body["type_name"]) == (504, "ConnectorExecutionError")
    assert (body["detail"]["reason"], body["detail"]["timeout_ms"]) == ("timeout", 300)
    assert "x-apideck-downstream-error" not in answer.headers


def test_a_dripping_answer_is_a_timeout_too(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(drip_ms=50)
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-timeout": "400"})
    assert (answer.status_code, answer.json()["detail"]["reason"]) == (504, "timeout")


def test_without_the_header_the_connections_timeout_applies(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    with tracker.client("impatient-consumer") as client:  # connected with a 0.5 s timeout
        sim.fault(latency_ms=5000)
        answer = client.get("/proxy", headers={"x-apideck-downstream-url": "/repositories"})
    assert (answer.status_code, answer.json()["detail"]["timeout_ms"]) == (504, 500)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "１０"])
def test_an_invalid_timeout_is_refused(client: httpx.Client, sim: Simulator, value: str) -> None:
    answer = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories",
                                           "x-apideck-timeout": value.encode()})
    assert (answer.status_code, answer.json()["type_name"]) == (400, "RequestHeadersValidationError")
    assert sim.requests() == []


def test_the_timeout_header_is_bounded() -> None:
    assert timeout_seconds({"x-apideck-timeout": "28000"}, 1.0) == 28.0
    assert timeout_seconds({"x-apideck-timeout": "999999999"}, 1.0) == MAX_TIMEOUT_MS / 1000
    assert timeout_seconds({"x-apideck-timeout": "9" * 5000}, 1.0) == MAX_TIMEOUT_MS / 1000
    assert timeout_seconds({}, 1.5) == 1.5


# -- redaction ------------------------------------------------------------------------------------------
def test_secrets_stay_out_of_errors_and_logs(client: httpx.Client, sim: Simulator,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    key = agentsmesh.DEFAULT_API_KEY
    sim.fault(latency_ms=3000, times=1)
    timed_out = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": f"/repositories?q={key}",
                                              "x-apideck-timeout": "200"})
    refused = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": f"http://evil.example/{key}"})
    ok = client.get("/proxy", headers={**AM, "x-apideck-downstream-url": f"/tickets/{key}"})
    assert (timed_out.status_code, refused.status_code, ok.status_code) == (504, 400, 404)
    for answer in (timed_out, refused):
        assert key not in answer.text
        assert "REDACTED" in answer.text  # [REDACTED], percent-encoded in a query
    messages = [r.getMessage() for r in caplog.records]
    assert any("[REDACTED]" in m for m in messages)
    assert not [m for m in messages if key in m]


# -- the official SDK ----------------------------------------------------------------------------------------
def test_sdk_proxy_get_and_downstream_authorization(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    sim.clear()
    expected = direct(sim, "GET", "/repositories").json()
    sdk = new_sdk(tracker.harness)
    got = sdk.proxy.get(service_id="agentsmesh", downstream_url="/repositories")
    assert got.response_json == expected
    seen = only_request(sim)
    assert seen["headers"]["x-api-key"] == agentsmesh.DEFAULT_API_KEY
    assert not [name for name in seen["headers"] if name.startswith("x-apideck-")]
    sim.clear()
    got = sdk.proxy.get(service_id="agentsmesh", downstream_url="/repositories",
                        downstream_authorization=f"Bearer {agentsmesh.READ_ONLY_API_KEY}")
    assert got.response_json == expected
    assert only_request(sim)["headers"]["authorization"] == f"Bearer {agentsmesh.READ_ONLY_API_KEY}"


def test_sdk_proxy_post_put_patch_delete(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    sim.clear()
    sdk = new_sdk(tracker.harness)
    created = sdk.proxy.post(service_id="agentsmesh", downstream_url="/tickets", request_body=orjson.dumps(
        {"type": "bug", "title": "Proxied", "repository_id": agentsmesh.MAIN_REPOSITORY_ID}))
    # the contract has only a 200 for success: the SDK files a 201's JSON under `error_json` (its default)
    assert created.http_meta.response.status_code == 201
    ticket = created.error_json["ticket"]
    slug = ticket["slug"]
    assert direct(sim, "GET", f"/tickets/{slug}").json()["ticket"]["title"] == "Proxied"
    updated = sdk.proxy.put(service_id="agentsmesh", downstream_url=f"/tickets/{slug}",
                            request_body=b'{"title": "Renamed"}')
    assert updated.response_json["ticket"]["title"] == "Renamed"
    status = sdk.proxy.patch(service_id="agentsmesh", downstream_url=f"/tickets/{slug}/status",
                             request_body=b'{"status": "done"}')
    assert status.response_json == {"message": "Status updated"}
    assert direct(sim, "GET", f"/tickets/{slug}").json()["ticket"]["status"] == "done"
    deleted = sdk.proxy.delete(service_id="agentsmesh", downstream_url=f"/tickets/{slug}")
    assert deleted.response_json == {"message": "Ticket deleted"}
    assert direct(sim, "GET", f"/tickets/{slug}").status_code == 404
    methods = [(r["method"], r["path"]) for r in sim.requests()]
    assert methods == [("POST", f"{ORG_PATH}/tickets"), ("PUT", f"{ORG_PATH}/tickets/{slug}"),
                       ("PATCH", f"{ORG_PATH}/tickets/{slug}/status"), ("DELETE", f"{ORG_PATH}/tickets/{slug}")]


def test_sdk_proxy_options(tracker: ConnectorUnderTest, consumers: dict[str, str]) -> None:
    sdk = new_sdk(tracker.harness)
    got = sdk.proxy.options(service_id="agentsmesh", consumer_id="echo", downstream_url="/anything?x=1")
    assert (got.response_json["method"], got.response_json["path"]) == ("OPTIONS", f"{ORG_PATH}/anything")


def test_sdk_sees_downstream_errors_and_gateway_errors(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    sim.clear()
    expected = direct(sim, "GET", "/tickets/nope")
    sdk = new_sdk(tracker.harness)
    with pytest.raises(models.APIError) as downstream:
        sdk.proxy.get(service_id="agentsmesh", downstream_url="/tickets/nope")
    assert (downstream.value.status_code, downstream.value.body) == (404, expected.text)
    assert downstream.value.headers["x-apideck-downstream-error"] == "true"
    sim.fault(latency_ms=3000)
    with pytest.raises(models.APIError) as slow:
        sdk.proxy.get(service_id="agentsmesh", downstream_url="/repositories", timeout=200)
    assert slow.value.status_code == 504
    assert orjson.loads(slow.value.body)["type_name"] == "ConnectorExecutionError"
    with pytest.raises(models.APIError) as refused:
        sdk.proxy.get(service_id="agentsmesh", downstream_url="http://localhost/")
    assert (refused.value.status_code, orjson.loads(refused.value.body)["type_name"]) == (400, "RequestValidationError")


def test_a_client_leaving_mid_answer_frees_the_slot(tracker: ConnectorUnderTest, consumers: dict[str, str],
                                                    echo: tuple[Echo, str]) -> None:
    app, _ = echo
    app.resume.clear()
    with consumer_client(tracker, "echo") as client, client.stream(
            "GET", "/proxy", headers={"x-apideck-downstream-url": "/download?size=400000"}) as answer:
        chunks = answer.iter_bytes()  # kept: a dropped iterator closes the connection
        next(chunks)
        assert tracker.harness.gateway.pool.bulkhead.in_flight(consumers["echo"]) == 1
    # the client has gone with the tracker still holding back the second half
    assert released(tracker, consumers["echo"])
    app.resume.set()


def test_a_client_leaving_before_the_answer_frees_the_slot(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    with tracker.client() as client:
        sim.fault(latency_ms=5000, times=1)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/proxy", headers={**AM, "x-apideck-downstream-url": "/repositories"}, timeout=0.3)
        connection = tracker.harness.store.lookup(
            "test-app", tracker.harness.api_key, "test-consumer", "issue-tracking")[1][0]
        assert released(tracker, connection.id)
        deadline = time.monotonic() + 5
        while not sim.app.disconnects and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.app.disconnects  # the gateway closed its call when its client went, before the tracker answered

"""Auth scheme components: a plugin registers a scheme through its ``register_auth_schemes`` hook, a
manifest names it with ``http.auth: {scheme, options}``, and every downstream request is completed
by it — here an HMAC signature over the method, path, query, nonce and body that the tracker checks,
refusing a nonce twice. Through the gateway (unified API and ``/proxy``) against that tracker; the
scheme's secrets never show in ``_raw``, errors, the request log or log lines; a manifest naming a
scheme nobody registered fails to load."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.kit import AuthRequest, ConnectorDefinition, hookimpl
from unigate.mapping.spec import MappingFileError, parse_mapping
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import SimulatorControl
from unigate.testing import GatewayHarness, Simulator

from .conftest import cleared_client

KEY_ID = "key-7f3a9c"
SECRET = "hmac-signing-secret-42b1"
SIGNATURE_HEADER = "X-Acme-Signature"
TICKETS = "/issue-tracking/collections/main/tickets"
_nonces = itertools.count(1)


def message(method: str, path: str, query: list[tuple[str, str]], nonce: str, body: bytes | None) -> bytes:
    """What is signed, the same on both sides."""
    return "\n".join([method, path, urlencode(sorted(query)), nonce, hashlib.sha256(body or b"").hexdigest()]).encode()


def acme_hmac(request: AuthRequest, credentials: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """The plugin's scheme: ``<header>: <key id>:<HMAC-SHA256>`` and a nonce the tracker takes once."""
    nonce = str(next(_nonces))
    digest = hmac.new(str(options["secret"]).encode(),
                      message(request.method, request.path, request.query, nonce, request.body), hashlib.sha256)
    request.headers[options["header"]] = f"{credentials['key_id']}:{digest.hexdigest()}"
    request.headers["X-Acme-Nonce"] = nonce


MANIFEST: dict[str, Any] = {
    "service_id": "signed",
    "name": "Signed",
    "connection": {"settings": {"base_url": {"required": True}},
                   "credentials": {"key_id": {"required": True}, "secret": {"required": True}}},
    "http": {"base_url": "{settings.base_url}",
             "auth": {"scheme": "acme_hmac", "options": {"secret": "{credentials.secret}",
                                                         "header": SIGNATURE_HEADER}}},
    "resources": {"tickets": {
        "fields": {"id": "$.id", "subject": "$.title"},
        "operations": {"all": {"path": "/issues", "records": "$.issues", "pagination": {"style": "none"}},
                       "one": {"path": "/issues/{ticket_id}", "record": "$"},
                       "add": {"method": "POST", "path": "/issues", "record": "$"}}}},
}


@hookimpl
def register_auth_schemes() -> dict[str, Any]:
    return {"acme_hmac": acme_hmac}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="signed", mapping=MANIFEST)]


PLUGIN = types.SimpleNamespace(__name__="signed_plugin", register_auth_schemes=register_auth_schemes,
                               unigate_connectors=unigate_connectors)


def tracker() -> SimulatorControl:
    """Checks every request's signature with its own copy of the secret; a nonce is good once."""
    issues = [{"id": "1", "title": "first", "created_by": KEY_ID}]
    seen: set[str] = set()

    async def verified(request: Request) -> tuple[bytes, JSONResponse | None]:
        body = await request.body()
        key_id, _, signature = request.headers.get(SIGNATURE_HEADER, "").partition(":")
        nonce = request.headers.get("x-acme-nonce", "")
        query = parse_qsl(request.url.query, keep_blank_values=True)
        expected = hmac.new(SECRET.encode(), message(request.method, request.scope["raw_path"].decode(), query,
                                                     nonce, body or None), hashlib.sha256).hexdigest()
        if key_id != KEY_ID or not hmac.compare_digest(signature, expected):
            return body, JSONResponse({"error": "signature does not match"}, status_code=401)
        if nonce in seen:
            return body, JSONResponse({"error": "nonce already used"}, status_code=401)
        seen.add(nonce)
        return body, None

    async def listing(request: Request) -> JSONResponse:
        body, refused = await verified(request)
        if refused is not None:
            return refused
        if request.method == "POST":
            issues.append({"id": str(len(issues) + 1), "title": httpx.Response(200, content=body).json()["title"],
                           "created_by": KEY_ID})
            return JSONResponse(issues[-1], status_code=201)
        return JSONResponse({"issues": issues})

    async def one(request: Request) -> JSONResponse:
        _, refused = await verified(request)
        return refused or JSONResponse(next(i for i in issues if i["id"] == request.path_params["id"]))

    return SimulatorControl(Starlette(routes=[Route("/issues", listing, methods=["GET", "POST"]),
                                              Route("/issues/{id}", one)]))


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator.start(tracker())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    registry = ConnectorRegistry.load()
    registry.register_module("signed", PLUGIN)   # its hooks called through the relay, as an installed plugin's
    gateway = GatewayHarness(Path(tmp_path_factory.mktemp("signed")), registry=registry)
    gateway.connect("signed", settings={"base_url": sim.url}, credentials={"key_id": KEY_ID, "secret": SECRET})
    yield gateway
    gateway.stop()


client = cleared_client()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_a_read_is_signed_by_the_plugins_scheme_and_the_tracker_accepts_it(client: httpx.Client,
                                                                              sim: Simulator) -> None:
    response = client.get(TICKETS, params={"pass_through[state]": "open"})
    assert response.status_code == 200, response.text
    assert [t["subject"] for t in response.json()["data"]][:1] == ["first"]
    assert sim.requests()[0]["headers"][SIGNATURE_HEADER.lower()].startswith(f"{KEY_ID}:")


def test_a_write_is_signed_over_the_body_it_sends(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "signed write"})
    assert response.status_code == 201, response.text
    assert client.get(f"{TICKETS}/{response.json()['data']['id']}").json()["data"]["subject"] == "signed write"


def test_each_attempt_of_a_call_is_signed_anew(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=503, path="/issues$", times=1)
    assert client.get(TICKETS).status_code == 200
    nonces = [r["headers"]["x-acme-nonce"] for r in sim.requests()]
    assert len(nonces) == 2 and nonces[0] != nonces[1]   # the retry is not refused as a replay


def test_a_proxied_call_is_signed_body_and_all(client: httpx.Client, sim: Simulator) -> None:
    response = client.post("/proxy", content=b'{"title": "through the proxy"}',
                           headers={"x-apideck-downstream-url": f"{sim.url}/issues?source=proxy",
                                    "content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "through the proxy"


def test_the_schemes_secrets_never_show_in_raw_errors_or_logs(client: httpx.Client, harness: GatewayHarness,
                                                                sim: Simulator, logs: pytest.LogCaptureFixture) -> None:
    raw = client.get(f"{TICKETS}/1", params={"raw": "true"})
    sim.fault(status=401, body={"error": f"bad signature by {KEY_ID} (secret {SECRET})"}, times=1)
    refused = client.get(f"{TICKETS}/1", params={"raw": "true"})
    assert raw.json()["_raw"]["created_by"] == "[REDACTED]"
    assert refused.status_code == 401 and "[REDACTED]" in refused.json()["downstream_errors"][0]["message"]
    assert harness.gateway.request_log.flush()
    logged = client.get("/vault/logs", params={"raw": "true", "limit": 5})
    assert logged.status_code == 200 and '"x-acme-signature":"[REDACTED]"' in logged.text.replace(" ", "")
    shown = raw.text + refused.text + logged.text + logs.text
    leaked = [shown[max(0, i - 150):i + 50] for i in (shown.find(KEY_ID), shown.find(SECRET)) if i >= 0]
    assert leaked == []


def test_a_manifest_naming_an_unregistered_scheme_fails_to_load() -> None:
    manifest = {**MANIFEST, "http": {"base_url": "{settings.base_url}", "auth": {"scheme": "nobody_made_this"}}}
    with pytest.raises(MappingFileError) as failed:
        parse_mapping(manifest, "tests/test_auth_schemes.py")
    assert "http.auth.scheme" in str(failed.value)
    assert "no auth component named 'nobody_made_this' is registered" in str(failed.value)


def test_auth_options_name_only_declared_settings_and_credentials() -> None:
    manifest = {**MANIFEST, "http": {"base_url": "{settings.base_url}",
                                     "auth": {"scheme": "acme_hmac", "options": {"secret": "{credentials.nope}"}}}}
    with pytest.raises(MappingFileError) as failed:
        parse_mapping(manifest, "tests/test_auth_schemes.py")
    assert "http.auth.options.secret" in str(failed.value) and "credentials.nope" in str(failed.value)

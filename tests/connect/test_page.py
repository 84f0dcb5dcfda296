"""The connect page over HTTP: its session cookie, security headers, CSRF, secrets, scope, audit."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest

from unigate.connector.base import Connector
from unigate.testing import GatewayHarness, Simulator
from unigate.vault_api import connections
from unigate.vault_api.context import VaultRequest
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import PAGE, agentsmesh_form, browser, csrf, session_uri


def connected(harness: GatewayHarness, sim: Simulator, consumer: str, **session: object) -> httpx.Client:
    page = browser(harness, session_uri(harness, consumer, dict(session)))
    saved = page.post(PAGE, data={"csrf": csrf(page.get(PAGE).text), **agentsmesh_form(sim)})
    assert saved.status_code == 303, saved.text
    return page


def test_the_session_link_sets_a_strict_cookie_and_leaves_the_address_bar(harness: GatewayHarness,
                                                                           consumer: str) -> None:
    with httpx.Client(base_url=harness.server.url) as client:
        opened = client.get(session_uri(harness, consumer))
    assert (opened.status_code, opened.headers["location"]) == (303, "/connect/")
    cookie = opened.headers["set-cookie"].lower()
    assert all(part in cookie for part in ("httponly", "samesite=lax", "path=/connect/", "max-age=3"))
    assert opened.headers["referrer-policy"] == "no-referrer"


def test_a_session_for_one_service_opens_on_it(harness: GatewayHarness, consumer: str) -> None:
    with httpx.Client(base_url=harness.server.url) as client:
        opened = client.get(session_uri(harness, consumer, {}, service_id="agentsmesh"))
        assert opened.headers["location"] == PAGE
        client.cookies = opened.cookies
        assert client.get("/connect/").headers["location"] == PAGE
        other = client.get("/connect/issue-tracking/codimir")
    assert other.status_code == 404


def test_without_a_session_the_page_answers_401(harness: GatewayHarness) -> None:
    with harness.anonymous() as client:
        assert client.get("/connect/").status_code == 401
        assert client.get("/connect/session/not-a-token").status_code == 401
        client.cookies.set("unigate_connect", "forged", path="/connect/")
        assert client.get(PAGE).status_code == 401


def test_the_page_lists_the_trackers_with_the_consumers_state(harness: GatewayHarness, sim: Simulator,
                                                              consumer: str) -> None:
    page = connected(harness, sim, consumer)
    html = page.get("/connect/").text
    assert 'href="/connect/issue-tracking/agentsmesh">AgentsMesh</a>' in html
    assert "Connected" in html and "Not connected" in html  # AgentsMesh, the others


def test_security_headers(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer, {"theme": {"logo": "https://cdn.example.com/l.png"}}))
    headers = page.get("/connect/").headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "img-src 'self' https://cdn.example.com;" in csp and "form-action 'self'" in csp
    assert "'unsafe-inline'" not in csp and "style-src 'self' 'nonce-" in csp
    assert (headers["referrer-policy"], headers["x-frame-options"], headers["cache-control"]) == (
        "no-referrer", "DENY", "no-store")
    assert headers["x-content-type-options"] == "nosniff"


def test_a_post_without_the_csrf_token_is_refused(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer))
    refused = page.post(PAGE, data=agentsmesh_form(sim))
    assert refused.status_code == 400 and "did not come from this page" in refused.text
    other = browser(harness, session_uri(harness, consumer))   # another session's token
    stolen = page.post(PAGE, data={"csrf": csrf(other.get(PAGE).text), **agentsmesh_form(sim)})
    assert stolen.status_code == 400
    assert harness.store.find_connection("test-app", consumer, "agentsmesh") is None


def test_a_cross_site_post_is_refused(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer))
    token = csrf(page.get(PAGE).text)
    refused = page.post(PAGE, data={"csrf": token, **agentsmesh_form(sim)}, headers={"sec-fetch-site": "cross-site"})
    assert refused.status_code == 400


def test_secrets_are_never_rendered_back(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = connected(harness, sim, consumer)
    html = page.get(PAGE).text
    assert agentsmesh.DEFAULT_API_KEY not in html
    assert 'name="api_key" type="password" value=""' in html and "Set. Leave empty to keep it." in html
    assert f'value="{agentsmesh.DEFAULT_ORG}"' in html   # a setting is shown


def test_an_empty_secret_keeps_the_stored_one(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = connected(harness, sim, consumer)
    again = page.post(PAGE, data={"csrf": csrf(page.get(PAGE).text), **agentsmesh_form(sim, api_key="")})
    assert again.status_code == 303
    stored = harness.store.find_connection("test-app", consumer, "agentsmesh")
    assert stored.credentials == {"api_key": agentsmesh.DEFAULT_API_KEY}


def test_refused_credentials_show_the_connection_invalid(harness: GatewayHarness, sim: Simulator,
                                                         consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer))
    page.post(PAGE, data={"csrf": csrf(page.get(PAGE).text), **agentsmesh_form(sim, api_key="amk_wrong")})
    assert "Credentials refused" in page.get(PAGE).text


def test_a_session_sees_only_its_consumer(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    connected(harness, sim, consumer)
    stranger = browser(harness, session_uri(harness, consumer + "-other"))
    assert "Not connected" in stranger.get(PAGE).text
    assert "Disconnect" not in stranger.get(PAGE).text


def test_changes_are_audited_as_the_session(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    connected(harness, sim, consumer)
    with harness.client() as app_backend:
        trail = app_backend.get("/vault/audit", params={"consumer_id": consumer}).json()["data"]
    created = next(r for r in trail if r["action"] == "connection.created")
    assert created["actor"].startswith("session:test-app")


def test_disconnect_only_when_the_app_allows_it(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = connected(harness, sim, consumer, settings={"allow_actions": ["reauthorize"]})
    html = page.get(PAGE).text
    assert "Disconnect" not in html
    refused = page.post(f"{PAGE}/disconnect", data={"csrf": csrf(html)})
    assert refused.status_code == 400
    assert harness.store.find_connection("test-app", consumer, "agentsmesh") is not None


def test_logs_page_shows_the_consumers_calls_with_their_downstream_detail(harness: GatewayHarness, sim: Simulator,
                                                                          consumer: str) -> None:
    page = connected(harness, sim, consumer)
    with harness.client(service_id="agentsmesh", consumer_id=consumer) as app_backend:
        assert app_backend.get("/issue-tracking/collections/1/tickets", params={"limit": 1}).status_code == 200
    harness.gateway.request_log.flush()
    html = page.get("/connect/logs").text
    assert "List Tickets" in html and "/api/v1/ext/orgs/acme/tickets" in html
    assert "x-api-key: [REDACTED]" in html.lower() or "x-api-key: [redacted]" in html.lower()
    assert agentsmesh.DEFAULT_API_KEY not in html


def test_logs_page_is_off_when_the_app_says_so(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer, {"settings": {"show_logs": False}}))
    assert "/connect/logs" not in page.get("/connect/").text
    assert page.get("/connect/logs").status_code == 404


def test_the_app_is_named_and_its_colours_used(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer, {"theme": {"vault_name": "Acme Desk",
                                                                      "primary_color": "#0b5394"}}))
    html = page.get("/connect/").text
    assert "<title>Integrations · Acme Desk</title>" in html and "--primary:#0b5394" in html


def test_a_brand_colour_too_light_to_read_falls_back(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer, {"theme": {"primary_color": "#ffdd00"}}))
    assert "--primary:#1f4fbf" in page.get("/connect/").text


def test_unknown_pages_and_methods(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer))
    assert page.get("/connect/nope").status_code == 404
    assert page.get("/connect/issue-tracking/nosuchtracker").status_code == 404
    assert page.delete(PAGE).status_code == 405


def test_the_access_log_never_shows_the_session_token(harness: GatewayHarness, consumer: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="unigate.access")
    uri = session_uri(harness, consumer)
    browser(harness, uri)
    token = uri.rpartition("/")[2]
    lines = [r.getMessage() for r in caplog.records if r.name == "unigate.access"]
    assert any("/connect/session/[token] 303" in line for line in lines)
    assert not any(token in line for line in lines)


def test_an_oauth_connector_gets_a_connect_with_button_that_returns_to_the_page(harness: GatewayHarness, consumer: str) -> None:
    def authorize_url(ctx: VaultRequest, connector: Connector) -> str | None:
        if connector.spec.service_id != "agentsmesh":
            return None
        return f"{harness.server.url}/vault/authorize/agentsmesh/test-app?consumer={ctx.consumer_id()}"

    connections.authorize_urls.append(authorize_url)
    try:
        html = browser(harness, session_uri(harness, consumer)).get(PAGE).text
    finally:
        connections.authorize_urls.remove(authorize_url)
    back = quote(f"{harness.server.url}{PAGE}?notice=authorized", safe="")
    link = f"{harness.server.url}/vault/authorize/agentsmesh/test-app?consumer={consumer}&amp;redirect_uri={back}"
    assert f'<a class="button" href="{link}" rel="noreferrer" id="oauth">Connect with AgentsMesh</a>' in html

"""The connect page over HTTP: its session cookie, security headers, CSRF, secrets, scope, audit."""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import quote

import httpx
import pytest

from unigate.connector.base import Connector
from unigate.testing import GatewayHarness, Simulator
from unigate.vault_api import connections
from unigate.vault_api.context import VaultRequest
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import PAGE, agentsmesh_form, browser, create_session, csrf, session_uri


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


# -- the trackers the app offers (unigate vault app-update --services) ------------------------------------
def app_offering(harness: GatewayHarness, services: list[str]) -> dict[str, str]:
    """The backend headers of a new app offering ``services`` to its consumers."""
    app, api_key = harness.store.create_app("Narrow", app_id=f"app-{uuid.uuid4().hex[:10]}", services=services)
    return {"authorization": f"Bearer {api_key}", "x-apideck-app-id": app.id}


def narrow_session(harness: GatewayHarness, app: dict[str, str], consumer: str,
                   service_id: str | None = None) -> httpx.Response:
    headers = {**app, "x-apideck-consumer-id": consumer, **({"x-apideck-service-id": service_id} if service_id else {})}
    with httpx.Client(base_url=harness.server.url, headers=headers, timeout=30) as app_backend:
        return app_backend.post("/vault/sessions")


def narrow_page(harness: GatewayHarness, app: dict[str, str], consumer: str) -> httpx.Client:
    created = narrow_session(harness, app, consumer)
    assert created.status_code == 200, created.text
    return browser(harness, created.json()["data"]["session_uri"])


def test_the_page_lists_only_the_trackers_the_app_offers(harness: GatewayHarness, consumer: str) -> None:
    html = narrow_page(harness, app_offering(harness, ["agentsmesh", "codimir"]), consumer).get("/connect/").text
    assert re.findall(r'href="/connect/issue-tracking/([a-z-]+)"', html) == ["agentsmesh", "codimir"]
    assert html.count('class="card"') == 2 and "Opine" not in html


def test_an_oauth_tracker_the_app_has_no_client_for_is_shown_not_connectable(harness: GatewayHarness,
                                                                             consumer: str) -> None:
    app = app_offering(harness, ["agentsmesh", "jira"])
    page = narrow_page(harness, app, consumer)
    card = re.search(r'<li class="card" id="tracker-jira">(.*?)</li>', page.get("/connect/").text, re.S)
    assert card is not None and "Not available yet" in card.group(1) and "href" not in card.group(1)
    jira = page.get("/connect/issue-tracking/jira").text
    assert 'id="unavailable"' in jira and 'id="oauth"' not in jira and "<form" not in jira
    harness.store.set_oauth_client(app["x-apideck-app-id"], "jira", "jira-client", "jira-secret")
    assert 'href="/connect/issue-tracking/jira"' in page.get("/connect/").text   # connectable once registered


def test_a_connection_made_without_the_apps_oauth_client_stays_reachable(harness: GatewayHarness,
                                                                         consumer: str) -> None:
    app = app_offering(harness, ["jira"])   # e.g. tokens imported by the operator, as the sandbox does
    harness.store.create_consumer(app["x-apideck-app-id"], consumer)
    harness.store.create_connection(app["x-apideck-app-id"], consumer, "jira", settings={"cloud_id": "c-1"},
                                    credentials={"access_token": "at_imported"})
    page = narrow_page(harness, app, consumer)
    assert 'href="/connect/issue-tracking/jira">Jira' in page.get("/connect/").text
    jira = page.get("/connect/issue-tracking/jira").text
    assert "Connected" in jira and 'id="unavailable"' not in jira and 'id="disconnect"' in jira


def test_a_tracker_the_app_does_not_offer_has_no_page(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    app = app_offering(harness, ["codimir"])
    page = narrow_page(harness, app, consumer)
    assert page.get(PAGE).status_code == 404
    token = csrf(page.get("/connect/issue-tracking/codimir").text)
    assert page.post(PAGE, data={"csrf": token, **agentsmesh_form(sim)}).status_code == 404
    assert harness.store.find_connection(app["x-apideck-app-id"], consumer, "agentsmesh") is None


def test_a_session_for_a_tracker_the_app_does_not_offer_is_refused(harness: GatewayHarness, consumer: str) -> None:
    refused = narrow_session(harness, app_offering(harness, ["agentsmesh"]), consumer, service_id="codimir")
    body = refused.json()
    assert (refused.status_code, body["type_name"]) == (404, "IntegrationNotFoundError"), body
    assert "session_uri" not in refused.text


def test_a_session_stops_reaching_a_tracker_the_app_stops_offering(harness: GatewayHarness, consumer: str) -> None:
    app = app_offering(harness, ["agentsmesh", "codimir"])
    created = narrow_session(harness, app, consumer, service_id="agentsmesh")
    page = browser(harness, created.json()["data"]["session_uri"])
    assert page.get(PAGE).status_code == 200
    harness.store.set_services(app["x-apideck-app-id"], ["codimir"])
    assert page.get(PAGE).status_code == 404


# -- branding and the way back -----------------------------------------------------------------------------
def test_the_apps_logo_is_shown_in_the_header(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer, {"theme": {"logo": "https://cdn.example.com/acme.png?v=2&s=64"}}))
    header = page.get("/connect/").text.split("</header>")[0]
    assert '<img src="https://cdn.example.com/acme.png?v=2&amp;s=64" alt="" class="logo"' in header


@pytest.mark.parametrize("logo", ["javascript:alert(document.cookie)", "data:image/svg+xml,<svg onload=alert(1)>",
                                  "//cdn.example.com/acme.png", "https://user:pw@cdn.example.com/acme.png"])
def test_an_unsafe_logo_is_refused_and_never_rendered(harness: GatewayHarness, consumer: str, logo: str) -> None:
    refused = create_session(harness, consumer, {"theme": {"logo": logo}})
    body = refused.json()
    assert (refused.status_code, body["type_name"]) == (400, "RequestValidationError"), body
    assert "theme.logo" in str(body["detail"]) and "session_uri" not in refused.text


def test_done_returns_to_the_sessions_redirect_uri_once_connected(harness: GatewayHarness, sim: Simulator,
                                                                  consumer: str) -> None:
    back = "https://app.example/settings?tab=integrations&from=connect"
    page = browser(harness, session_uri(harness, consumer, {"redirect_uri": back}))
    assert 'id="done"' not in page.get(PAGE).text   # not connected yet
    page.post(PAGE, data={"csrf": csrf(page.get(PAGE).text), **agentsmesh_form(sim)})
    html = page.get(PAGE).text
    shown = back.replace("&", "&amp;")
    assert f'<a class="button" href="{shown}" rel="noreferrer" id="done">Done: back to Test app</a>' in html
    assert f'<a href="{shown}" rel="noreferrer">Back to Test app</a>' in html


def test_without_a_redirect_uri_there_is_no_done(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    html = connected(harness, sim, consumer).get(PAGE).text
    assert "Connected" in html and 'id="done"' not in html and "Back to" not in html


@pytest.mark.parametrize("redirect_uri", ["javascript:alert(1)", "ftp://app.example/", "//app.example/settings",
                                          "https://user:pw@app.example/settings", "data:text/html,hi"])
def test_an_unsafe_redirect_uri_is_refused(harness: GatewayHarness, consumer: str, redirect_uri: str) -> None:
    refused = create_session(harness, consumer, {"redirect_uri": redirect_uri})
    body = refused.json()
    assert (refused.status_code, body["type_name"]) == (400, "RequestValidationError"), body
    assert "redirect_uri" in str(body["detail"])

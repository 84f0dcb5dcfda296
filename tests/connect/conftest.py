"""The connect page through the gateway, in front of a simulated AgentsMesh (``harness``, ``sim``:
tests/conftest.py). Each test acts for a consumer of its own (``consumer``); ``session_uri`` asks
the app's backend call, ``POST /vault/sessions``, for a session of that consumer."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

PAGE = "/connect/issue-tracking/agentsmesh"
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"
PRIORITY = {"key": "priority_label", "label": "Priority label", "description": "the tracker's own priority"}


def start_browser() -> WebDriver:
    """Debian's headless Chromium through Debian's chromedriver; the test FAILS where it cannot start."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail("chromium and chromedriver are not installed: run scripts/browser/install.sh (make test does)")
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024",
                     "--disable-gpu", "--no-first-run"):
        options.add_argument(argument)
    try:
        browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    except WebDriverException as exc:
        pytest.fail(f"the browser did not start: {exc.msg}")
    browser.implicitly_wait(5)
    return browser


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """One browser per test module."""
    browser = start_browser()
    yield browser
    browser.quit()


@pytest.fixture
def consumer() -> str:
    return f"account:{uuid.uuid4().hex[:12]}"


def create_session(harness: GatewayHarness, consumer: str, body: dict[str, Any] | None = None,
                   service_id: str | None = None) -> httpx.Response:
    with harness.client(service_id=service_id, consumer_id=consumer) as app_backend:
        return app_backend.post("/vault/sessions", json=body) if body is not None else app_backend.post("/vault/sessions")


def session_uri(harness: GatewayHarness, consumer: str, body: dict[str, Any] | None = None,
                service_id: str | None = None) -> str:
    response = create_session(harness, consumer, body, service_id)
    assert response.status_code == 200, response.text
    return response.json()["data"]["session_uri"]


def browser(harness: GatewayHarness, uri: str) -> httpx.Client:
    """An HTTP client holding the page's cookie, as a browser that opened ``uri`` would."""
    client = httpx.Client(base_url=harness.server.url, timeout=30)
    opened = client.get(uri)
    assert opened.status_code == 303, opened.text
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the form has no CSRF token"
    return found.group(1)


def agentsmesh_form(sim: Simulator, **overrides: str) -> dict[str, str]:
    return {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG, "api_key": agentsmesh.DEFAULT_API_KEY,
            **overrides}

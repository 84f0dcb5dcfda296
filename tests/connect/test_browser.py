"""The connect page in a real browser: Debian's headless Chromium driven by Selenium through Debian's
chromedriver (``scripts/browser/install.sh``, run by ``make test``). One browser for the module.

Where the browser cannot start these tests FAIL: the page is only shown to work where it ran.
"""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import PAGE, PRIORITY, TICKETS, session_uri

MAX_TABS = 30


def fill(driver: WebDriver, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.ID, f"f-{name}")
        field.clear()
        field.send_keys(value)


def shows(driver: WebDriver, text: str) -> bool:
    """Whether the page (once the navigation under way has loaded it) says ``text``."""
    WebDriverWait(driver, 5, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: text in d.find_element(By.TAG_NAME, "main").text)
    return True


def state(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "state").text


def test_connect_map_a_field_read_it_back_see_the_logs_and_disconnect(
        driver: WebDriver, harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    body = {"theme": {"vault_name": "Acme Desk", "primary_color": "#0b5394"},
            "custom_consumer_settings": {"custom_mappings": [PRIORITY]}}
    driver.get(harness.server.url + session_uri(harness, consumer, body).removeprefix(harness.server.url))
    assert driver.current_url == f"{harness.server.url}/connect/"          # the token left the address bar
    assert driver.title == "Integrations · Acme Desk"
    driver.find_element(By.LINK_TEXT, "AgentsMesh").click()
    assert "Not connected" in state(driver)

    fill(driver, {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG, "api_key": agentsmesh.DEFAULT_API_KEY})
    driver.find_element(By.ID, "save").click()
    assert shows(driver, "Saved.") and "Connected" in state(driver)
    assert driver.find_element(By.ID, "f-api_key").get_attribute("value") == ""

    driver.find_element(By.ID, "mapping").click()
    Select(driver.find_element(By.ID, "target")).select_by_value("priority_label")
    driver.find_element(By.CSS_SELECTOR, "input[type=radio][value='$.priority']").click()
    driver.find_element(By.ID, "preview").click()
    previewed = driver.find_element(By.ID, "preview-value").text
    driver.find_element(By.ID, "bind").click()
    assert shows(driver, "Field mapping saved.")

    with harness.client(service_id="agentsmesh", consumer_id=consumer) as app_backend:
        ticket = app_backend.get(TICKETS, params={"limit": 1}).json()["data"][0]
    assert ticket["custom_mappings"]["priority_label"] == previewed
    assert previewed in {agentsmesh.DEFAULT_PRIORITY, *agentsmesh.PRIORITIES}

    harness.gateway.request_log.flush()
    driver.find_element(By.LINK_TEXT, "Logs").click()
    driver.find_element(By.CSS_SELECTOR, ".log summary").click()
    call = driver.find_element(By.CSS_SELECTOR, ".log .call")
    assert "/api/v1/ext/orgs/acme/tickets" in call.text and agentsmesh.DEFAULT_API_KEY not in driver.page_source

    driver.get(harness.server.url + PAGE)
    driver.find_element(By.ID, "disconnect").click()
    assert shows(driver, "Disconnected.") and "Not connected" in state(driver)
    assert harness.store.find_connection("test-app", consumer, "agentsmesh") is None


def tab_to(driver: WebDriver, element_id: str) -> int:
    """Press Tab until ``element_id`` has the focus; how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return presses
    raise AssertionError(f"#{element_id} is not reachable with the keyboard")


def test_the_form_is_filled_and_sent_with_the_keyboard_only(
        driver: WebDriver, harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    driver.get(session_uri(harness, consumer, {}, service_id="agentsmesh"))
    assert driver.current_url == harness.server.url + PAGE
    driver.switch_to.active_element.send_keys(Keys.TAB)
    skip = driver.switch_to.active_element
    assert skip.text == "Skip to content"                           # the first stop skips the header
    outline = driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", skip)
    assert outline != "none"                                        # focus is visible
    values = {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG, "api_key": agentsmesh.DEFAULT_API_KEY}
    for name, value in values.items():
        tab_to(driver, f"f-{name}")
        label = driver.find_element(By.CSS_SELECTOR, f"label[for='f-{name}']")
        assert label.text                                           # each input has its label
        driver.switch_to.active_element.send_keys(Keys.CONTROL, "a")
        driver.switch_to.active_element.send_keys(value)
    tab_to(driver, "save")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert shows(driver, "Saved.") and "Connected" in state(driver)
    tab_to(driver, "disconnect")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert shows(driver, "Disconnected.") and "Not connected" in state(driver)

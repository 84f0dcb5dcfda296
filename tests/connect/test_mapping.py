"""The field-mapping screen: a sample ticket through the connection, its values as JSONPaths, a preview
of the unified ticket, and the chosen path stored as the custom mapping the app declared."""

from __future__ import annotations

import re

import httpx

from unigate.connect.sample import leaves
from unigate.mapping.paths import compile_path
from unigate.testing import GatewayHarness, Simulator

from .conftest import PAGE, PRIORITY, agentsmesh_form, browser, csrf, session_uri

MAPPING = f"{PAGE}/mapping"
PREVIEW = {"target": "priority_label", "path": "$.slug"}


def connected(harness: GatewayHarness, sim: Simulator, consumer: str) -> httpx.Client:
    page = browser(harness, session_uri(harness, consumer, {"custom_consumer_settings": {"custom_mappings": [PRIORITY]}}))
    page.post(PAGE, data={"csrf": csrf(page.get(PAGE).text), **agentsmesh_form(sim)})
    return page


def test_the_sample_lists_the_downstream_values_as_jsonpaths(harness: GatewayHarness, sim: Simulator,
                                                             consumer: str) -> None:
    html = connected(harness, sim, consumer).get(MAPPING).text
    paths = re.findall(r'type="radio" name="path" id="leaf-\d+" value="([^"]+)"', html)
    assert {"$.slug", "$.priority", "$.title"} <= set(paths)
    assert "Priority label: the tracker&#39;s own priority" in html


def test_a_preview_shows_the_unified_ticket_and_stores_nothing(harness: GatewayHarness, sim: Simulator,
                                                               consumer: str) -> None:
    page = connected(harness, sim, consumer)
    html = page.get(MAPPING, params=PREVIEW).text
    assert re.search(r'id="preview-value">AM-\d+<', html)
    assert "&#34;custom_mappings&#34;" in html or '"custom_mappings"' in html
    assert harness.store.find_connection("test-app", consumer, "agentsmesh").custom_mappings == {}


def test_binding_stores_the_jsonpath_as_the_custom_mapping(harness: GatewayHarness, sim: Simulator,
                                                          consumer: str) -> None:
    page = connected(harness, sim, consumer)
    token = csrf(page.get(MAPPING, params=PREVIEW).text)
    bound = page.post(MAPPING, data={"csrf": token, "target": "priority_label", "path": "$.slug"})
    assert (bound.status_code, bound.headers["location"]) == (303, f"{MAPPING}?notice=mapped")
    assert harness.store.find_connection("test-app", consumer, "agentsmesh").custom_mappings == {
        "priority_label": "$.slug"}
    changed = page.post(MAPPING, data={"csrf": token, "target": "priority_label", "path": "$.priority"})
    assert changed.status_code == 303
    assert 'aria-label="Remove the mapping of Priority label"' in page.get(MAPPING).text
    removed = page.post(MAPPING, data={"csrf": token, "target": "priority_label", "path": ""})
    assert removed.headers["location"].endswith("notice=unmapped")
    assert harness.store.find_connection("test-app", consumer, "agentsmesh").custom_mappings == {}


def test_only_the_fields_the_app_declared_can_be_bound(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = connected(harness, sim, consumer)
    refused = page.post(MAPPING, data={"csrf": csrf(page.get(MAPPING, params=PREVIEW).text), "target": "anything", "path": "$.slug"})
    assert refused.status_code == 400
    assert harness.store.find_connection("test-app", consumer, "agentsmesh").custom_mappings == {}


def test_an_invalid_jsonpath_is_refused_on_the_page(harness: GatewayHarness, sim: Simulator, consumer: str) -> None:
    page = connected(harness, sim, consumer)
    refused = page.post(MAPPING, data={"csrf": csrf(page.get(MAPPING, params=PREVIEW).text), "target": "priority_label",
                                       "path": "$[?(@.x =="})
    assert refused.status_code == 400 and 'role="alert"' in refused.text


def test_mapping_needs_a_connection(harness: GatewayHarness, consumer: str) -> None:
    page = browser(harness, session_uri(harness, consumer))
    assert page.get(MAPPING).status_code == 404


def test_every_leaf_path_reads_its_value_back() -> None:
    record = {"a": {"b": [1, {"c d": "x", "it's": True}]}, "n": None, "1x": 2.5}
    found = leaves(record)
    assert [leaf.path for leaf in found] == ["$.a.b[0]", "$.a.b[1]['c d']", "$.a.b[1]['it\\'s']", "$.n", "$['1x']"]
    assert [compile_path(leaf.path).get(record) for leaf in found] == [1, "x", True, None, 2.5]

"""Atlassian's description drives the simulator: schemathesis generates valid requests for every
operation of the vendored description, and every answer must be one the description allows (no
5xx, checked by ``SpecCheck`` like every other exchange); generated invalid requests must be
refused, never a 5xx."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from unigate.kit import BackgroundServer
from unigate.testing.vendor_spec import SpecCheck, VendorSpec
from unigate_connectors.jira.simulator import API_EMAIL, API_TOKEN, create_app

SPEC = Path(__file__).resolve().parent.parent / "spec" / "swagger-v3.subset.json"
ERRORS = "#/components/schemas/ErrorCollection"
UNDECLARED = {401: ERRORS, 404: ERRORS, 429: ERRORS}
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{API_EMAIL}:{API_TOKEN}".encode()).decode()}
EXAMPLES = 15
# Real objects where the description names them, so cases reach the handlers, not only 404s.
PATH = {"issueIdOrKey": "ENG-3", "projectIdOrKey": "ENG", "id": "10001"}


def operations() -> list[Any]:
    import schemathesis  # a test dependency, imported on use as unigate.testing.fuzz does

    # an operation schemathesis cannot read is an Err, whose missing ok() fails the test: as it should
    return [result.ok() for result in schemathesis.openapi.from_path(SPEC).get_all_operations()]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, SpecCheck]]:
    control = create_app(issue_count=20)
    checked = SpecCheck.inside(control, VendorSpec.load(SPEC, undeclared=UNDECLARED))
    with BackgroundServer(control) as server:
        yield server.url, checked


def fixed_path(operation: Any) -> dict[str, str]:
    return {k: v for k, v in PATH.items() if any(p.name == k for p in operation.path_parameters)}


@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_generated_valid_requests_get_answers_the_description_allows(served: tuple[str, SpecCheck],
                                                                      operation: Any) -> None:
    url, checked = served
    session, statuses = requests.Session(), []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(path_parameters=fixed_path(operation)))
    def run(case: Any) -> None:
        response = case.call(base_url=url, session=session, headers=AUTH, timeout=10)
        statuses.append(response.status_code)

    run()
    assert statuses and max(statuses) < 500, statuses
    checked.assert_clean()


def has_free_inputs(operation: Any) -> bool:
    """Something a case can get wrong: a body, a query, or a typed path parameter not fixed."""
    typed = [p for p in operation.path_parameters
             if p.name not in PATH and p.definition.get("schema", {}).get("type") != "string"]
    return bool(operation.body or operation.query or typed)


@pytest.mark.parametrize("operation", [op for op in operations() if has_free_inputs(op)], ids=lambda op: op.label)
def test_generated_invalid_requests_are_refused_not_failed(served: tuple[str, SpecCheck], operation: Any) -> None:
    url, checked = served
    session, failures, statuses = requests.Session(), [], []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=fixed_path(operation)))
    def run(case: Any) -> None:
        response = case.call(base_url=url, session=session, headers=AUTH, timeout=10)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}")

    with checked.requests_unchecked():
        run()
    checked.violations.clear()  # answers to invalid requests may take statuses the description omits
    assert statuses and failures == []

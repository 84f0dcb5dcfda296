"""Fuzzed through Apideck's own spec, the gateway answers no 5xx but deliberate 501s.

schemathesis generates paths, queries and bodies for every Issue Tracking operation (bounded here:
a few hundred cases per connector; ``bench/fuzz.py`` runs more) against a gateway connected to
each simulated tracker. Every error must be in Apideck's error schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from unigate.testing import ConnectorUnderTest
from unigate.testing.fuzz import FuzzReport, fuzz_operation, operation_labels

EXAMPLES_PER_OPERATION = 20  # x 15 operations = 300 cases per connector


@pytest.fixture(scope="module", params=["agentsmesh", "codimir", "github", "gitlab", "opine", "selectel"])
def tracker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    started = ConnectorUnderTest.start(tmp_path_factory.mktemp(request.param), request.param)
    yield started
    started.stop()


@pytest.mark.parametrize("label", operation_labels())
def test_generated_requests_get_no_server_error_and_typed_errors(tracker: ConnectorUnderTest, label: str) -> None:
    report = FuzzReport()
    fuzz_operation(label, tracker.harness.server.url, tracker.harness.headers(tracker.service_id),
                   examples=EXAMPLES_PER_OPERATION, report=report)
    assert report.cases >= 1
    assert report.failures == []

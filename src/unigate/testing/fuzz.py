"""Fuzzing the gateway with schemathesis over Apideck's own Issue Tracking description.

Every operation of Apideck's description shipped with the gateway (``unigate/openapi/issue-tracking.yml``) is called with generated paths,
queries and bodies (valid and invalid) through a real gateway connected to a connector's
simulator. The property: the gateway never answers 5xx except a deliberate 501, and every error
is in Apideck's error schema. ``tests/test_fuzz_spec.py`` runs a bounded number of cases per
connector in CI; ``bench/fuzz.py`` runs many more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "issue-tracking.yml"
ERROR_KEYS = {"status_code", "error", "type_name", "message"}


@lru_cache(maxsize=1)
def schema() -> Any:
    import schemathesis  # imported on use: it is a test dependency

    return schemathesis.openapi.from_path(SPEC)


def operation_labels() -> list[str]:
    """``"GET /issue-tracking/collections"`` and the rest: every operation of the spec."""
    return [result.ok().label for result in schema().get_all_operations()]


@dataclass
class FuzzReport:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def note(self, case: Any, response: requests.Response) -> None:
        self.cases += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        problem = _problem(response)
        if problem and len(self.failures) < 20:
            self.failures.append(f"{problem}: {case.method} {case.formatted_path} query={case.query!r} "
                                 f"body={str(case.body)[:300]!r} -> {response.status_code} {response.text[:300]}")


def _problem(response: requests.Response) -> str | None:
    status = response.status_code
    if status >= 500 and status != 501:
        return "server error"
    if status >= 400:
        try:
            body = response.json()
        except ValueError:
            return "error body is not JSON"
        if not isinstance(body, dict) or not set(body) >= ERROR_KEYS or body.get("status_code") != status:
            return "error body is not in Apideck's error schema"
    return None


def fuzz_operation(label: str, base_url: str, headers: dict[str, str], *, examples: int,
                   report: FuzzReport) -> None:
    """Run ``examples`` generated cases of one operation against the gateway at ``base_url``."""
    operation = schema().find_operation_by_label(label)
    session = requests.Session()

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        # the generated x-apideck-* header values are replaced by a real app's, consumer's and service's
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        report.note(case, response)

    run()

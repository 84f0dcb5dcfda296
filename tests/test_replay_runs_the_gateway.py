"""Replayed tests run the gateway: cassettes stand in for the tracker only, never for the gateway.

Every test that replays recorded downstream traffic (the Redmine and Roundup live suites without
their servers, and each connector's ``*_recorded.py``) runs here in its own pytest process, once
as it is and once against a gateway sabotaged to answer 500 to every request. The first run must
pass whole (the cassettes are current); the second must fail whole: a replayed test that still
passes with a broken gateway tests nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the live suites (and the official SDK's) of each connector with a real server (connectors/<name>/tracker/)
LIVE = [f"connectors/{t.parent.name}/tests/test_{t.parent.name}_{suite}.py"
        for t in sorted(ROOT.glob("connectors/*/tracker")) for suite in ("live", "sdk_live")]
REPLAYED = [*LIVE, *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("connectors/*/tests/test_*_recorded.py"))]
MIN_REPLAYED = 100  # Redmine and Roundup live suites, the SDK's live suite, the recorded seed-tracker tests


def run_replayed(tmp_path: Path, *, sabotaged: bool) -> dict[str, Any]:
    """Outcome counts of the replayed tests in a fresh pytest process, trackers forced to replay."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIGATE_RECORD")}
    env["UNIGATE_LIVE_TRACKERS"] = "off"
    plugin: list[str] = []
    if sabotaged:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests" / "support"), env.get("PYTHONPATH")]))
        plugin = ["-p", "sabotage_gateway"]
    report = tmp_path / "report.xml"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin,
                             f"--junit-xml={report}", *REPLAYED], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert report.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    # a test that fails and also errors in teardown is two <testcase> entries: count tests by id
    cases: dict[str, set[str]] = {}
    for case in suite.iter("testcase"):
        outcomes = cases.setdefault(f"{case.get('classname')}::{case.get('name')}", set())
        outcomes.update(child.tag for child in case if child.tag in ("failure", "error", "skipped"))
    return {"tests": len(cases), "skipped": sum("skipped" in o for o in cases.values()),
            "failed": sum(bool(o & {"failure", "error"}) for o in cases.values()), "output": result.stdout[-4000:]}


def test_replayed_tests_pass_against_their_cassettes(tmp_path: Path) -> None:
    counts = run_replayed(tmp_path, sabotaged=False)
    assert counts["tests"] >= MIN_REPLAYED and counts["skipped"] == 0, counts["output"]
    assert counts["failed"] == 0, counts["output"]


def test_replayed_tests_all_fail_when_the_gateway_answers_500(tmp_path: Path) -> None:
    counts = run_replayed(tmp_path, sabotaged=True)
    assert counts["tests"] >= MIN_REPLAYED and counts["skipped"] == 0, counts["output"]
    assert counts["failed"] == counts["tests"], counts["output"]

"""A long fuzz run of the gateway over Apideck's Issue Tracking spec (schemathesis).

    python bench/fuzz.py [--examples 200] [--connector codimir ...]

Every operation of the spec, ``--examples`` generated cases each (valid and invalid paths,
queries and bodies), against a gateway connected to each simulated tracker. Prints the cases run,
the statuses seen and every case that got a 5xx other than a deliberate 501, or an error outside
Apideck's error schema. Exits 1 if there was any. CI runs the same with 20 examples
(tests/test_fuzz_spec.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from unigate.testing import ConnectorUnderTest
from unigate.testing.fuzz import FuzzReport, fuzz_operation, operation_labels

CONNECTORS = ["agentsmesh", "codimir", "opine", "selectel"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="generated cases per operation and connector")
    parser.add_argument("--connector", action="append", choices=CONNECTORS, help="default: all simulated ones")
    args = parser.parse_args()
    failed = False
    for service_id in args.connector or CONNECTORS:
        with tempfile.TemporaryDirectory() as tmp:
            tracker = ConnectorUnderTest.start(Path(tmp), service_id)
            report, started = FuzzReport(), time.perf_counter()
            try:
                for label in operation_labels():
                    fuzz_operation(label, tracker.harness.server.url, tracker.harness.headers(service_id),
                                   examples=args.examples, report=report)
            finally:
                tracker.stop()
        elapsed = time.perf_counter() - started
        statuses = " ".join(f"{code}x{count}" for code, count in sorted(report.statuses.items()))
        print(f"{service_id}: {report.cases} cases in {elapsed:.0f} s; statuses {statuses}; "
              f"failures {len(report.failures)}")
        for failure in report.failures:
            print(f"  - {failure}")
        failed = failed or bool(report.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

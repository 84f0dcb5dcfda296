"""Which trackers a test run reached live and which it replayed, for the run's summary.

Every live or recorded test module notes its tracker's mode here (``note_tracker``); the pytest
plugin ``unigate.testing.fixtures`` prints the table at the end of the run, so a green run says
whether it talked to the real Redmine or only to its recordings.
"""

from __future__ import annotations

from collections import defaultdict

MODES = {"live": "live", "record": "recording cassettes", "replay": "replayed from cassettes"}
_seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))


def note_tracker(service_id: str, mode: str, where: str) -> None:
    """Record that ``service_id``'s tests ran in ``mode`` ("live" | "record" | "replay") against ``where``."""
    _seen[service_id][mode].add(where)


def tracker_lines() -> list[str]:
    lines = []
    for service_id in sorted(_seen):
        for mode, where in sorted(_seen[service_id].items()):
            lines.append(f"{service_id}: {MODES.get(mode, mode)} ({', '.join(sorted(where))})")
    return lines

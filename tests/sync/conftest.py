"""The sync suites run on each backend: ``databases`` makes the module's gateways a new database each (a
module may start several gateways, and each creates the same test app), SQLite for one run of the module's
tests and PostgreSQL for the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from unigate.testing.databases import BACKENDS, PostgresRun, new_database


@pytest.fixture(scope="module", params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path | str]:
    """Makes a new empty database of this run's backend (``UNIGATE_DATABASE``) each call."""
    run: PostgresRun | None = request.getfixturevalue("postgres_run") if request.param == "postgresql" else None
    return lambda: new_database(request.param, run, tmp_path_factory.mktemp("db"))

"""Test plugin packages (tests/plugins/*) pip-installed, offline, into a directory put on sys.path."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def pip_install(package: Path, target: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(package)], check=True)


@contextmanager
def installed_plugins(target: Path, *names: str) -> Iterator[Path]:
    """``tests/plugins/<name>`` packages installed into ``target``, importable (and their entry
    points found) until the block ends."""
    for name in names:
        pip_install(PLUGINS / name, target)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))

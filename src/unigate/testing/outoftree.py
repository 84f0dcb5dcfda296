"""A plugin package tested the way its author tests it: installed in a venv of its own, outside this checkout.

``ThrowawayVenv.create(directory)`` makes a venv that sees this interpreter's installed packages
(unigate, pytest and the test extras: offline, nothing downloaded) without changing them;
``venv.install(package)`` pip-installs a plugin there (editable, no dependencies, no build
isolation), so its entry point is seen by that venv's Python only and never joins the registry
of the project's own tests; ``venv.pytest(package)`` runs the package's tests from its directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ThrowawayVenv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @classmethod
    def create(cls, directory: Path) -> ThrowawayVenv:
        """A venv at ``directory`` whose Python also sees this interpreter's site-packages."""
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
        venv = cls(directory)
        site = subprocess.run([str(venv.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        # a venv made from a venv sees the base interpreter's packages, not the parent venv's: a .pth
        # line adds ours as a site dir (so its own .pth files, editable installs included, apply)
        ours = sysconfig.get_paths()["purelib"]
        Path(site, "_unigate_parent.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
        return venv

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        # recording is asked for per package, never inherited from the project's `make cassettes`
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COV_CORE_SOURCE", "UNIGATE_RECORD_CASSETTES")}
        return subprocess.run([str(self.python), *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def install(self, package: Path) -> None:
        """``pip install --no-deps --no-build-isolation -e package`` into this venv (offline)."""
        done = self.run("-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                        "--disable-pip-version-check", "-e", str(package))
        if done.returncode != 0:
            raise RuntimeError(f"pip install {package} failed:\n{done.stdout}\n{done.stderr}")

    def pytest(self, package: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """The package's own tests, run from its directory (its pytest configuration applies)."""
        return self.run("-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=package)

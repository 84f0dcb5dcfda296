"""Type-check the gateway and the built-in connectors with mypy ([tool.mypy] in pyproject.toml).

setup.py maps the directory connectors/ to the package unigate_connectors, which mypy cannot express:
this links both packages under build/typecheck by their import names, then runs mypy on them.
Extra arguments go to mypy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent
LINKS = {"unigate": ROOT / "src" / "unigate", "unigate_connectors": ROOT / "connectors"}


def main() -> int:
    where = ROOT / "build" / "typecheck"
    where.mkdir(parents=True, exist_ok=True)
    for name, target in LINKS.items():
        link = where / name
        if not link.is_symlink() or link.resolve() != target:
            link.unlink(missing_ok=True)
            link.symlink_to(target, target_is_directory=True)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), *sys.argv[1:]])
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main())

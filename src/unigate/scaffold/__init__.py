"""``unigate new-connector NAME``: a connector package that passes its own tests out of the box.

:func:`scaffold` renders the templates in ``templates/`` (Jinja2) into ``<directory>/unigate-<name>/``:
``pyproject.toml`` (the ``unigate.connectors`` entry point, the manifest as package data),
``unigate_<name>/{plugin.py, manifest.yaml, simulator.py}``, a README with the decision table of
what to write where and the call table generated from the manifest, and ``tests/`` running the
acceptance suite (``unigate.testing.acceptance``) against the simulator stub. The stub serves a
small made-up REST tracker; the author replaces it, and the manifest, with the real tracker's,
keeping the tests green. docs/plugins.md walks through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

NAME = re.compile(r"^[a-z][a-z0-9-]*$")   # a service id (the manifest's pattern)
# template (under templates/) -> file in the package, with {package} replaced
FILES = {
    "pyproject.toml.j2": "pyproject.toml",
    "README.md.j2": "README.md",
    "plugin.py.j2": "{package}/plugin.py",
    "init.py.j2": "{package}/__init__.py",
    "manifest.yaml.j2": "{package}/manifest.yaml",
    "simulator.py.j2": "{package}/simulator.py",
    "tests/test_acceptance.py.j2": "tests/test_{module}_acceptance.py",
    "tests/test_simulator.py.j2": "tests/test_{module}_simulator.py",
    "tests/conftest.py.j2": "tests/conftest.py",
}


class ScaffoldError(ValueError):
    """The name is not a service id, or the target directory exists."""


@dataclass(frozen=True)
class Names:
    service_id: str      # acme-cloud
    module: str          # acme_cloud
    package: str         # unigate_acme_cloud
    distribution: str    # unigate-acme-cloud
    title: str           # Acme Cloud
    cls: str             # AcmeCloud

    @classmethod
    def of(cls, name: str) -> Names:
        if not NAME.match(name):
            raise ScaffoldError(f"{name!r} is not a service id: lower-case letters, digits and '-', "
                                "starting with a letter (e.g. acme or acme-cloud)")
        module = name.replace("-", "_")
        words = name.split("-")
        return cls(name, module, f"unigate_{module}", f"unigate-{name}", " ".join(w.capitalize() for w in words),
                   "".join(w.capitalize() for w in words))


def scaffold(name: str, directory: Path) -> Path:
    """Write the package of connector ``name`` to ``directory/unigate-<name>``; its path."""
    names = Names.of(name)
    root = directory / names.distribution
    if root.exists():
        raise ScaffoldError(f"{root} exists: choose another --dir or remove it")
    env = Environment(loader=PackageLoader("unigate.scaffold", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    for template, target in FILES.items():
        path = root / target.format(package=names.package, module=names.module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(n=names))
    _write_calls_table(root / "README.md", root / names.package / "manifest.yaml")
    return root


def _write_calls_table(readme: Path, manifest: Path) -> None:
    """The README's generated call table, from the manifest just written (``unigate connectors readme``'s)."""
    from unigate.connector.base import Connector
    from unigate.connector_info import with_calls_table
    from unigate.mapping.spec import load_mapping_file

    readme.write_text(with_calls_table(readme.read_text(), Connector(load_mapping_file(manifest))))

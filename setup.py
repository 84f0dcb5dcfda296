"""Package layout, which pyproject.toml alone cannot express.

src/unigate  -> unigate              the gateway
connectors/  -> unigate_connectors   built-in connector plugins, one folder each
"""

from setuptools import find_packages, setup

ROOTS = {"unigate": "src/unigate", "unigate_connectors": "connectors"}
PACKAGES = [f"{name}.{sub}" if sub else name for name, path in ROOTS.items() for sub in ["", *find_packages(path)]]

setup(package_dir=ROOTS, packages=PACKAGES)

"""Shared pytest configuration: the gateway and simulator fixtures of unigate.testing."""

pytest_plugins = ["unigate.testing.fixtures"]

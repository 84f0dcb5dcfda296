"""unigate's pytest plugin: the run's summary says whether each tracker ran live or from cassettes."""

pytest_plugins = ["unigate.testing.fixtures"]

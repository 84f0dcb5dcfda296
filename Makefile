# The two fresh-machine commands (README): `make sandbox` and `make test`.
# Each creates .venv with the project installed (editable, with test extras) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox lint test serve bench cassettes mutation

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# `make sandbox PORT=8081` serves on another port (default 8080, or UNIGATE_PORT).
sandbox: $(VENV)/.installed
	$(BIN)/unigate sandbox $(if $(PORT),--port $(PORT))

# Style and likely bugs (ruff), then types (mypy over unigate and unigate_connectors): [tool.ruff] and
# [tool.mypy] in pyproject.toml. `make test` runs this first and stops when it fails.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python scripts/typecheck.py

# `make test` lints (above), then starts the real trackers (Redmine, Roundup) so their live tests run live, and stops them after;
# where they cannot start (not root, offline) those tests replay their cassettes (the summary's
# "trackers" section says which). Tests run in a random order (pytest-randomly prints the seed;
# PYTEST_ADDOPTS=--randomly-seed=N replays it); coverage of the shipped code is reported and must
# stay at 90 % or more. The connect page's browser tests need Chromium and chromedriver: installed
# first (scripts/browser/install.sh; silent when present, an error when it cannot install them). The rate-limit
# tests need Redis (127.0.0.1:6379, or UNIGATE_TEST_REDIS_URL): scripts/redis/ensure.sh starts it where it is
# installed but stopped, and fails when it can be neither reached nor started.
# The vault, API and sync suites run on SQLite and on PostgreSQL (UNIGATE_TEST_POSTGRES, default
# postgresql://postgres@127.0.0.1:5432/test; each run makes and drops a database of its own):
# scripts/postgres/start.sh starts the server where it is installed but stopped; without one those tests fail.
COVERAGE := --cov --cov-report=term --cov-fail-under=90
test: $(VENV)/.installed lint
	scripts/browser/install.sh
	scripts/redis/ensure.sh
	scripts/postgres/start.sh || echo "make test: no PostgreSQL, so the tests on PostgreSQL will fail" >&2
	scripts/trackers/start-all.sh || { scripts/trackers/stop-all.sh; exit 1; }
	$(BIN)/python -m pytest $(COVERAGE); status=$$?; scripts/trackers/stop-all.sh; exit $$status

serve: $(VENV)/.installed
	$(BIN)/unigate serve

bench: $(VENV)/.installed
	$(BIN)/python bench/mapping.py

# Re-record every cassette (the gateway's downstream traffic) against the simulators and the real trackers
# (cassettes/ beside each test module: connectors/<name>/tests/cassettes/); needs root for Redmine.
cassettes: $(VENV)/.installed
	scripts/trackers/start-all.sh
	UNIGATE_RECORD_CASSETTES=1 $(BIN)/python -m pytest -q -k "recorded or live or acceptance"

# Mutation testing of the core modules (docs/mutation-testing.md): mutmut in a scratch copy under
# $TMPDIR/unigate-mutation, one mutant at a time, each against only the tests of its module.
# `make mutation MODULES="cursor params"` runs some; ARGS=--survivors re-tests the last survivors.
MODULES ?=
ARGS ?=
mutation: $(VENV)/.installed
	$(BIN)/python scripts/mutation.py --install $(ARGS) $(MODULES)

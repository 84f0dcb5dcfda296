# The two fresh-machine commands (README): `make sandbox` and `make test`.
# Each creates .venv with the project installed (editable, with test extras) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox test serve bench cassettes

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

sandbox: $(VENV)/.installed
	$(BIN)/unigate sandbox

test: $(VENV)/.installed
	$(BIN)/python -m pytest

serve: $(VENV)/.installed
	$(BIN)/unigate serve

bench: $(VENV)/.installed
	$(BIN)/python bench/mapping.py

# Re-record every vcrpy cassette against the simulators (fixtures/cassettes/<connector>/).
cassettes: $(VENV)/.installed
	UNIGATE_RECORD_CASSETTES=1 $(BIN)/python -m pytest -q -k recorded

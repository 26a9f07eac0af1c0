# btb: two commands for a new user (make demo, make test), plus make bench.
# Everything installs into .venv from the package registries; nothing else is needed.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
BTB    := $(VENV)/bin/btb

.PHONY: demo test lint bench install install-dev clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -e '.[dev]'
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

demo: $(VENV)/.base
	$(BTB) demo --workdir demo_out

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest -q tests

bench: $(VENV)/.dev
	$(PY) bench/run.py --out bench/results.json

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache

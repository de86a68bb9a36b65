# The commands people type. Each one installs what it needs first, from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export PYTHONPATH := .:layers/shared
export SAM_CLI_TELEMETRY := 0
export SAM_CLI := $(abspath $(SAM))
PIP_FLAGS := --quiet --disable-pip-version-check
# `make token USER=2 TENANT=acme` (USER from the command line only: the shell's $USER is a name)
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),1)
TENANT ?= acme

.PHONY: dev test lint bench build token install clean

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(SAM_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-sam.txt
	touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed

## Serve the whole API on http://127.0.0.1:$(PORT) against the embedded emulator, with demo data.
dev: $(VENV)/.installed
	$(PY) -m tests.devstack

## Install everything and run the whole suite (unit, integration, e2e, SAM validate/build).
test: install lint
	$(PY) -m pytest -q

## ruff, mypy (the layer, then each function's app.py on its own: they are separate packages), cfn-lint
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	MYPYPATH=layers/shared $(VENV)/bin/mypy layers/shared/leads_shared
	for app in functions/*/app.py; do MYPYPATH=layers/shared $(VENV)/bin/mypy $$app || exit 1; done
	$(SAM) validate --lint --region us-east-1

build: $(SAM_VENV)/.installed
	$(SAM) build

bench: $(VENV)/.installed
	$(PY) -m tests.bench

token: $(VENV)/.installed
	@$(PY) -m tests.devstack.tokens --user $(TOKEN_USER) --tenant $(TENANT)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache

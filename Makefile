# The commands people type. Each one installs what it needs first, from nothing.
SHELL := /bin/bash
# Local development and tests run the Lambda runtime's Python (template.yaml: python3.13), so what
# is tested is what runs: `python3.13` on PATH, else pyenv's newest 3.13.x. PYTHON=... overrides.
PYTHON_VERSION := 3.13
IS_LAMBDA_PYTHON := -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")'
ifneq ($(origin PYTHON),command line)
PYTHON := $(shell for p in python$(PYTHON_VERSION) \
	$$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION) 2>/dev/null | sort -V -r); \
	do "$$p" $(IS_LAMBDA_PYTHON) 2>/dev/null && command -v "$$p" && break; done)
endif
ifeq ($(strip $(PYTHON)),)
$(error Python $(PYTHON_VERSION) not found (the Lambda runtime's version). Install it: `pyenv install $(PYTHON_VERSION)`, or your system's python$(PYTHON_VERSION) package (Debian/Ubuntu: deadsnakes' python$(PYTHON_VERSION)-venv; macOS: `brew install python@$(PYTHON_VERSION)`), or run `make PYTHON=/path/to/python$(PYTHON_VERSION) ...`)
endif
# `sam build` looks for python3.13 on PATH: the interpreter found above comes first.
export PATH := $(dir $(abspath $(PYTHON))):$(PATH)
VENV := .venv
# A virtualenv of another Python (an older checkout's) is made again; one of this Python is kept.
fresh_venv = if ! $(1)/bin/python $(IS_LAMBDA_PYTHON) 2>/dev/null; \
	then rm -rf $(1) && $(PYTHON) -m venv $(1); fi
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export PYTHONPATH := .:layers/shared
export SAM_CLI_TELEMETRY := 0
export SAM_CLI := $(abspath $(SAM))
PIP_FLAGS := --quiet --disable-pip-version-check
# `make token USER=2 TENANT=acme` (USER from the command line only: the shell's $USER is a name)
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),1)
TENANT ?= acme

.PHONY: dev test lint bench build token install browser clean

# The virtualenvs are filled by uv (pinned here), installed first into .venv by pip: it installs
# the same pinned packages as pip, from PyPI, in seconds rather than minutes (a fresh clone's
# `make test` spent 3 of its 12 minutes in pip).
UV_PIN := uv==0.13.9
UV := $(VENV)/bin/uv
UV_INSTALL = $(UV) pip install --quiet --python $(1)/bin/python -r $(2)

$(UV):
	$(call fresh_venv,$(VENV))
	$(VENV)/bin/pip install $(PIP_FLAGS) $(UV_PIN)

$(VENV)/.installed-$(PYTHON_VERSION): requirements-dev.txt layers/shared/requirements.txt | $(UV)
	$(call fresh_venv,$(VENV))
	$(VENV)/bin/pip install $(PIP_FLAGS) $(UV_PIN)
	$(call UV_INSTALL,$(VENV),requirements-dev.txt)
	touch $@

$(SAM_VENV)/.installed-$(PYTHON_VERSION): requirements-sam.txt | $(UV)
	$(call fresh_venv,$(SAM_VENV))
	$(call UV_INSTALL,$(SAM_VENV),requirements-sam.txt)
	touch $@

$(SCAN_VENV)/.installed-$(PYTHON_VERSION): requirements-scan.txt | $(UV)
	$(call fresh_venv,$(SCAN_VENV))
	$(call UV_INSTALL,$(SCAN_VENV),requirements-scan.txt)
	touch $@

install: $(VENV)/.installed-$(PYTHON_VERSION) $(SAM_VENV)/.installed-$(PYTHON_VERSION) $(SCAN_VENV)/.installed-$(PYTHON_VERSION) browser

# The browser tests (tests/e2e/test_forms_browser.py) drive Debian's Chromium and its driver
# (no browser download: Selenium is given both paths). Installed with apt-get where we may (root,
# or sudo without a password); elsewhere, what to install is printed and those tests are skipped.
CHROMIUM_PACKAGES := chromium chromium-driver
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES); \
	elif command -v apt-get >/dev/null && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES); \
	else \
	  echo "Chromium not found: install Debian's $(CHROMIUM_PACKAGES) (/usr/bin/chromium, /usr/bin/chromedriver)"; \
	  echo "for the browser tests of lead forms; without them those tests are skipped."; \
	fi

## Serve the whole API on http://127.0.0.1:$(PORT) against the embedded emulator, with demo data.
dev: $(VENV)/.installed-$(PYTHON_VERSION)
	$(PY) -m devstack

## Install everything and run the whole suite (unit, integration, e2e, SAM validate/build).
test: install lint
	# Bytecode is written (the machine may say otherwise: PYTHONDONTWRITEBYTECODE): each worker and
	# each process a test starts would compile the layer and the tests again (about 2 s each).
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

# checkov: the template's resources against its AWS checks. A failed check fails the lint; the
# few we accept are skipped in template.yaml on the resource itself, each with its reason
# (README, Security). BC_SKIP_MAPPING and --skip-download: no calls to the vendor's platform;
# CKV_SKIP_PACKAGE_UPDATE_CHECK: none to PyPI for a newer checkov either.
CHECKOV := BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE $(SCAN_VENV)/bin/checkov \
	--skip-download --compact --quiet
# pip-audit: each file of pinned requirements and everything it pulls in, resolved in a throwaway
# virtualenv (the layer's alone too: it is what Lambda runs, resolved apart from the dev tools by
# `sam build`), against PyPI's vulnerability data. --strict: a package it could not check fails
# too. A vulnerability we accept gets `--ignore-vuln ID` here, with its reason.
PIP_AUDIT := $(SCAN_VENV)/bin/pip-audit --strict --progress-spinner off
AUDITED := layers/shared/requirements.txt requirements-dev.txt requirements-sam.txt
# It first audits the scanners' own two pins (no resolution: a second). Where PyPI's per-version
# JSON API does not answer (this project's own machines reach PyPI's index only), it could check
# nothing ("could not be audited"; a ConnectionError offline): lint then says so plainly and goes
# on, rather than failing every run. Any other failure (a vulnerability) fails the lint.
# `make lint PIP_AUDIT_REQUIRED=1` (for a CI that reaches that API) makes NOT RUN a failure too.
PIP_AUDIT_REQUIRED ?=
PIP_AUDIT_CAN_REACH_PYPI := $(PIP_AUDIT) --no-deps --disable-pip -r requirements-scan.txt

## ruff, mypy (the layer and every function's app.py, each app its own module: functions.<group>.app),
## cfn-lint, checkov on the template, pip-audit on the pinned requirements. The five checks are
## independent: they run side by side, one per core, each one's output printed whole when it ends.
LINTS := lint-ruff lint-mypy lint-template lint-checkov lint-audit
.PHONY: $(LINTS)
lint: install
	@$(MAKE) --no-print-directory -j $(shell nproc 2>/dev/null || echo 2) --output-sync=target $(LINTS)

lint-ruff:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lint-mypy:
	MYPYPATH=layers/shared $(VENV)/bin/mypy --explicit-package-bases layers/shared/leads_shared functions/*/app.py

lint-template:
	$(SAM) validate --lint --region us-east-1

lint-checkov:
	$(CHECKOV) --framework cloudformation --file template.yaml

lint-audit:
	@if out=$$($(PIP_AUDIT_CAN_REACH_PYPI) 2>&1); then \
	  for req in $(AUDITED); do echo "pip-audit -r $$req"; $(PIP_AUDIT) -r $$req || exit 1; done; \
	elif grep -q -e "could not be audited" -e "ConnectionError" <<<"$$out"; then \
	  echo "pip-audit: NOT RUN: PyPI's vulnerability data cannot be reached from this machine"; \
	  if [ -n "$(PIP_AUDIT_REQUIRED)" ]; then echo "PIP_AUDIT_REQUIRED is set"; exit 1; fi; \
	else \
	  echo "$$out"; exit 1; \
	fi

build: $(SAM_VENV)/.installed-$(PYTHON_VERSION)
	$(SAM) build

bench: $(VENV)/.installed-$(PYTHON_VERSION) $(SAM_VENV)/.installed-$(PYTHON_VERSION)
	$(PY) -m tests.bench

token: $(VENV)/.installed-$(PYTHON_VERSION)
	@$(PY) -m devstack.tokens --user $(TOKEN_USER) --tenant $(TENANT)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam .pytest_cache .ruff_cache

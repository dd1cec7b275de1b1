# K-Inventory privacy site. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi:app
# Test processes (pytest-xdist): one per core by default; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto

.DEFAULT_GOAL := help
.PHONY: help run test fuzz coverage serve setup dev-setup system-deps translations migrate lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

translations: $(VENV)/.runtime ## Compile the translation catalogues (.po -> .mo)
	$(FLASK) translate compile

migrate: $(VENV)/.runtime ## Apply the database migrations
	$(FLASK) db upgrade heads

setup: $(VENV)/.runtime translations migrate ## Install, compile translations, migrate, load the first policy
	$(FLASK) policy init

system-deps: ## Install Debian's Chromium and a Java runtime when missing (browser and HTML tests)
	@command -v /usr/bin/chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }

dev-setup: setup $(VENV)/.dev node_modules/.installed system-deps

run: setup ## Start the site on http://127.0.0.1:5000 (with the scheduler: mail worker, retention, backups)
	@echo "Mail without MAIL_SERVER is written to instance/mail/*.eml"
	trap 'kill 0' EXIT; $(FLASK) jobs run & $(FLASK) run --host 127.0.0.1 --port 5000

serve: setup ## Start the site with gunicorn (production style; settings and log redaction in gunicorn.conf.py)
	$(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

lint: $(VENV)/.dev ## Run ruff and the import contracts (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: dev-setup lint ## Set everything up, lint, and run the whole test suite (in parallel; few hypothesis examples)
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

fuzz: dev-setup ## The property-based tests with many examples (hypothesis profile "full")
	HYPOTHESIS_PROFILE=full $(VENV)/bin/pytest -n $(TEST_WORKERS) -m fuzz

coverage: dev-setup ## The whole suite with line coverage of app/, per file
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --cov=app --cov-report=term:skip-covered

bench: dev-setup ## Run the benchmarks (figures go in the README; installs Debian's wrk when missing)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PYTHON) bench/run.py

clean: ## Remove the virtualenv, node modules and caches (keeps instance/)
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache

# K-Inventory privacy site. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi:app
# Test processes (pytest-xdist): one per core by default; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
# make run: the development server on HOST:PORT (127.0.0.1:5000). make serve: gunicorn on GUNICORN_BIND and, when
# Debian's nginx is installed, nginx on PORT (8080) in front of it for the host names SERVER_NAMES (deploy/nginx.conf
# filled by envsubst; its cache, logs and temporary files in NGINX_DIR). Unless SITE_URL is set (environment or .env),
# links in mail follow the address the site is served on (FLASK_RUN_HOST and FLASK_RUN_PORT, read by app/config.py).
HOST ?= 127.0.0.1
RUN_PORT := $(or $(PORT),5000)
SERVE_PORT := $(or $(PORT),8080)
GUNICORN_BIND ?= 127.0.0.1:8000
SERVER_NAMES ?= 127.0.0.1 localhost
NGINX ?= $(firstword $(wildcard /usr/sbin/nginx) $(shell command -v nginx))
NGINX_DIR := $(abspath instance/nginx)
NGINX_VARIABLES := $${NGINX_ADDRESS} $${NGINX_PORT} $${NGINX_SERVER_NAMES} $${NGINX_UPSTREAM} $${NGINX_CACHE_DIR} \
	$${NGINX_STATIC_DIR}
# As root (a container), nginx's workers keep root's rights to read the working copy (else they run as `nobody`).
NGINX_USER := $(if $(filter 0,$(shell id -u)),user root;)

.DEFAULT_GOAL := help
.PHONY: help run test fuzz coverage serve setup dev-setup system-deps translations migrate lint docs screenshots bench clean

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

system-deps: ## Install Debian's Chromium, a Java runtime (browser and HTML tests), nginx and envsubst (make serve's cache, its tests) when missing
	@command -v /usr/bin/chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx; }
	@command -v envsubst >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext-base; }

dev-setup: setup $(VENV)/.dev node_modules/.installed system-deps

run: setup ## Start the site on http://127.0.0.1:5000 (HOST, PORT) with the scheduler (mail worker, retention, backups)
	@echo "Mail without MAIL_SERVER is written to instance/mail/*.eml"
	export FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(RUN_PORT); trap 'kill 0' EXIT; $(FLASK) jobs run & $(FLASK) run

serve: setup ## Start gunicorn on 127.0.0.1:8000 and, when nginx is installed, nginx in front on http://127.0.0.1:8080 (PORT; deploy/nginx.conf: public pages cached, static files); Ctrl-C stops both
	@trap 'kill 0' EXIT; \
	export FLASK_RUN_HOST=$(firstword $(subst :, ,$(GUNICORN_BIND))) FLASK_RUN_PORT=$(lastword $(subst :, ,$(GUNICORN_BIND))); \
	if [ -n "$(NGINX)" ]; then \
	  mkdir -p $(NGINX_DIR)/temp; \
	  export FLASK_RUN_HOST=127.0.0.1 FLASK_RUN_PORT=$(SERVE_PORT); \
	  NGINX_ADDRESS=127.0.0.1 NGINX_PORT=$(SERVE_PORT) NGINX_SERVER_NAMES="$(SERVER_NAMES)" NGINX_UPSTREAM=$(GUNICORN_BIND) \
	    NGINX_CACHE_DIR=$(NGINX_DIR)/cache NGINX_STATIC_DIR=$(CURDIR)/static \
	    envsubst '$(NGINX_VARIABLES)' < deploy/nginx.conf > $(NGINX_DIR)/nginx.conf || exit 1; \
	  $(NGINX) -p $(NGINX_DIR) -c $(NGINX_DIR)/nginx.conf -e $(NGINX_DIR)/error.log \
	    -g 'daemon off; pid $(NGINX_DIR)/nginx.pid; error_log $(NGINX_DIR)/error.log; $(NGINX_USER)' & \
	  export TRUSTED_PROXY_COUNT=1; \
	  echo "nginx in front of gunicorn: http://127.0.0.1:$(SERVE_PORT)"; \
	else echo "nginx is not installed (make system-deps): gunicorn alone on http://$(GUNICORN_BIND)"; fi; \
	GUNICORN_BIND=$(GUNICORN_BIND) $(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

lint: $(VENV)/.dev ## Run ruff and the import contracts (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: dev-setup lint ## Set everything up, lint, check the documentation site builds, run the whole test suite
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

docs: $(VENV)/.dev ## Build the documentation site into site/ (mkdocs build --strict; `mkdocs serve` to browse it)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

screenshots: dev-setup ## Take the documentation's screenshots from the live site in Chromium (into docs/images)
	DOCS_SCREENSHOTS=docs/images $(VENV)/bin/pytest -n 0 tests/test_docs_screenshots.py \
		tests/test_policy_publication.py tests/test_cookie_scan.py

fuzz: dev-setup ## The property-based tests with many examples (hypothesis profile "full")
	HYPOTHESIS_PROFILE=full $(VENV)/bin/pytest -n $(TEST_WORKERS) -m fuzz

coverage: dev-setup ## The whole suite with line coverage of app/, per file
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --cov=app --cov-report=term:skip-covered

bench: dev-setup ## Run the benchmarks (figures: docs/benchmarks.md; installs Debian's wrk when missing)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PYTHON) bench/run.py

clean: ## Remove the virtualenv, node modules and caches (keeps instance/)
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache site

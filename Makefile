# m365_sync — developer entry points. `make test` and `make demo` are the two
# commands a fresh machine needs; everything else is a step of theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
ODOO_SRC ?= /opt/odoo19
export ODOO_SRC VENV PYTHON

.PHONY: help venv test test-pure test-odoo test-pytest-odoo bench bench-odoo demo lint format readme pot screenshots clean

help:
	@echo "make test   - virtualenv, pure suites, Odoo suites (when Odoo is at \$$ODOO_SRC)"
	@echo "make test-pure / test-odoo / test-pytest-odoo - one step of make test"
	@echo "make demo   - sandbox tenant + Odoo database m365_demo with the addon, then serve Odoo"
	@echo "make bench  - Graph client benchmarks against the sandbox with simulated latency"
	@echo "make bench-odoo - feature benchmarks through Odoo (scratch databases; needs Odoo)"
	@echo "make lint   - ruff (check + format), pylint-odoo, addon README up to date"
	@echo "make pot    - regenerate i18n/*.pot from a scratch database (needs Odoo)"
	@echo "make screenshots - README screenshots (docs/screenshots/) from a demo database (Chromium)"

venv:
	@tools/venv.sh

test:
	@tools/test.sh all

test-pure:
	@tools/test.sh pure

test-odoo:
	@tools/test.sh odoo

test-pytest-odoo:
	@tools/test.sh pytest-odoo

bench: venv
	$(VENV)/bin/python -m bench

bench-odoo:
	@tools/bench-odoo.sh

demo:
	@tools/demo.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pylint --rcfile=.pylintrc m365_sync m365_sync_queue m365_sync_hr
	$(VENV)/bin/python tools/addon_readme.py --check

readme:
	$(VENV)/bin/python tools/addon_readme.py

pot: venv
	@tools/pot.sh

# Playwright wants a newer greenlet than Odoo pins, so it is not in
# requirements-test.txt: installed here without dependencies (its asyncio API,
# which tools/screenshots.py uses, needs only pyee).
screenshots: venv
	$(VENV)/bin/python -m pip install -q --no-deps -r requirements-screenshots.txt
	$(VENV)/bin/python tools/screenshots.py

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .test-runtime

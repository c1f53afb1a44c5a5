# Atende: `make run` on a machine with only Python 3.11; `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per kind of install: each reinstalls only when pyproject.toml changed since.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist): one per core; `make test TEST_WORKERS=0` runs them in one.
TEST_WORKERS ?= auto

.PHONY: run test lint bench install install-dev migrate seed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What running needs: the project without its dev extras.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What testing, linting and benchmarking need: the dev extras too.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The demo's banner prints the address `make run` serves on (HOST and PORT).
seed: migrate
	$(BIN)/python manage.py seed_demo --host $(HOST) --port $(PORT)

run: seed
	@echo ""
	@echo "Serving Atende on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# With DATABASE_URL and REDIS_URL the settings are production's: pages resolve static files
# through whitenoise's manifest, so collect them first (as a deployment does).
test: install-dev
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		$(BIN)/python manage.py collectstatic --noinput -v0; fi
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install-dev
	$(BIN)/python benchmarks/run.py

# Palimpsest: `make run` serves the app on 127.0.0.1:$(PORT); `make test` runs the whole suite.
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format check migrations-check bench bench-smoke bench-load clean

# Find a Python >= 3.12 by itself: explicit $(PYTHON), then versioned names on PATH, then pyenv.
define find_python
for c in $${PYTHON:-} python3.13 python3.12 \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python 2>/dev/null | sort -rV) \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python 2>/dev/null | sort -rV) \
    python3 python; do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    echo $$c; exit 0; fi; \
done; echo "No Python >= 3.12 found: install one, or run make PYTHON=/path/to/python3.12" >&2; exit 1
endef

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { py=$$($(find_python)) && echo "Creating $(VENV) with $$py ($$($$py --version))" && $$py -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	@DEBUG=1 $(PY) manage.py migrate --no-input -v 0
	@DEBUG=1 $(PY) manage.py refresh_texts
	@DEBUG=1 $(PY) manage.py import_policies --no-progress sample_data | sed -n 1p
	@DEBUG=1 $(PY) manage.py create_demo_users
	@echo "Palimpsest: http://127.0.0.1:$(PORT)/"
	@# A task worker for imports from the browser runs alongside the server and stops with it.
	@DEBUG=1 $(PY) manage.py db_worker --no-reload --no-startup-delay & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT; \
	  DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite runs on every core (at most 4 workers), each worker with its own test database;
# make test PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --maxprocesses 4 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r config policies annotations api -ll

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

check: migrations-check
	DEBUG=0 SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=palimpsest.example.org $(PY) manage.py check --deploy --fail-level WARNING

# Every bench script at full size (PostgreSQL; about an hour), then each goal: meets or MISSES.
bench: $(STAMP)
	PY=$(PY) bench/run_all.sh

# Every bench script at a tiny size (a few minutes, no goals checked): CI runs it, so a bench that
# no longer runs fails CI.
bench-smoke: $(STAMP)
	PY=$(PY) bench/run_all.sh --smoke

# Gunicorn + wrk on the main pages, against PostgreSQL (about 6 minutes; see the script).
bench-load: $(STAMP)
	bench/load.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

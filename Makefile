# Hearthline developer tasks (GNU make).
#   make demo    - install and run a demo server with simulated traffic
#   make test    - install, start PostgreSQL/Redis if needed, run the whole suite
#   make unit    - unit tests only
#   make bench   - benchmarks

VENV ?= .venv
PYTHON ?= python3
PY = $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: install system-deps demo test unit bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --no-input --upgrade pip
	$(PY) -m pip install --no-input -e '.[test]'
	touch $@

install: $(VENV)/.installed

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(PY) -m hearthline.entrypoints.cli demo $(DEMO_ARGS)

test: install system-deps
	VENV='$(VENV)' bash scripts/run-tests.sh $(PYTEST_ARGS)

unit: install
	$(PY) -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

bench: install system-deps
	@for f in bench/routing.py bench/http_create.py bench/realtime.py; do \
		test -f "$$f" || { echo "error: $$f is missing" >&2; exit 1; }; \
	done
	$(PY) bench/routing.py
	$(PY) bench/http_create.py
	$(PY) bench/realtime.py

clean:
	rm -rf build dist src/*.egg-info .pytest_cache .hypothesis
	find . -path './$(VENV)' -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

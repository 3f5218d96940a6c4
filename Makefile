# Reunite — `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo serve install dev test test-sqlite test-postgres lint typecheck format bench vendor messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/reunite demo

serve: $(STAMP)
	$(BIN)/reunite serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test-sqlite: $(STAMP)
	REUNITE_VAR_DIR=$(CURDIR)/var/test-sqlite $(BIN)/pytest -p no:cacheprovider

# The PostgreSQL leg: skipped (loudly) only when no server can be reached or started.
test-postgres: $(STAMP)
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start 2>/dev/null; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && break; sleep 1; done; \
	fi; \
	if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) REUNITE_VAR_DIR=$(CURDIR)/var/test-postgres $(BIN)/pytest -p no:cacheprovider; \
	else \
	  echo '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'; \
	  echo '!!! SKIPPED: the PostgreSQL leg — no PostgreSQL server at 127.0.0.1:5432 could be started !!!'; \
	  echo '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'; \
	fi

test: lint typecheck test-sqlite test-postgres

bench: $(STAMP)
	@ls benchmarks/*.py >/dev/null 2>&1 && for b in benchmarks/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

# Re-fetch the vendored front-end assets from the npm registry (versions pinned in package.json).
vendor:
	rm -rf node_modules && npm install --no-audit --no-fund --silent
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE src/reunite/static/vendor/htmx/
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md src/reunite/static/vendor/pico/

messages: $(STAMP)
	cd src/reunite && ../../$(BIN)/reunite makemessages -l zh_Hans --no-obsolete --no-location
	cd src/reunite && ../../$(BIN)/reunite compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

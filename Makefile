# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the pages' front-end libraries (Chart.js, Swagger UI, ReDoc) come from npm, never from git
NPM_STAMP := node_modules/.installed

.PHONY: install system-deps system-deps-test run test check lint typecheck imports stores migrate seed clean bench-load

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "install: npm is missing (Node.js 18+), e.g.: sudo apt-get install nodejs npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

## install: the .venv with the project and its dev tools, and the pages' npm packages
install: $(STAMP) $(NPM_STAMP)

## system-deps: espeak-ng and sox (installed with apt-get when run as root)
system-deps:
	@./scripts/system-deps.sh

## system-deps-test: the above plus Chromium for the browser tests
system-deps-test:
	@./scripts/system-deps.sh --browser

## run: set up, migrate the embedded database, seed demo data if empty, serve
run: install system-deps
	$(BIN)/callcenter migrate
	$(BIN)/callcenter seed-demo --if-empty
	$(BIN)/callcenter serve

## test: the whole suite
test: install system-deps-test
	$(BIN)/python -m pytest

## check: ruff, mypy strict, the layering contracts and the generated store ports, all clean
check: lint typecheck imports

imports: install
	$(BIN)/lint-imports
	$(BIN)/python scripts/gen_stores.py --check

## stores: regenerate callcenter/ports/{records,stores}.py and callcenter/db/stores.py
stores: install
	$(BIN)/python scripts/gen_stores.py

lint: install
	$(BIN)/ruff check callcenter tests bench
	$(BIN)/ruff format --check callcenter tests bench

typecheck: install
	$(BIN)/mypy

migrate: install
	$(BIN)/callcenter migrate

seed: install
	$(BIN)/callcenter seed-demo

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache

## bench-recordings: recording search p95 on 100,000 rows (SQLite, and PostgreSQL when reachable)
.PHONY: bench-recordings
bench-recordings: install
	$(BIN)/python bench/recordings_search.py

.PHONY: bench-dialer
## bench-dialer: predictive vs progressive vs ratio-feedback dialling (seeded simulation)
bench-dialer: install
	$(BIN)/python -m bench.dialer

.PHONY: bench-sip
## bench-sip: SIPp callers through a real Asterisk 22 and the platform on PostgreSQL (skips without them)
bench-sip: install
	flock /tmp/asterisk.lock $(BIN)/python -m bench.sip

.PHONY: bench-load
## bench-load: 50 calls/s for 3 min: simulator, telephony role and api role as processes on PostgreSQL
bench-load: install
	$(BIN)/python -m bench.load

.PHONY: bench-reports
## bench-reports: the month summary over one million call records on PostgreSQL (p95)
bench-reports: install
	$(BIN)/python -m bench.reports

.PHONY: bench-notify
## bench-notify: 50,000 SMS through the job workers, the worker killed midway and restarted
bench-notify: install
	$(BIN)/python -m bench.notify

.PHONY: soak
## soak: the platform on PostgreSQL under steady simulated calls for SOAK_MINUTES (default 60)
soak: install
	$(BIN)/python -m bench.soak

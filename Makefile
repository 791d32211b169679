# 民情哨: `make run` serves the site and the sync server; `make test` runs every test.
# Both go through `make setup`, which is idempotent: run it as often as you like.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the tests drive: the browser, the QR decoder, the reverse proxy; and a
# CJK font for the station name under each chat QR code.
DEBS   := chromium zbar-tools nginx-light fonts-droid-fallback
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup debs run build test test-fast bench clean

setup: $(STAMP) debs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

debs:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: setup
	$(BIN)/minqing build

run: build
	$(BIN)/minqing serve

# One pytest worker per core (pytest-xdist). `--dist load` sends each worker its tests in
# the collected order, which puts the browser tests last in every worker
# (tests/conftest.py says why). The 15 slowest tests are listed at the end.
WORKERS ?= auto
PYTEST  := $(BIN)/pytest -n $(WORKERS) --dist load --durations=15

test: setup
	$(BIN)/ruff check .
	$(PYTEST)

# The inner loop: every test but the browser ones (e2e) and the fault-injection runs (slow).
test-fast: setup
	$(BIN)/ruff check .
	$(PYTEST) -m "not e2e and not slow"

# Every benchmark at its full size (minutes: 6.3 at load 7): build/bench/results.json, with the
# run's date and commit. BENCH_ARGS=--update-docs also rewrites the performance doc's figures
# and their committed copy, docs/performance-results.json.
bench: build
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

.PHONY: bench-smoke bench-check bench-docs
# Every benchmark at its smallest size, in seconds (build/bench/smoke.json); `make test`
# runs it too (tests/benchmarks/test_smoke.py).
bench-smoke: build
	$(BIN)/python -m benchmarks --smoke

# Every figure the performance doc quotes is results.json's (benchmarks/docs.py says
# which file holds them).
bench-check: setup
	$(BIN)/python -m benchmarks.docs

# The performance doc and its committed copy of the figures (docs/performance-results.json)
# rewritten from the last whole run's build/bench/results.json, without running it again.
bench-docs: setup
	$(BIN)/python -m benchmarks.docs --update

clean:
	rm -rf build .pytest_cache

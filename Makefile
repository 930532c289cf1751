# Outcome Warehouse. Needs only python3 and make: the first target you run creates .venv from uv.lock.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

.PHONY: help run test test-spark test-fast lint format docs ui bench bench-dbt clean env env-spark chromium

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The optional `spark` extra (dbt-spark, pyspark) is installed by `make env-spark`, which leaves
# the marker $(SPARK_MARKER) in .venv. `uv sync` removes every package of an extra it was not
# asked for, so `make env` (and `make test`, which runs it) passes --extra spark whenever the
# marker is there: env then env-spark, or env-spark then env, both end with Spark installed, and
# a machine that never ran env-spark gets the environment without it. `make clean` removes the
# marker with .venv.
SPARK_MARKER := $(BIN)/.spark-extra
SPARK_EXTRA = $(if $(wildcard $(SPARK_MARKER)),--extra spark)
# Spark 4 runs on Java 17; the system's OpenJDK 17 is installed only when `java` is not 17.
JAVA_17_PACKAGE := openjdk-17-jre-headless

$(BIN)/.synced: pyproject.toml uv.lock | $(UV)
	@# bytecode compiled once here: imports then never compile sources, even where
	@# PYTHONDONTWRITEBYTECODE keeps Python from caching them (most of a cold start otherwise)
	$(UV) sync --frozen --compile-bytecode $(SPARK_EXTRA)
	@touch $@

env: $(BIN)/.synced ## Create or update .venv exactly from uv.lock (keeps the spark extra once installed)

env-spark: | $(UV) ## Add the optional Spark extra (dbt-spark, pyspark) from uv.lock, and Java 17 if missing
	@if java -version 2>&1 | grep -q 'version "17\.'; then \
		echo "Java 17 found"; \
	else \
		echo "Java 17 missing: installing $(JAVA_17_PACKAGE)"; \
		apt-get update && apt-get install -y --no-install-recommends $(JAVA_17_PACKAGE); \
	fi
	$(UV) sync --frozen --compile-bytecode --extra spark
	@touch $(SPARK_MARKER) $(BIN)/.synced

# The browser test of the report (tests/integration/test_report_browser.py) drives the system's
# Chromium through Playwright, which never downloads a browser of its own. `make test` installs
# Debian's chromium when it is missing; where that cannot work (not root, no apt-get, no network)
# it says so and the browser test skips, naming the reason.
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

chromium: ## Install the system's Chromium for the report's browser test (apt-get, when missing)
	@if [ -x $(CHROMIUM) ]; then \
		echo "Chromium found at $(CHROMIUM)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Chromium missing: installing Debian's chromium"; \
		(apt-get update && apt-get install -y --no-install-recommends chromium) \
			|| echo "Chromium could not be installed: the report's browser test will skip"; \
	else \
		echo "Chromium missing and apt-get cannot run here (needs root): the report's browser test will skip"; \
	fi

run: env ## Demo end to end: generate demo data, ingest, dbt build + tests, report, publish
	$(BIN)/owh demo

# pytest keeps each test module's assertion-rewritten bytecode in __pycache__ (git-ignored) and
# reuses it while the module is unchanged, but not where PYTHONDONTWRITEBYTECODE is set: then each
# test worker rewrites and compiles every test module again at every run. Unset for the test
# targets, collecting every test in one process took 10.8-11.0 s instead of 17.1 s, from the
# second run on (the first one writes that bytecode).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

test: env chromium ## Run every test (pytest on two workers: unit, dbt unit tests, integration, the report in Chromium)
	@# parse the dbt project once, before two test workers would both find no manifest
	$(BIN)/python -c "from pipelines.lib.dbt_project import ensure_manifest; ensure_manifest()"
	$(PYTEST) -n 2 --dist loadgroup --durations=15 -m "not spark"

# The Spark leg (tests marked `spark`: the demo and the edge cases built on both engines and
# compared mart by mart, the dbt unit tests on Spark), on the same two workers and groups as
# `make test`; -rP prints the comparison and the build times.
test-spark: env-spark ## Run the Spark tests (installs the spark extra and Java 17 first; docs/spark.md)
	$(BIN)/python -c "from pipelines.lib.dbt_project import ensure_manifest; ensure_manifest()"
	$(PYTEST) -n 2 --dist loadgroup --durations=15 -m spark -rP

test-fast: env ## Run the unit tests only
	$(PYTEST) -m "not integration"

lint: env ## ruff check, ruff format --check, sqlfluff lint
	$(BIN)/ruff check pipelines tests
	$(BIN)/ruff format --check pipelines tests
	@# the profile every run renders (pipelines.lib.dbt_project.build_environment), so that the
	@# project's kept parse stays the one runs reuse
	mkdir -p dbt_project/target/lint
	HOME=$(CURDIR)/dbt_project/target/lint OWH_DUCKDB_PATH='~/warehouse.duckdb' \
		$(BIN)/sqlfluff lint --processes 2 dbt_project/models dbt_project/data-tests

format: env ## Format Python with ruff
	$(BIN)/ruff format pipelines tests
	$(BIN)/ruff check --fix pipelines tests

WAREHOUSE ?= warehouse

docs: env ## The data catalogue: dbt docs of the published warehouse, dbt_project/target/docs/static_index.html (WAREHOUSE=folder)
	@# from a copy of the published file: dbt opens its database for writing, and the published
	@# file is only ever replaced by a nightly run's rename (pipelines/metrics/docs.py)
	$(BIN)/python -m pipelines.metrics.docs --warehouse $(WAREHOUSE) --target dbt_project/target/docs

ui: env ## Start the Dagster UI on dagster_home/
	$(BIN)/owh ui

BENCH_TASKS ?= 10000 100000 1000000
BENCH_COMPARE_TASKS ?= 20000
BENCH_DEMO_RUNS ?= 3

bench: env ## Benchmark owh run per stage at 10k, 100k, 1M tasks, a nightly, against jira-agile-metrics and plain SQL, then the demo of `make run` three times (BENCH_TASKS="2000 20000" for less)
	$(BIN)/python benchmarks/bench_run.py --tasks $(BENCH_TASKS) --compare-tasks $(BENCH_COMPARE_TASKS) --demo-runs $(BENCH_DEMO_RUNS)

bench-dbt: env ## Benchmark dbt build alone at 100k and 1M tasks (times, peak memory, slowest nodes)
	$(BIN)/python benchmarks/bench_dbt.py --tasks 100000 1000000

clean: ## Remove generated data, warehouse, dbt target and the environment
	rm -rf data warehouse bench dbt_project/target dbt_project/logs $(VENV) $(TOOLS)
	find dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +

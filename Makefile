# Two commands: `make run` (demo end to end on the embedded default) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export SHARED_DIR ?= $(CURDIR)/data/shared
export WAREHOUSE_URL ?= sqlite:///$(CURDIR)/data/warehouse.sqlite
export GX_ANALYTICS_ENABLED := false

.PHONY: install run test airflow-db clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into .venv (log: $(VENV)/install.log) ..."
	@$(BIN)/pip install --upgrade pip > $(VENV)/install.log 2>&1 || (tail -30 $(VENV)/install.log; exit 1)
	@$(BIN)/pip install -c constraints.txt -e ".[dev]" >> $(VENV)/install.log 2>&1 || (tail -30 $(VENV)/install.log; exit 1)
	@# Chromium for the test that opens Data Docs with the network off (Debian's package; skipped where it cannot be installed)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) >> $(VENV)/install.log 2>&1 \
		|| echo "chromium could not be installed (not root, or no apt): tests/etl/ingest/validate/test_offline_docs.py skips its browser test"
	@touch $@

airflow-db: install
	@mkdir -p $(AIRFLOW_HOME)
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)

# The demo publishes figures awaiting a steward's approval too, so its printout is complete (README "Approval").
run: export PUBLISH_UNAPPROVED ?= 1
run: airflow-db
	$(BIN)/python -m etl demo
	@echo "running the ingest DAG (log: $(AIRFLOW_HOME)/dags-test.log) ..."
	@$(BIN)/airflow dags test district_ingest > $(AIRFLOW_HOME)/dags-test.log 2>&1 || (tail -50 $(AIRFLOW_HOME)/dags-test.log; exit 1)
	@grep -E "run summary|DagRun Finished" $(AIRFLOW_HOME)/dags-test.log | sed -E "s/^.*\[(info|warning) *\] //; s/ \[[a-z._]+\] loc=.*$$//" | cut -c1-220
	@echo "running the publish DAG (log: $(AIRFLOW_HOME)/publish-test.log) ..."
	@$(BIN)/airflow dags test city_review_publish > $(AIRFLOW_HOME)/publish-test.log 2>&1 || (tail -50 $(AIRFLOW_HOME)/publish-test.log; exit 1)
	$(BIN)/python -m etl indicators
	@echo
	@echo "review pack:   $$(ls -t $(SHARED_DIR)/published/*.xlsx | head -1)"
	@echo "               $$(ls -t $(SHARED_DIR)/published/*.html | head -1)"
	@echo "receipts:      $(SHARED_DIR)/receipts/<区县>/"
	@echo "Data Docs:     $(SHARED_DIR)/data_docs/local_site/index.html"
	@echo "alerts:        $(SHARED_DIR)/alerts/alerts.jsonl"
	@echo "warehouse:     $(WAREHOUSE_URL)  (views: mart_*)"

# Lint and format check first (ruff: pyproject.toml [tool.ruff]: a complexity bound, no private imports), then pytest.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(AIRFLOW_HOME) data

# `make bench`: the per-file job against the naive pipeline and the physical floor, on PostgreSQL at
# 127.0.0.1:5432 (BENCH_PG_ADMIN_DSN to change; it creates and drops the database district_reports_bench).
# Then a year of history (bench/history.py: 10 million 12345 tickets and every other report type, in its
# own databases): every mart view, the review pack and a new month's load on it.
# Then a thousand files through the real ingest DAG under a real scheduler at 1, 2 and 4 task slots
# (bench/many_files.py). Writes bench/results.md. Takes about 45 minutes;
# `make bench BENCH_ARGS="--history=quick --many-files=200"` is a quicker look.
BENCH_ARGS ?=
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run_bench $(BENCH_ARGS)

# `make airflow`: the whole Airflow 3 UI on this machine (`airflow standalone`: scheduler, dag-processor,
# triggerer and api-server, LocalExecutor, metadata in $(AIRFLOW_HOME)) with this project's DAGs, plugins,
# shared folder and warehouse, logins through the FAB auth manager (admin, steward, viewer: passwords in
# $(AIRFLOW_HOME)/logins.env). The steward page is Browse → District submissions. Ctrl-C (or SIGTERM to the
# python process) stops every process it started (etl/ops/local_airflow.py).
AIRFLOW_PORT ?= 8080
.PHONY: airflow
airflow: install airflow-db
	@echo "Airflow UI:            http://localhost:$(AIRFLOW_PORT)/  (Browse → District submissions)"
	@echo "District submissions:  http://localhost:$(AIRFLOW_PORT)/district-submissions/"
	@echo "Logins (admin, steward, viewer): $(AIRFLOW_HOME)/logins.env"
	@echo "Both DAGs run from the start: files dropped into $(SHARED_DIR)/inbox are picked up within 5 minutes."
	PATH="$(BIN):$$PATH" $(BIN)/python -m etl airflow-standalone --port $(AIRFLOW_PORT)

# `make prod-smoke`: docker-compose.yml's topology started as processes on this machine — PostgreSQL databases
# and roles from compose's init script, Redis, FAB logins, api-server, scheduler, dag-processor, triggerer and
# two Celery workers — a few files dropped and their loads, both workers and the review pack checked; then
# everything stopped and dropped (etl/ops/prod_smoke.py). Needs PostgreSQL (127.0.0.1:5432) and Redis (6379).
.PHONY: prod-smoke
prod-smoke: install
	$(BIN)/python -m etl prod-smoke

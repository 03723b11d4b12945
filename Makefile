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
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

airflow-db: install
	@mkdir -p $(AIRFLOW_HOME)
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)

run: airflow-db
	$(BIN)/python -m etl demo
	@echo "running the ingest DAG (log: $(AIRFLOW_HOME)/dags-test.log) ..."
	@$(BIN)/airflow dags test district_ingest > $(AIRFLOW_HOME)/dags-test.log 2>&1 || (tail -50 $(AIRFLOW_HOME)/dags-test.log; exit 1)
	@grep -E "run summary|DagRun Finished" $(AIRFLOW_HOME)/dags-test.log | sed -E "s/^.*\[(info|warning) *\] //; s/ \[[a-z._]+\] loc=.*$$//" | cut -c1-220
	$(BIN)/python -m etl indicators

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(AIRFLOW_HOME) data

# The commands of the README: `make demo`, `make test` (lint, then pytest), `make test-wheel`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-wheel test-airflow lint bench clean

# The optional Airflow job: its own venv (Airflow's pins stay out of .venv), a throw-away
# AIRFLOW_HOME with SQLite, and the fleet DAG's tests (deploy/airflow/tests, dag.test()).
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gcevidence demo --out output

test: lint
	$(BIN)/python -m pytest

# Builds the wheel from a fresh clone, installs it in a fresh venv and runs the demo (minutes).
test-wheel: $(STAMP)
	$(BIN)/python -m pytest -m wheel -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check lib tests bench deploy
	$(BIN)/ruff format --check lib tests bench deploy

$(AIRFLOW_STAMP): pyproject.toml deploy/airflow/requirements-test.txt
	$(PY) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install -q -r deploy/airflow/requirements-test.txt -e .
	touch $(AIRFLOW_STAMP)

test-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/ruff check deploy
	$(AIRFLOW_VENV)/bin/ruff format --check deploy
	home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	AIRFLOW_HOME="$$home" $(AIRFLOW_VENV)/bin/python -m pytest -p no:cacheprovider deploy/airflow/tests

bench: $(STAMP)
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) build *.egg-info

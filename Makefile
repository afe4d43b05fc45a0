# The commands of the README: `make demo`, `make test` (lint, then pytest), `make test-wheel`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-wheel lint bench clean

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
	$(BIN)/ruff check lib tests bench
	$(BIN)/ruff format --check lib tests bench

bench: $(STAMP)
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) build *.egg-info

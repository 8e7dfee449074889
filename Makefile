# One gate: `make test`. One demo: `make demo`. Both install what they need on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pip on some machines warns about every package of a missing extra index: keep the output readable.
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: install demo test lint unit clean
.DEFAULT_GOAL := help

help:
	@echo "make demo [FILE=meeting.txt]  upload a transcript to the local cloud and print its summary"
	@echo "make test                     format, lint, types, all tests (installs everything first)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]' 2>&1 | $(QUIET_PIP)
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python -m devstack.demo $(FILE)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

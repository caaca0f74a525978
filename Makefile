# Developer and CI entry points. CI runs `bash .ci/run`, which runs `make test`.
#
#   make install    system packages that are missing (apt, as root) and .venv from requirements.lock
#   make run        the app with a Celery worker and beat on http://127.0.0.1:8000 (PORT=... to change; DEBUG=1)
#   make test       everything CI checks: ruff, Django checks, pytest on PostgreSQL + Redis and on SQLite
#   make test-fast  only the SQLite pytest lane (no PostgreSQL, Redis or browser tests)
#   make bench      bench/run.py against a throwaway PostgreSQL and Redis
#   make lint       ruff check, and ruff format --check (for information only, for now)
#   make fmt        ruff format and ruff check --fix

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install run test test-fast bench lint fmt

help:
	@sed -n 's/^#   make/make/p' Makefile

install:
	@bash scripts/install.sh

# On a terminal the script runs as a job of its own (bash -m), so Ctrl-C reaches it and not make:
# the web server, worker and beat stop cleanly and `make run` exits 0 instead of "Interrupt".
run: install
	@if [ -t 0 ]; then bash -mc 'bash scripts/run.sh; exit $$?'; else bash scripts/run.sh; fi

test: install
	@bash scripts/test.sh

test-fast: install
	@bash scripts/test.sh --fast

bench: install
	@bash scripts/bench.sh $(ARGS)

lint: install
	$(BIN)/ruff check .
	@$(BIN)/ruff format --check . || echo "ruff format: the files above would be reformatted (informational for now: run 'make fmt')"

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

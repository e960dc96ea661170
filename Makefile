# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PORTAL_DATABASE_URL ?= sqlite:///var/portal.db

.PHONY: run test bench lint format demo install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

run: install
	@mkdir -p var
	$(BIN)/portal db upgrade
	$(BIN)/portal serve --host $(HOST) --port $(PORT)

demo: install
	@mkdir -p var
	$(BIN)/portal db upgrade
	$(BIN)/portal demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python bench/run.py $(BENCH)

lint: install
	$(BIN)/ruff check portal tests bench migrations
	$(BIN)/ruff format --check portal tests bench migrations

format: install
	$(BIN)/ruff format portal tests bench migrations
	$(BIN)/ruff check --fix portal tests bench migrations

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm

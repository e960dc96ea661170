# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PORTAL_DATABASE_URL ?= sqlite:///var/portal.db
# E-mailed links and the Origin check follow the port `make run` serves on, unless set otherwise.
export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
# constraints.txt holds the versions CI tested: a fresh clone installs exactly those (`make lock` renews it).
# (setuptools' notice that an editable install is editable is silenced; real warnings still show.)
PIP := PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	-c constraints.txt

.PHONY: run test bench lint format demo install install-test lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

# What serving needs, and no more.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	@touch $@

# The tests' packages too.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	@mkdir -p var
	$(BIN)/portal db upgrade
	$(BIN)/portal serve --host $(HOST) --port $(PORT)

demo: install
	@mkdir -p var
	$(BIN)/portal db upgrade
	$(BIN)/portal demo

test: install-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: install-test
	$(BIN)/python bench/run.py $(BENCH)

lint: install-test
	$(BIN)/ruff check portal tests bench migrations
	$(BIN)/ruff format --check portal tests bench migrations
	$(BIN)/mypy portal

format: install-test
	$(BIN)/ruff format portal tests bench migrations
	$(BIN)/ruff check --fix portal tests bench migrations

# Renew constraints.txt from a fresh environment with the newest allowed versions (then run `make test`).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm

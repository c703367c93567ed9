# `make run` and `make test` are the two commands a new user needs. Both create and
# use a local virtual environment in .venv (override with VENV=...).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Use the shared MNIST copy beside the project when there is one (CI, this workplace);
# elsewhere nnlab finds ~/.cache/nnlab/mnist or downloads it there.
ifneq ($(wildcard ../shared/data/mnist),)
export NNLAB_DATA ?= ../shared/data
endif

.PHONY: install run test test-all test-fast lint studies clean

$(BIN)/nnlab: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(BIN)/nnlab

run: install
	$(BIN)/nnlab run configs/mnist.yaml

# Tests run on every core (pytest-xdist). `make test` leaves out the exhaustive re-checks of
# paths other tests cover (every kill point, every pinned study); CI runs them all.
test: install
	$(BIN)/pytest -q -n auto --dist worksteal -m "not exhaustive"

test-all: install   # every test: what CI runs
	$(BIN)/pytest -q -n auto --dist worksteal

test-fast: install   # the quick loop: no MNIST training, no subprocesses, no Dask
	$(BIN)/pytest -q -n auto -m "not slow and not exhaustive"

studies: install   # every study of configs/studies/ (resumes finished trials), then docs/studies.md from the results
	$(BIN)/python -m nnlab.studies

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) results .pytest_cache *.egg-info

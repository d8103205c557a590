# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   — create .venv, install the project, run the whole plan on the embedded default
#                (a temporary local Prefect server on SQLite in ./.prefect, storage in ./data)
#   make test  — same set-up, then the tests
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export MPLBACKEND := Agg

.PHONY: install run test real ui bench clean-data

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

# the plan, its rerun, orchestration, kernels, validation and scale measured in one run; prints ratios and
# writes bench/results.json (no pass/fail timing)
bench: install
	$(PY) bench/run.py

run: install
	$(VENV)/bin/erenhot run

test: install
	$(PY) -m pytest

# the same main job on the real public Erenhot data beside the checkout (../shared/data/real)
real: install
	$(VENV)/bin/erenhot sample-kit .kit-real --real-data ../shared/data/real
	ERENHOT_STORAGE_URL=./data-real $(VENV)/bin/erenhot run --kit .kit-real

# the Prefect UI over the runs recorded in ./.prefect (http://127.0.0.1:4200)
ui: install
	$(VENV)/bin/prefect server start --host 127.0.0.1 --port 4200

clean-data:
	@echo "the landing zone is never deleted by make; remove ./data by hand if you really mean it"

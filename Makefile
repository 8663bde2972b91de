# omnilake: `make demo` (set up + run the demo) and `make test` (set up + run every test) are the two commands.
SHELL := /bin/bash
PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export OMNILAKE_HOME ?= $(CURDIR)/.omnilake
VENV_STAMP := $(VENV)/.omnilake-installed
JARS_STAMP := .cache/jars/.stamp
SYSTEM_STAMP := .cache/system-packages.stamp

.PHONY: setup demo test test-unit lint format bench clean cluster-up cluster-down screenshot postgres-up postgres-down

setup: $(VENV_STAMP) $(JARS_STAMP) $(SYSTEM_STAMP)
	@mkdir -p "$(OMNILAKE_HOME)"
	@$(PY) -m jobs.common.codeship .cache/dist >/dev/null

# Re-install only when a pin or setup.py changes; --no-build-isolation uses the venv's setuptools (no download).
$(VENV_STAMP): requirements/requirements.txt requirements/constraints.txt setup.py
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/requirements.txt -c requirements/constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

$(JARS_STAMP): build/delta-jars.pom.xml scripts/fetch_jars.sh $(VENV_STAMP)
	PYTHON=$(PY) scripts/fetch_jars.sh .cache/jars

# Debian packages beside the venv (scripts/system_packages.sh; as root, once, never at test time): PostgreSQL's server
# for `omnilake publish` and its tests, Chromium for the dashboard's browser tests and `make screenshot`.
$(SYSTEM_STAMP): scripts/system_packages.sh
	@mkdir -p $(@D)
	@scripts/system_packages.sh '/usr/lib/postgresql/*/bin/initdb=postgresql' chromium=chromium && touch $@ || true

demo: setup
	$(VENV)/bin/omnilake demo

test: setup
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest tests/unit

lint: setup
	$(VENV)/bin/ruff check jobs ml dags tests benchmarks scripts examples
	$(VENV)/bin/ruff format --check jobs ml dags tests benchmarks scripts examples
	$(VENV)/bin/lint-imports --no-logo

format: setup
	$(VENV)/bin/ruff format jobs ml dags tests benchmarks scripts examples

# make screenshot [OMNILAKE_HOME=...] [AS_OF=YYYY-MM-DD]: the dashboard of that lake (default: the demo's) as HTML and
# a full-page PNG under $(OMNILAKE_HOME)/exports/screenshots/ (headless Debian chromium through playwright).
screenshot: setup
	$(VENV)/bin/omnilake dashboard $(if $(AS_OF),--as-of $(AS_OF)) --out "$(OMNILAKE_HOME)/exports/screenshots/dashboard.html"
	$(PY) -m jobs.orchestration.dashboard.browser screenshot "$(OMNILAKE_HOME)/exports/screenshots/dashboard.html" \
	  --out "$(OMNILAKE_HOME)/exports/screenshots/dashboard.png"

# make bench SF=0.01|0.1|1 (100k x SF customers x 365 days): benchmarks/scale_bench.py; see benchmarks/README.md.
SF ?= 0.1
bench: setup
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/bench.txt -c requirements/constraints.txt
	$(PY) benchmarks/scale_bench.py --sf $(SF)

# Spark standalone master + 2 workers and an MLflow server on 127.0.0.1 (conf `cluster`; a second cluster-up starts
# nothing); then OMNILAKE_ENV=cluster runs every command and DAG on them. See the README's "Running on a cluster".
cluster-up: setup
	$(VENV)/bin/omnilake cluster up

cluster-down:
	$(VENV)/bin/omnilake cluster down

# A PostgreSQL of this machine's own for `omnilake publish` (conf serving.postgres.local: initdb under
# $(OMNILAKE_HOME)/run/postgres, 127.0.0.1 on a free port); up prints the DSN to export. See "Serving to PostgreSQL".
postgres-up: setup
	$(VENV)/bin/omnilake postgres up

postgres-down:
	$(VENV)/bin/omnilake postgres down

clean:
	rm -rf $(VENV) .cache .omnilake

# The two commands: `make run` starts the platform, `make test` runs the whole suite.
# Both create .venv and install on first use; later runs reinstall only when a
# requirements file changed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export OAG_VAR_DIR ?= $(CURDIR)/var

# The embedded Redis and MLflow UI run only when no external one is configured.
PROCESSES := web worker $(if $(REDIS_URL),,redis) $(if $(MLFLOW_TRACKING_URI),,mlflow)

.PHONY: install run test bench lint messages chromium clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)

run: install
	mkdir -p "$(OAG_VAR_DIR)/staticfiles"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap
	honcho start --no-colour $(PROCESSES)

test: install chromium lint
	$(PY) -m pytest

# Benchmarks (tests/benchmarks, left out of `make test`): each measures the platform against
# its peer in the same run, prints a table and fails when a target is missed. Peers that are
# Python packages (clingo, pyDatalog) come from requirements-bench.txt.
$(VENV)/.bench-installed: $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

# The reasoning platform benchmark measures writes to PostgreSQL: BENCH_DATABASE_URL, by default
# the local server these machines run.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test

bench: $(VENV)/.bench-installed
	OAG_BENCH=1 $(PY) -m pytest tests/benchmarks -s -p no:randomly -q \
	  --ignore=tests/benchmarks/test_reasoning_platform.py
	DATABASE_URL=$(BENCH_DATABASE_URL) OAG_BENCH=1 $(PY) -m pytest \
	  tests/benchmarks/test_reasoning_platform.py -s -p no:randomly -q

lint: install
	$(VENV)/bin/ruff check manage.py oagweb agents reasoning training compression devices tests

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work
# on these machines).
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Browser tests need $(CHROMIUM): sudo apt-get install -y chromium" >&2; exit 1; fi; }

# Refreshes the zh_Hans catalogue from the code and templates, then compiles it (needs gettext).
messages: install
	$(PY) manage.py makemessages -l zh_Hans -i ".venv/*" -i "var/*" -i "tests/*"
	$(PY) manage.py compilemessages -l zh_Hans -i ".venv"

clean:
	rm -rf $(VENV) var

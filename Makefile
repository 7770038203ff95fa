# fixdesk: the README's two commands.
#   make demo   set up from nothing, create sites/demo with demo data, serve it on :8000
#   make test   set up from nothing, run every test (SQLite and PostgreSQL)
#   make bench  run the benchmarks in bench/ (never part of the test suite)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# CJK font for Chinese PDFs, poppler-utils for checking PDFs in tests, zbar-tools for
# scanning their printed QR codes and barcodes in tests, libharfbuzz-subset0 so WeasyPrint
# subsets fonts fast, chromium for the browser tests, postgresql-client for
# pg_dump/pg_restore (fixdesk backup and restore on PostgreSQL)
SYSTEM_PACKAGES := fonts-noto-cjk poppler-utils zbar-tools libharfbuzz-subset0 chromium \
	postgresql-client
# for `make bench` only: nginx in front of the soak's servers (bench/soak.py), the
# PostgreSQL server programs for its private cluster, wrk, the API bench's load, and
# valgrind with gcc, which count the API's instructions per request
BENCH_PACKAGES := nginx postgresql wrk valgrind gcc
DEMO_SITE := sites/demo

.PHONY: setup system-packages print-fonts demo test bench lint i18n clean

setup: system-packages $(STAMP) print-fonts

# the compact Chinese print faces, cut once per machine from fonts-noto-cjk (~15 s; then
# a no-op): papers print in half the time with them (kernel/documents/fonts.py)
print-fonts: system-packages $(STAMP)
	@$(BIN)/fixdesk print-fonts > /dev/null

# checked on every run (dpkg-query is fast): a machine may lose packages a venv still remembers
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv missing: installing python3-venv"; \
	  apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[test,postgres]'
	@touch $@

demo: setup
	@test -f $(DEMO_SITE)/site.toml || $(BIN)/fixdesk new-site $(DEMO_SITE) --demo --plugins repair,inventory,billing,complaints
	$(BIN)/fixdesk --site $(DEMO_SITE) migrate
	$(BIN)/fixdesk --site $(DEMO_SITE) serve --host 127.0.0.1 --port 8000

test: setup
	$(BIN)/pytest

# every benchmark keeps its figures with targets here; the last step prints them as one table
VERDICTS := $(VENV)/bench-verdicts.jsonl
BENCH := FIXDESK_BENCH_VERDICTS=$(abspath $(VERDICTS)) $(BIN)/python

bench: setup
	@$(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES="$(BENCH_PACKAGES)"
	$(BIN)/python -m pip install -q -e '.[bench]'
	@rm -f $(VERDICTS)
	$(BENCH) bench/cli_startup.py
	$(BENCH) bench/print_bench.py
	$(BENCH) bench/api_bench.py
	$(BENCH) bench/api_instructions.py
	$(BENCH) bench/inventory_bench.py
	$(BENCH) bench/billing_bench.py
	$(BENCH) bench/complaints_bench.py
	$(BENCH) bench/growth_bench.py
	$(BENCH) bench/soak.py
	@$(BIN)/python bench/verdicts.py $(VERDICTS) || true

lint: setup
	$(BIN)/ruff check .

# one catalogue per package: the kernel's (babel.cfg over the repository), each plugin's
# (babel-plugin.cfg over plugins/<name>/, found by its manifest.toml; domain = its name)
# and the docs' example plugin's. A .pot whose only change is its date is left alone and
# .po files keep theirs, so running it twice changes nothing; a missing zh_CN .po is created.
HELLO := docs/example/fixdesk-hello/fixdesk_hello
i18n: setup
	@set -e; catalogue() { \
	  tmp=$$(mktemp); mkdir -p $$3; \
	  $(BIN)/pybabel -q extract -F $$1 -k _ -o $$tmp --no-location --sort-output --project $$5 $$2; \
	  diff -q -I '^"POT-Creation-Date: ' $$tmp $$3/$$4.pot >/dev/null 2>&1 || cat $$tmp > $$3/$$4.pot; \
	  rm -f $$tmp; \
	  $(BIN)/pybabel -q update -i $$3/$$4.pot -d $$3 -D $$4 -l zh_CN --init-missing \
	    --ignore-obsolete --ignore-pot-creation-date; }; \
	catalogue babel.cfg . kernel/locale fixdesk fixdesk; \
	for manifest in plugins/*/manifest.toml; do \
	  folder=$${manifest%/manifest.toml}; \
	  catalogue babel-plugin.cfg $$folder $$folder/locale $${folder#plugins/} fixdesk; \
	done; \
	catalogue babel-plugin.cfg $(HELLO) $(HELLO)/locale hello fixdesk-hello; \
	for manifest in tests/distributions/*/*/manifest.toml; do \
	  folder=$${manifest%/manifest.toml}; \
	  catalogue babel-plugin.cfg $$folder $$folder/locale $${folder##*/} $${folder##*/}; \
	done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# enphase: Jeedom plugin for Enphase Envoy / IQ Gateway.
#   make demo   simulated gateway + the plugin's reader against it, printing what a user would see
#   make test   every test (Python under 3.11 and 3.9 when pyenv has it, Python 3.9 static check, PHP)
#   make test-fast  the pure tests alone (no socket, thread or process), in seconds, while coding
#   make bench  what the plugin costs the box and the gateway, beside pyenphase 4.2.0 (a printed table)
#   make e2e    end-to-end test against a real Jeedom core: JEEDOM_CORE_DIR=/path/to/jeedom make e2e
#               (skipped without it; works on a throwaway copy of the core and its database, which it
#               drops; refreshes the screenshots in docs/images/)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Python 3.9 is what Jeedom runs on Debian 11: test under it too where pyenv has it.
PY39_BIN := $(shell pyenv prefix 3.9 2>/dev/null | head -1)
VENV39 := .venv39
# The bench's venv: the reference reader (pyenphase) measured beside ours, never in the plugin's venv.
VENV_BENCH := .venv-bench

.PHONY: demo test test-fast e2e test-python test-python39 test-php lint venv php-tools bench clean

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(VENV39)/.installed: requirements-dev.txt
	$(PY39_BIN)/bin/python3 -m venv $(VENV39)
	$(VENV39)/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Apache's binary alone (apache2-bin: no service, nothing listens): a PHP test serves the plugin with it as
# Jeedom does, to prove its data folder is never served.
php-tools:
	@command -v php >/dev/null && command -v phpunit >/dev/null && test -x /usr/sbin/apache2 || { \
	  echo "Installing php-cli, phpunit and Apache's binary (apt)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq php-cli phpunit php-xml php-mbstring apache2-bin >/dev/null; }

demo: venv
	$(PY) tests/demo.py

lint: venv
	$(VENV)/bin/vermin --target=3.9- --violations --no-tips --eval-annotations resources/enphased tests/python tests/e2e

test-python: venv
	$(PY) -m pytest -q

test-python39:
ifneq ($(PY39_BIN),)
	$(MAKE) $(VENV39)/.installed
	$(VENV39)/bin/python -m pytest -q -p no:cacheprovider
else
	@echo "pyenv has no Python 3.9 here: the 3.9 run is skipped (vermin still checks 3.9 compatibility)"
endif

# venv: a PHP test starts the real daemon, with the venv standing for the one Jeedom installs.
test-php: php-tools venv
	@set -e; for f in $$(git ls-files '*.php'); do php -l $$f >/dev/null || { php -l $$f; exit 1; }; done; echo "php -l: all files OK"
	@if [ -d tests/php ] && ls tests/php/*Test.php >/dev/null 2>&1; then phpunit --colors=never --do-not-cache-result --bootstrap tests/php/bootstrap.php tests/php; fi

test: lint test-python test-python39 test-php

test-fast: venv
	$(PY) -m pytest -q -m pure

# Not part of `make test`: it needs an installed Jeedom core, MariaDB, network to PyPI, and a minute or two.
# The core is only read (README: "What it touches").
e2e: venv
	$(PY) -m pytest -v -p no:cacheprovider tests/e2e

$(VENV_BENCH)/.installed: tests/bench/requirements.txt
	$(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip install -q --disable-pip-version-check -r tests/bench/requirements.txt
	touch $@

# What the plugin costs the box and the gateway, beside pyenphase 4.2.0 (prints a table; BENCH_ARGS=--quick)
bench: venv $(VENV_BENCH)/.installed
	$(PY) tests/bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(VENV39) $(VENV_BENCH) .pytest_cache

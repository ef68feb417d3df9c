# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEVENV = eval "$$($(PY) -m saas_platform.devservices env)"

.PHONY: install browser-deps mobile-web demo test test-fast test-embedded lint format bench bench-deps lighthouse messages stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: install
	$(PY) -m saas_platform.devservices demo

# The browser tests (tests/e2e) need Debian's chromium and axe-core from the npm registry; the
# statement PDF tests need Debian's DejaVu fonts.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps: node_modules/.installed mobile/node_modules/.installed
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for tests/e2e"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@# The statement PDF is set in DejaVu Sans (portal/billing/statements.py; tests check it).
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { echo "Installing Debian's fonts-dejavu-core"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-dejavu-core; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The family app (mobile/, docs/mobile.md): tests/mobile runs tsc, jest, the web-export journey
# and the branded project's `expo prebuild`, all from this lockfile.
mobile/node_modules/.installed: mobile/package.json mobile/package-lock.json
	cd mobile && npm ci --no-audit --no-fund
	@touch $@

# pytest-xdist processes (each on its own clone of the prepared test database; the tests that
# share one SeaweedFS server stay together: --dist loadgroup). The fast loop is CPU-bound (3
# processes and PostgreSQL on 2 cores); the whole suite mostly waits on browsers, subprocesses
# and servers, so `make test` runs more (docs/testing.md, "Figures").
PYTEST_WORKERS ?= 3
PYTEST_WORKERS_ALL ?= 5
PYTEST_RUN = PYTHONDONTWRITEBYTECODE= $(PY) -m pytest --dist loadgroup --reuse-db
PYTEST := $(PYTEST_RUN) -n $(PYTEST_WORKERS)
# What `make test-fast` leaves out: browser, fuzz, fault-injection, S3 and integration tests.
SLOW_MARKERS := e2e or fuzz or faults or s3 or integration

test: install browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(DEVENV) && $(PYTEST_RUN) -n $(PYTEST_WORKERS_ALL) $(PYTEST_ARGS)

# The loop for every change: no browser, no install of browser deps, no lint.
test-fast: install
	$(DEVENV) && $(PYTEST) -m "not ($(SLOW_MARKERS))" $(PYTEST_ARGS)

# The embedded-servers path as on a laptop with none (needs root or sudo for `unshare --net`).
test-embedded: install
	.ci/embedded $(PYTEST_ARGS)

# The family app's web build against a running `make demo` (docs/mobile.md).
mobile-web: install mobile/node_modules/.installed
	$(PY) -m saas_platform.devservices mobile-web

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The load benchmarks (tests/bench/load.py) drive gunicorn with Debian's wrk; the Lighthouse
# run (tests/bench/lighthouse.py) needs Lighthouse from the root package.json and Debian's chromium.
bench-deps: node_modules/.installed
	@command -v wrk >/dev/null || { echo "Installing Debian's wrk for tests/bench"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for tests/bench"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

bench: install bench-deps
	$(DEVENV) && $(PY) tests/bench/run.py

# Lighthouse 12 (mobile preset) on the family pages served by gunicorn with DEBUG off
# (docs/web.md); the same as BENCH_ONLY=lighthouse make bench.
lighthouse: install bench-deps
	$(DEVENV) && $(PY) tests/bench/lighthouse.py

# Translations (docs/web.md): extract new strings into locale/es/LC_MESSAGES/django.po (needs
# GNU gettext's xgettext), then compile the .mo with polib (no gettext needed for that part).
messages: install
	$(DEVENV) && DEBUG=1 $(PY) manage.py makemessages -l es --no-obsolete -i ".venv/*" \
		-i "node_modules/*" -i "tests/*" -i ".devdata/*" -i "staticfiles/*" -i "media/*"
	$(DEVENV) && DEBUG=1 $(PY) manage.py compile_translations

stop:
	$(PY) -m saas_platform.devservices stop

clean: stop
	rm -rf .devdata staticfiles

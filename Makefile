# The whole setup: `make run` serves the assistant, `make test` runs every test.
# Both bootstrap .venv on a fresh machine; nothing is installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-postgres test-quick faults probe bench loadbench eval chromium fonts nginx catalogs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian's Chromium drives the browser tests (Playwright's own browser download
# cannot reach its host here). Installed once, as root, by the setup.
chromium: fonts
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "WARNING: could not install chromium; browser tests will be skipped"; }

# Debian's nginx for tests/test_deploy.py (`nginx -t` on deploy/nginx/jiuye.conf, then the site run
# on free local ports). Installed once, as root; no system nginx is started: a policy-rc.d that
# refuses service starts is put in place for the install (and removed if it was ours).
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "installing Debian nginx-light for the deploy tests"; \
	  ours=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d 2>/dev/null && chmod +x /usr/sbin/policy-rc.d && ours=1; fi; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null) \
	  || echo "WARNING: could not install nginx; the nginx deploy tests will be skipped"; \
	  if [ -n "$$ours" ]; then rm -f /usr/sbin/policy-rc.d; fi; true; }

# The web pages serve Noto Sans Mongolian from the system (route /fonts/…); it comes from Debian's
# fonts-noto-core and is never copied into the repository. Without it Mongolian falls back to the
# phone's own fonts (and the browser test that checks the glyphs is skipped).
MONGOLIAN_FONT := /usr/share/fonts/truetype/noto/NotoSansMongolian-Regular.ttf
fonts:
	@test -f $(MONGOLIAN_FONT) || { \
	  echo "installing Debian fonts-noto-core (Noto Sans Mongolian)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core >/dev/null) \
	  || echo "WARNING: could not install fonts-noto-core; Mongolian uses the browser's fonts"; }

# Message catalogs (bot/locale, eligibility/locale): import the YAML catalogs and the form texts
# into zh.po, keep mn.po in step, and check that every key the code uses exists. The runtime reads
# the PO files directly: nothing to compile.
catalogs: $(STAMP)
	$(PY) scripts/catalogs.py update

run: $(STAMP) fonts
	$(VENV)/bin/flask --app webhooks run --host $(HOST) --port $(PORT)

test: $(STAMP) chromium nginx
	$(PY) -m pytest

# The same suite with every test database on PostgreSQL (the production option): each test gets a
# copy of one migrated template database on this server. .ci/run runs it after `make test`.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP) chromium nginx
	JIUYE_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

# While editing: everything but the browser and the other-process tests (markers in pyproject.toml).
test-quick: $(STAMP)
	$(PY) -m pytest -m "not browser and not processes and not faults"

# Real gunicorn servers broken on purpose: kill -9 mid-dialogue, one MsgId to two workers,
# PostgreSQL connections dropped under load, simultaneous first messages, slow clients.
# Ports 5110-5119. .ci/run calls it after `make test`.
faults: $(STAMP)
	$(PY) -m pytest -m faults tests/faults

# The hostile probe (scripts/probe.py) against gunicorn on SQLite, then on PostgreSQL.
probe: $(STAMP)
	$(PY) scripts/probe.py --spawn sqlite
	$(PY) scripts/probe.py --spawn postgres

bench: $(STAMP)
	$(PY) -m bot bench

# Load benchmark of the production set-up (scripts/loadbench.py; installs wrk, uses PostgreSQL);
# `make loadbench ARGS="--write docs/BENCHMARKS.md"` updates the document.
loadbench: $(STAMP)
	$(PY) scripts/loadbench.py $(ARGS)

eval: $(STAMP)
	$(PY) -m bot eval tests/data/dev.jsonl

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache

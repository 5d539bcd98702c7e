# crm-assistant: `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= dev,slack,telegram,voice,whisper,web
# Debian packages the voice needs: speech out (espeak-ng; flite for the test set's voices), sox to look at audio;
# chromium and its driver for the web chat's browser test (tests/web)
APT_PACKAGES := espeak-ng flite sox chromium chromium-driver
export CRM_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install system-packages model demo test lint format eval bench bench-import bench-nlu bench-slack bench-load bench-telegram bench-web bench-kb bench-voice clean

install: system-packages $(STAMP)

# apt-get only for what is missing: a second `make install` does nothing here
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "crm-assistant needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)
	$(MAKE) --no-print-directory model

# The intent model is trained from intents/templates (deterministic, cached by content hash).
model:
	$(PY) -m intents

demo: install
	$(VENV)/bin/crm demo

# pytest's exit code 5 (no tests collected) is a failure here, never a silent pass.
test: install
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# ruff for style, mypy (strict, over the four packages; pyproject.toml says which) for types.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every labelled set's figures (accuracy, wrong writes, needless confirmations) on a fresh demo store,
# and the blind conversations; they measure, so nothing here fails the build.
EVAL_DB := $(shell mktemp -u /tmp/crm-eval-XXXXXX).sqlite3
EVAL_AT := --now 2026-11-23T09:00 --tz UTC
eval: install
	$(VENV)/bin/crm demo --db sqlite:///$(EVAL_DB) $(EVAL_AT) </dev/null >/dev/null 2>&1
	@for set in tests/nlu/*.jsonl; do echo "== $$set"; \
	  $(VENV)/bin/crm eval-nlu $$set --db sqlite:///$(EVAL_DB) $(EVAL_AT) | sed -n 1,5p; done
	@echo "== tests/dialogue/heldout_d"; $(PY) tests/dialogue/score_conversations.py tests/dialogue/heldout_d
	rm -f $(EVAL_DB)

bench: bench-import bench-nlu bench-slack bench-load bench-telegram bench-web bench-kb bench-voice

# The knowledge-base classifier on CLINC150 (../shared/data/clinc150): in-scope accuracy, out-of-scope
# recall, training time and latency; then the training time of 300 articles x 100 examples.
bench-kb: install
	$(PY) tests/bench/bench_kb.py --scale

bench-nlu: install
	$(PY) tests/bench/bench_nlu.py --runs 3

# 200 concurrent Slack events over loopback against a fake Slack: acknowledgement and reply latency
bench-slack: install
	$(PY) tests/slack/bench_slack.py --events 200 --runs 3 --engine sqlite
	$(PY) tests/slack/bench_slack.py --events 200 --runs 3 --engine postgresql

# crm serve --slack as real processes, 1 and 2 of them on PostgreSQL: a burst of 200 events (every ack
# within Slack's 3 s, reply p99), then 100 events/s for 60 s (turns answered a second, reply p99)
bench-load: install
	$(PY) tests/slack/bench_load.py --engine postgresql --processes 2 --burst 200 --rate 100 --seconds 60 --runs 3

# a flood of 500 updates to a polling Telegram bot: updates/s and reply latency p50/p99
bench-telegram: install
	$(PY) tests/telegram/bench_telegram.py --updates 500 --runs 3 --engine sqlite
	$(PY) tests/telegram/bench_telegram.py --updates 500 --runs 3 --engine postgresql

# 200 concurrent web-chat visitors over loopback, three messages each: reply latency
bench-web: install
	$(PY) tests/web/bench_web.py --visitors 200 --runs 3 --engine sqlite
	$(PY) tests/web/bench_web.py --visitors 200 --runs 3 --engine postgresql

# the speech engines on the spoken test set (tests/voice): accepted commands clean and in noise, RTF,
# end of speech to reply, and a store with 10,000 more names
bench-voice: install
	$(PY) tests/voice/bench_voice.py

bench-import: install
	$(PY) tests/bench/bench_import.py --deals 100000 --runs 3

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

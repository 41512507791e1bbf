# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
export PYTHONPATH := $(CURDIR)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
LOGS := logs
STAMP := $(VENV)/.installed
HELDOUT := tests/nlu/heldout.yml
REALISTIC := tests/nlu/realistic.yml
MIN_MACRO_F1 ?= 0.90
MIN_REALISTIC_F1 ?= 0.90

.PHONY: setup run run-scaled test train bench model lint shop-db notices browser faketime test-clock balancer

setup: $(STAMP) shop-db model browser

# Python 3.10 from PATH or pyenv; Rasa 3.6 needs >=3.8,<3.11.
$(STAMP): requirements.lock
	@root="$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"; python310=""; \
	for candidate in $$(command -v python3.10) $$(ls -d $$root/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do \
	  if "$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	    python310="$$candidate"; break; \
	  fi; \
	done; \
	if [ -z "$$python310" ]; then \
	  echo "Python 3.10 is required (Rasa 3.6 runs on >=3.8,<3.11)."; \
	  echo "Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', then re-run make."; \
	  exit 1; \
	fi; \
	echo "Using $$python310"; \
	[ -x $(PY) ] || "$$python310" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==26.3"
	$(PY) -m pip install -q -r requirements.lock
	touch $(STAMP)

# Debian's chromium (and a Chinese font for screenshots) for the browser tests; Playwright drives
# it, no browser download.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@[ -x /usr/bin/chromium ] && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || { \
	  echo "Installing $(BROWSER_PACKAGES) (apt-get) for the browser tests ..."; mkdir -p $(LOGS); \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y -q $(BROWSER_PACKAGES) > $(LOGS)/apt-browser.log 2>&1 \
	  || { $$sudo apt-get update -q >> $(LOGS)/apt-browser.log 2>&1 \
	       && $$sudo apt-get install -y -q $(BROWSER_PACKAGES) >> $(LOGS)/apt-browser.log 2>&1; } \
	  || { tail -20 $(LOGS)/apt-browser.log; exit 1; }; }

# Debian's faketime (libfaketime) for `make test-clock`: the unit suites with the clock in 2027 and 2028.
faketime:
	@command -v faketime >/dev/null || { \
	  echo "Installing faketime (apt-get) for the clock tests ..."; mkdir -p $(LOGS); \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y -q faketime > $(LOGS)/apt-faketime.log 2>&1 \
	  || { $$sudo apt-get update -q >> $(LOGS)/apt-faketime.log 2>&1 \
	       && $$sudo apt-get install -y -q faketime >> $(LOGS)/apt-faketime.log 2>&1; } \
	  || { tail -20 $(LOGS)/apt-faketime.log; exit 1; }; }

# Debian's HAProxy, the load balancer in front of the Rasa replicas of `make run-scaled` (and of
# the scaled-topology test and bench/soak.py).
balancer:
	@command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { \
	  echo "Installing haproxy (apt-get) for the scaled topology ..."; mkdir -p $(LOGS); \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y -q haproxy > $(LOGS)/apt-balancer.log 2>&1 \
	  || { $$sudo apt-get update -q >> $(LOGS)/apt-balancer.log 2>&1 \
	       && $$sudo apt-get install -y -q haproxy >> $(LOGS)/apt-balancer.log 2>&1; } \
	  || { tail -20 $(LOGS)/apt-balancer.log; exit 1; }; }

# The unit suites must not depend on the day they run: run them with the system clock moved.
UNIT_SUITES := tests/shop tests/actions tests/bot
test-clock: $(STAMP) faketime
	@for moment in "2027-03-01 10:00:00" "2028-12-31 23:30:00"; do \
	  echo "unit suites with the clock at $$moment"; \
	  faketime -m --exclude-monotonic "$$moment" $(PY) -m pytest $(UNIT_SUITES) -q -p no:cacheprovider -x > $(LOGS)/test-clock.log 2>&1 \
	  || { tail -40 $(LOGS)/test-clock.log; exit 1; }; tail -1 $(LOGS)/test-clock.log; \
	done

# The demo shop database (var/shop.db, or SHOP_DATABASE_URL): migrated and seeded once; an
# embedded demo shop older than a day is rebuilt around now (parcels and return windows stay live).
shop-db: $(STAMP)
	@$(PY) -m shop.demo.seed --refresh-after-hours 24 | head -1

# A trained model exists after setup; `make train` retrains when anything changed.
model: $(STAMP)
	@ls models/*.tar.gz >/dev/null 2>&1 || $(MAKE) --no-print-directory train

train: $(STAMP)
	@mkdir -p $(LOGS) models
	@echo "Training (log: $(LOGS)/train.log) ..."
	@$(RASA) train --out models --fixed-model-name shop-assist-$$(date +%Y%m%d-%H%M%S) > $(LOGS)/train.log 2>&1 \
	  || { tail -40 $(LOGS)/train.log; exit 1; }
	@grep -E "Nothing changed|Your Rasa model is trained" $(LOGS)/train.log | tail -1

test: setup balancer
	@mkdir -p $(LOGS) results
	$(PY) -m ruff check shop actions bot bench tests
	$(PY) -m bot.nlu.data_check data/nlu --min-examples 75
	$(RASA) data validate --fail-on-warnings > $(LOGS)/validate.log 2>&1 || { grep -iE "warn|error" $(LOGS)/validate.log | tail -40; exit 1; }
	@$(MAKE) --no-print-directory train
	$(RASA) test nlu --nlu $(HELDOUT) --out results/nlu > $(LOGS)/test-nlu.log 2>&1 || { tail -40 $(LOGS)/test-nlu.log; exit 1; }
	$(PY) -m bot.nlu.gate results/nlu/intent_report.json --min-macro-f1 $(MIN_MACRO_F1)
	$(RASA) test nlu --nlu $(REALISTIC) --out results/nlu-realistic > $(LOGS)/test-nlu-realistic.log 2>&1 || { tail -40 $(LOGS)/test-nlu-realistic.log; exit 1; }
	$(PY) -m bot.nlu.gate results/nlu-realistic/intent_report.json --min-macro-f1 $(MIN_REALISTIC_F1)
	$(RASA) test core --stories tests/stories --fail-on-prediction-errors --out results/core > $(LOGS)/test-core.log 2>&1 \
	  || { grep -A30 -i "failed\|error" $(LOGS)/test-core.log | tail -60; cat results/core/failed_test_stories.yml 2>/dev/null | head -80; exit 1; }
	$(PY) -m pytest tests -q -p no:cacheprovider
	@$(MAKE) --no-print-directory test-clock

run: setup
	$(PY) -m bot.run

# The scaled-out topology on this machine: RASA_REPLICAS (2) Rasa replicas behind HAProxy on the
# Rasa port, with the local PostgreSQL, Redis and RabbitMQ (README "Scale-out").
run-scaled: setup balancer
	$(PY) -m bot.run --scaled

bench: setup
	$(PY) bench/actions.py
	$(PY) bench/nlg.py
	$(PY) bench/nlu.py
	$(PY) bench/assist.py
	$(PY) bench/robustness.py
	$(PY) bench/trainer.py
	$(PY) bench/conversations.py
	$(PY) bench/load.py

# Proactive notices that are due now, once (the running assistant also does this periodically).
notices: $(STAMP)
	$(PY) -m bot.notices

lint: $(STAMP)
	$(PY) -m ruff check shop actions bot bench tests
	$(PY) -m ruff format --check shop actions bot bench tests

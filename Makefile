# daoban — 一照通行 智能导办.  `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: help run test setup check unit bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## install what is missing, build model/index, train bot, start every service on loopback
	scripts/run_all.sh

test: ## every test: catalog check, unit, regression cases, real model, bot end-to-end
	scripts/prepare.sh
	$(PY) -m pytest -q -p no:cacheprovider

setup: ## install the two environments and build model, index and bot (no services)
	scripts/prepare.sh

check: ## catalog check (dangling codes, missing sources, unknown items)
	scripts/setup_app.sh
	$(PY) -m knowledge_base.catalog.check

unit: ## fast tests only (no real model, no services)
	scripts/setup_app.sh
	$(PY) -m pytest -q -m "not real_model and not e2e and not browser"

bench: ## benchmarks: describe latency, FAQ retrieval, bot NLU and turn latency
	scripts/prepare.sh
	$(PY) benchmarks/bench_describe.py
	$(PY) benchmarks/bench_faq.py
	$(PY) benchmarks/bench_bot.py

clean: ## remove built artefacts (keeps the environments)
	rm -rf var bot/models .cache/faq_index

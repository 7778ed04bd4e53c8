# daoban — 一照通行 智能导办.  `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

RASA := .venv-rasa/bin/rasa
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help run test setup check unit bench clean bot-validate bot-stories migrate reduction balanced bench-load

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

run: ## install what is missing, build model/index, train bot, start every service on loopback
	scripts/run_all.sh

test: ## every test: catalog check, bot data validation and test stories, then pytest (unit, regression cases, real model, browser, bot end-to-end)
	scripts/prepare.sh
	scripts/setup_system.sh
	$(MAKE) --no-print-directory bot-validate bot-stories
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

bot-validate: ## rasa data validate (fails on warnings)
	$(RASA) data validate --fail-on-warnings --config bot/config.yml --domain bot/domain.yml --data bot/data

bot-stories: ## Rasa test stories (bot/tests/test_stories.yml)
	$(RASA) test core --stories bot/tests/test_stories.yml -m bot/models/daoban.tar.gz --out var/rasa-test --fail-on-prediction-errors

setup: ## install the two environments and build model, index and bot (no services)
	scripts/prepare.sh

check: ## catalog check (dangling codes, missing sources, unknown items)
	scripts/setup_app.sh
	$(PY) -m knowledge_base.catalog.check

unit: ## fast tests only (no real model, no services)
	scripts/setup_app.sh
	$(PY) -m pytest -q -m "not real_model and not e2e and not browser"

bench: ## benchmarks: describe latency, FAQ retrieval, bot NLU and turn latency, back-office throughput
	scripts/prepare.sh
	$(PY) benchmarks/bench_describe.py
	$(PY) benchmarks/bench_faq.py
	$(PY) benchmarks/bench_bot.py
	$(PY) benchmarks/bench_office.py

balanced: ## nginx + 2 API + 2 Rasa + 2 action servers + PostgreSQL + Redis on loopback (deploy/README.md)
	deploy/balanced.sh

bench-load: ## load: applicants, hotline agents, a maintainer's rebuild; single vs balanced at 10 and 50 users (~20 min)
	scripts/prepare.sh
	scripts/setup_system.sh
	$(PY) benchmarks/bench_load.py

migrate: ## upgrade the database schema in place (alembic; make run does it too)
	scripts/setup_app.sh
	$(PY) -m api.migrations upgrade

reduction: ## reduction report: fields, materials, time before/after merging per seed package, vs the seeds' targets
	scripts/setup_app.sh
	$(PY) scripts/reduction_report.py

clean: ## remove built artefacts (keeps the environments)
	rm -rf var bot/models .cache/faq_index

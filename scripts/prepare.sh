#!/usr/bin/env bash
# Install both environments, build the e5 model folder and the FAQ index, train the
# bot: each step only when its inputs changed (stamps), so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p var
exec 9>var/.prepare.lock  # one build at a time (several test runs or make run may start together)
flock 9
scripts/setup_app.sh
.venv/bin/python -m knowledge_base.catalog.check >/dev/null || .venv/bin/python -m knowledge_base.catalog.check
.venv/bin/python -m knowledge_base.intake.pinyin_table   # character readings for the intake (the API does not import pypinyin)
.venv/bin/python -m knowledge_base.faq.cli build-model
.venv/bin/python -m knowledge_base.faq.cli build-onnx   # e5 -> ONNX under .cache/ (once per model; queries never import torch)
.venv/bin/python -m knowledge_base.faq.cli build-index
scripts/setup_rasa.sh
scripts/train_bot.sh

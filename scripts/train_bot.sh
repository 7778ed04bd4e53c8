#!/usr/bin/env bash
# Train the Rasa model (bot/models/daoban.tar.gz) when bot/ or the catalog changed.
#
# 1. regenerate the lexicon (jieba dictionary, lookup tables, templated examples) from
#    data/catalog/ (scripts/gen_bot_lexicon.py);
# 2. hash bot/ (minus models and tests), data/catalog/ and the generator;
# 3. train only if that hash differs from bot/models/.train-stamp (or the model is missing).
# Usage: scripts/train_bot.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
MODEL_DIR="$ROOT/bot/models"
MODEL="$MODEL_DIR/daoban.tar.gz"
STAMP="$MODEL_DIR/.train-stamp"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

if [[ ! -x "$VENV/bin/rasa" ]]; then
  "$ROOT/scripts/setup_rasa.sh"
fi

"$VENV/bin/python" scripts/gen_bot_lexicon.py

hash_inputs() {
  {
    find bot -type f \
      -not -path 'bot/models/*' -not -path 'bot/tests/*' -not -path 'bot/.rasa/*' \
      -not -name '*.pyc' -print0
    find data/catalog -type f -print0
    printf 'scripts/gen_bot_lexicon.py\0bot/requirements-rasa.txt\0'
  } | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
want="$(hash_inputs)"

if [[ "${1:-}" != "--force" && -f "$MODEL" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "train_bot: model is up to date ($MODEL)"
  exit 0
fi

mkdir -p "$MODEL_DIR"
start=$(date +%s)
echo "train_bot: training (about 1-2 minutes)"
"$VENV/bin/rasa" train \
  --config bot/config.yml --domain bot/domain.yml --data bot/data \
  --out "$MODEL_DIR" --fixed-model-name daoban --quiet
echo "$want" > "$STAMP"
echo "train_bot: trained $MODEL in $(( $(date +%s) - start ))s"

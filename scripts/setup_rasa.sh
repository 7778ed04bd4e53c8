#!/usr/bin/env bash
# Create the Rasa environment (.venv-rasa) for bot/: Rasa Open Source 3.6.21 on Python 3.11.
#
# Rasa 3.6.21 declares Python <3.11, so it is installed with --ignore-requires-python and
# --no-deps from a fully pinned list (bot/requirements-rasa.txt). That list swaps rasa's
# matplotlib<3.6 (no cp311 wheel; the source build downloads freetype) for matplotlib 3.6.3,
# which has a wheel: no compiler, no apt packages needed.
#
# Idempotent: a stamp file holding the hash of the requirements file makes a second run instant.
# Usage: scripts/setup_rasa.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"
REQ="$ROOT/bot/requirements-rasa.txt"
STAMP="$VENV/.daoban-setup-stamp"
PYTHON="${PYTHON:-python3.11}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

want="$(sha256sum "$REQ" "$0" | sha256sum | cut -d' ' -f1)"
if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/rasa" ]]; then
  echo "setup_rasa: $VENV is up to date"
  exit 0
fi

start=$(date +%s)
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup_rasa: $PYTHON not found" >&2
  exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup_rasa: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip --version >/dev/null  # the venv's own pip (23.x) is enough
echo "setup_rasa: installing pinned rasa environment (a few minutes on a fresh machine)"
"$VENV/bin/python" -m pip install -q --no-deps --ignore-requires-python -r "$REQ"

# Smoke check: the imports `rasa train` / `rasa run` need, without telemetry.
"$VENV/bin/python" - <<'EOF'
import os
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
import jieba, tensorflow, rasa  # noqa: F401
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer  # noqa: F401
from rasa.nlu.classifiers.diet_classifier import DIETClassifier  # noqa: F401
print("setup_rasa: rasa", rasa.__version__, "tensorflow", tensorflow.__version__)
EOF
# Telemetry off for interactive use too (rasa reads ~/.config/rasa/global.yml).
"$VENV/bin/rasa" telemetry disable >/dev/null 2>&1 || true

echo "$want" > "$STAMP"
echo "setup_rasa: done in $(( $(date +%s) - start ))s"

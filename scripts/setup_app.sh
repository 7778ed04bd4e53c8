#!/usr/bin/env bash
# Create/refresh the app environment (.venv) when pyproject.toml changed.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.daoban-stamp
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "[setup] app environment (.venv) …"
[ -x .venv/bin/python ] || python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[dev]'
echo "$want" > "$stamp"
echo "[setup] app environment ready"

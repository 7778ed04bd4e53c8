#!/usr/bin/env bash
# One command for the whole system: install what is missing, build the e5 model and
# the FAQ index and train the bot when stale, start API (8000), actions (5055) and
# Rasa (5005) on loopback, print where to open it.  Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2
API_PORT=${DAOBAN_API_PORT:-8000}; ACTIONS_PORT=${DAOBAN_ACTIONS_PORT:-5055}; RASA_PORT=${DAOBAN_RASA_PORT:-5005}
scripts/prepare.sh
mkdir -p var/log
if [ -z "${DAOBAN_MAINTAINER_TOKEN:-}" ]; then  # FAQ maintainer token: generated once, kept in var/
  [ -s var/maintainer_token ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > var/maintainer_token)
  export DAOBAN_MAINTAINER_TOKEN=$(cat var/maintainer_token)
fi
pids=()
cleanup() { trap - INT TERM EXIT; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
start=$(date +%s)
DAOBAN_RASA_URL="http://127.0.0.1:$RASA_PORT" .venv/bin/uvicorn api.main:create_app --factory --host 127.0.0.1 --port "$API_PORT" >var/log/api.log 2>&1 & pids+=($!)
SANIC_HOST=127.0.0.1 DAOBAN_API_URL="http://127.0.0.1:$API_PORT" .venv/bin/python -m rasa_sdk --actions actions --port "$ACTIONS_PORT" >var/log/actions.log 2>&1 & pids+=($!)
.venv-rasa/bin/rasa run --enable-api --cors "*" -m bot/models --endpoints bot/endpoints.yml --credentials bot/credentials.yml \
  -i 127.0.0.1 --port "$RASA_PORT" >var/log/rasa.log 2>&1 & pids+=($!)
wait_for() { # url name
  for _ in $(seq 1 240); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "[run] $2 did not come up; see var/log/" >&2; return 1
}
wait_for "http://127.0.0.1:$API_PORT/api/v1/health" API
wait_for "http://127.0.0.1:$ACTIONS_PORT/health" actions
wait_for "http://127.0.0.1:$RASA_PORT/status" Rasa
cat <<MSG

daoban is running (started in $(( $(date +%s) - start )) s; logs in var/log/):
  申请人聊天页   http://127.0.0.1:$API_PORT/chat
  12345 热线查询 http://127.0.0.1:$API_PORT/hotline
  知识库维护     http://127.0.0.1:$API_PORT/maintainer
  API 文档       http://127.0.0.1:$API_PORT/docs
  FAQ 维护令牌   var/maintainer_token（请求头 X-Maintainer-Token）
  Rasa REST      http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "[run] a service stopped; see var/log/" >&2

#!/usr/bin/env bash
# One command for the whole system: install what is missing, build the e5 model and the
# FAQ index and train the bot when stale, then start and supervise, all on 127.0.0.1:
#   API :8000 (pages, FAQ, intake, and POST /api/v1/chat/webhook, the only way into the bot)
#   action server :5055, Rasa :5005 (+ :5006 … with DAOBAN_RASA_PROCESSES=2 and a Redis lock
#   store on :6380), all with their HTTP APIs on loopback; Rasa's API needs var/rasa_token.
# A service that stops is started again (backoff up to 30 s); the others keep serving.
# Ctrl-C stops everything.
#
# Environment: DAOBAN_API_PORT, DAOBAN_ACTIONS_PORT, DAOBAN_RASA_PORT, DAOBAN_RASA_PROCESSES,
# DAOBAN_REDIS_PORT / DAOBAN_REDIS_URL, DAOBAN_DATABASE_URL (API and Rasa's tracker store),
# DAOBAN_RUN_DIR (pid files, endpoints; default var/run), DAOBAN_LOG_DIR (default var/log),
# DAOBAN_SKIP_PREPARE=1 (the caller already ran scripts/prepare.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2
export SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONUNBUFFERED=1
export TICKET_LOCK_LIFETIME=${TICKET_LOCK_LIFETIME:-15}  # a dead Rasa's conversation lock frees itself
API_PORT=${DAOBAN_API_PORT:-8000}; ACTIONS_PORT=${DAOBAN_ACTIONS_PORT:-5055}; RASA_PORT=${DAOBAN_RASA_PORT:-5005}
RASA_PROCS=${DAOBAN_RASA_PROCESSES:-1}
RUN=${DAOBAN_RUN_DIR:-var/run}; LOG=${DAOBAN_LOG_DIR:-var/log}
[ "${DAOBAN_SKIP_PREPARE:-}" = 1 ] || scripts/prepare.sh
mkdir -p "$RUN" "$LOG" var; rm -f "$RUN/ready"

secret() { # ENV_NAME file: the variable if set, else a token generated once into var/<file>
  local name=$1 file=var/$2
  if [ -z "${!name:-}" ]; then
    [ -s "$file" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > "$file")
    export "$name=$(cat "$file")"
  fi
}
secret DAOBAN_MAINTAINER_TOKEN maintainer_token  # FAQ maintainers (X-Maintainer-Token)
secret DAOBAN_BOT_TOKEN bot_token                # action server -> API intake snapshots
secret DAOBAN_RASA_TOKEN rasa_token              # Rasa's HTTP API (?token=); nothing outside uses it

rasa_urls=()
for ((i = 0; i < RASA_PROCS; i++)); do rasa_urls+=("http://127.0.0.1:$((RASA_PORT + i))"); done
export DAOBAN_CHAT_RASA_URLS=$(IFS=,; echo "${rasa_urls[*]}")
export DAOBAN_API_URL="http://127.0.0.1:$API_PORT"
export DAOBAN_PUBLIC_BASE_URL=${DAOBAN_PUBLIC_BASE_URL:-$DAOBAN_API_URL}  # links and QR codes (apply, track, 一码展示)
.venv/bin/python -m api.migrations upgrade  # the database's schema upgraded in place before any service opens it
export DAOBAN_RASA_URL="${rasa_urls[0]}"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

supervise() { # name command…: run it, and run it again whenever it stops
  local name=$1; shift
  (
    child=""
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
    delay=1
    while true; do
      started=$(date +%s)
      "$@" >>"$LOG/$name.log" 2>&1 &
      child=$!
      echo "$child" >"$RUN/$name.pid"
      rc=0; wait "$child" || rc=$?
      if (( $(date +%s) - started > 60 )); then delay=1; else delay=$(( delay * 2 > 30 ? 30 : delay * 2 )); fi
      echo "[run] $(date '+%F %T') $name stopped (exit $rc); restarting in ${delay}s" | tee -a "$LOG/$name.log" >&2
      sleep "$delay"
    done
  ) &
  pids+=($!)
}

redis_url=${DAOBAN_REDIS_URL:-}
if (( RASA_PROCS > 1 )) && [ -z "$redis_url" ]; then
  REDIS_PORT=${DAOBAN_REDIS_PORT:-6380}
  supervise redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --protected-mode yes
  redis_url="redis://127.0.0.1:$REDIS_PORT/1"
fi
.venv/bin/python -m api.chat.rasa_config --actions-url "http://127.0.0.1:$ACTIONS_PORT/webhook" \
  ${redis_url:+--redis-url "$redis_url"} --out "$RUN/endpoints.yml"

start=$(date +%s)
# --no-access-log: the API logs each request itself (route template, request id; numbers masked), paths carry tokens
supervise api .venv/bin/uvicorn api.main:create_app --factory --host 127.0.0.1 --port "$API_PORT" --no-access-log
SANIC_HOST=127.0.0.1 supervise actions .venv/bin/python -m rasa_sdk --actions actions --port "$ACTIONS_PORT"
for ((i = 0; i < RASA_PROCS; i++)); do
  # no --cors: browsers never talk to Rasa; the HTTP API (trackers, events, model) needs the token
  supervise "rasa-$i" .venv-rasa/bin/rasa run --enable-api --auth-token "$DAOBAN_RASA_TOKEN" -m bot/models \
    --endpoints "$RUN/endpoints.yml" --credentials bot/credentials.yml -i 127.0.0.1 --port "$((RASA_PORT + i))"
done

wait_for() { # url name word: wait (DAOBAN_START_TIMEOUT s, default 900) until the answer holds the word
  local deadline=$(( $(date +%s) + ${DAOBAN_START_TIMEOUT:-900} ))
  while (( $(date +%s) < deadline )); do curl -fsS "$1" 2>/dev/null | grep -q "$3" && return 0; sleep 0.5; done
  echo "[run] $2 did not come up; see $LOG/" >&2; return 1
}
wait_for "http://127.0.0.1:$API_PORT/api/v1/health" API status
wait_for "http://127.0.0.1:$ACTIONS_PORT/health" actions ok
for ((i = 0; i < RASA_PROCS; i++)); do
  wait_for "http://127.0.0.1:$((RASA_PORT + i))/status?token=$DAOBAN_RASA_TOKEN" "Rasa $i" model_file
done
cat <<MSG

daoban is running (started in $(( $(date +%s) - start )) s; logs in $LOG/, restarted when they stop):
  申请人聊天页   http://127.0.0.1:$API_PORT/chat
  12345 热线查询 http://127.0.0.1:$API_PORT/hotline   （按办理码接着办：/hotline/intake）
  知识库维护     http://127.0.0.1:$API_PORT/maintainer
  API 文档       http://127.0.0.1:$API_PORT/docs
  聊天入口       POST http://127.0.0.1:$API_PORT/api/v1/chat/webhook  （Rasa ${RASA_PROCS} 个进程，仅本机）
  令牌           var/maintainer_token（X-Maintainer-Token）、var/rasa_token（Rasa HTTP API ?token=）
Press Ctrl-C to stop.
MSG
echo "ready" >"$RUN/ready"
wait

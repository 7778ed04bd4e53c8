#!/usr/bin/env bash
# The balanced layout on one machine, everything on 127.0.0.1 (docs: deploy/README.md):
#
#   nginx :8080 (public) ──► API replica 1 :18100 ─┐       ┌─► Rasa 1 :18120 ─► actions 1 :18110 ─┐
#                        └─► API replica 2 :18101 ─┴ relay ┴─► Rasa 2 :18121 ─► actions 2 :18111 ─┴─► nginx :8081 (internal) ─► API
#   PostgreSQL :18130 (applications, FAQ edits and log, intake codes, Rasa's trackers)
#   Redis :18131 (db 1: Rasa's lock store; db 2: the API replicas' shared rate limits)
#   FAQ index: one directory shared by the replicas ($DIR/var/faq_index); a rebuild on one
#   replica is picked up by the others within 5 s.
#
# Every service is supervised (started again with backoff when it stops).  Ctrl-C stops all.
# Environment: DAOBAN_BAL_DIR (state: var/balanced), DAOBAN_BAL_PORT (public nginx port, 8080; the
# internal one is +1), DAOBAN_BAL_BASE (first internal port, 18100), DAOBAN_BAL_API / _RASA / _ACTIONS
# (replicas of each, 2), DAOBAN_SKIP_PREPARE=1 (models already built), DAOBAN_BAL_RATE_* (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2
export SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONUNBUFFERED=1
export TICKET_LOCK_LIFETIME=${TICKET_LOCK_LIFETIME:-15}  # a dead Rasa's conversation lock frees itself
DIR=$(realpath -m "${DAOBAN_BAL_DIR:-var/balanced}")
PUBLIC=${DAOBAN_BAL_PORT:-8080}; INTERNAL=$((PUBLIC + 1)); BASE=${DAOBAN_BAL_BASE:-18100}
N_API=${DAOBAN_BAL_API:-2}; N_RASA=${DAOBAN_BAL_RASA:-2}; N_ACT=${DAOBAN_BAL_ACTIONS:-2}
PG_PORT=$((BASE + 30)); REDIS_PORT=$((BASE + 31))
RUN=$DIR/run; LOG=$DIR/log
[ "${DAOBAN_SKIP_PREPARE:-}" = 1 ] || { scripts/prepare.sh; scripts/setup_system.sh; }
mkdir -p "$RUN" "$LOG" "$DIR/var" "$DIR/nginx"; rm -f "$RUN/ready"
chmod 755 "$DIR"

secret() { # ENV_NAME file: the variable if set, else a token generated once into var/<file>
  local name=$1 file=var/$2
  if [ -z "${!name:-}" ]; then
    [ -s "$file" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > "$file")
    export "$name=$(cat "$file")"
  fi
}
secret DAOBAN_MAINTAINER_TOKEN maintainer_token
secret DAOBAN_BOT_TOKEN bot_token
secret DAOBAN_RASA_TOKEN rasa_token
secret DAOBAN_PG_PASSWORD pg_password
secret DAOBAN_REDIS_PASSWORD redis_password

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${PGCTL:-}" ] && as_pg "$PGCTL" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
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
      echo "[balanced] $(date '+%F %T') $name stopped (exit $rc); restarting in ${delay}s" | tee -a "$LOG/$name.log" >&2
      sleep "$delay"
    done
  ) &
  pids+=($!)
}

wait_for() { # url what pattern
  for _ in $(seq 1 600); do curl -fsS "$1" 2>/dev/null | grep -q "$3" && return 0; sleep 0.5; done
  echo "[balanced] $2 did not come up; see $LOG/" >&2; return 1
}

# ---------------------------------------------------------------- PostgreSQL (Debian's server binaries)
pgbin() { ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGCTL=$(pgbin pg_ctl); INITDB=$(pgbin initdb)
[ -n "$PGCTL" ] && [ -n "$INITDB" ] || { echo "[balanced] PostgreSQL server not installed (scripts/setup_system.sh)" >&2; exit 1; }
if [ ! -s "$DIR/pg/PG_VERSION" ]; then
  mkdir -p "$DIR/pg"; pwfile=$(mktemp); printf '%s\n' "$DAOBAN_PG_PASSWORD" >"$pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/pg" "$pwfile"; fi
  chmod 700 "$DIR/pg"
  as_pg "$INITDB" -D "$DIR/pg" -U postgres --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log"
  rm -f "$pwfile"
fi
as_pg "$PGCTL" -D "$DIR/pg" -l "$DIR/pg/postgres.log" -w -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
PGPASSWORD=$DAOBAN_PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='daoban'" \
  | grep -q 1 || PGPASSWORD=$DAOBAN_PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE daoban"
export DAOBAN_DATABASE_URL="postgresql+psycopg://postgres:$DAOBAN_PG_PASSWORD@127.0.0.1:$PG_PORT/daoban"

# ---------------------------------------------------------------- Redis (Debian's redis-server)
printf 'bind 127.0.0.1\nport %s\nsave ""\nappendonly no\nprotected-mode yes\nrequirepass %s\n' \
  "$REDIS_PORT" "$DAOBAN_REDIS_PASSWORD" >"$RUN/redis.conf"; chmod 600 "$RUN/redis.conf"
supervise redis redis-server "$RUN/redis.conf"
export DAOBAN_REDIS_URL="redis://:$DAOBAN_REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/2"
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" -a "$DAOBAN_REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done

# ---------------------------------------------------------------- shared state for the replicas
export DAOBAN_VAR_DIR=$DIR/var  # FAQ index (shared by the replicas), the intake matcher's cache
for d in faq_index intake; do  # start from the index and cache prepare.sh built (rebuilt here when stale)
  [ -e "$DIR/var/$d" ] || [ ! -d "var/$d" ] || cp -a "var/$d" "$DIR/var/$d"
done
export DAOBAN_PUBLIC_BASE_URL=${DAOBAN_PUBLIC_BASE_URL:-http://127.0.0.1:$PUBLIC}
export DAOBAN_RATE_DESCRIBE_PER_MINUTE=${DAOBAN_BAL_RATE_DESCRIBE:-${DAOBAN_RATE_DESCRIBE_PER_MINUTE:-60}}
export DAOBAN_RATE_FAQ_PER_MINUTE=${DAOBAN_BAL_RATE_FAQ:-${DAOBAN_RATE_FAQ_PER_MINUTE:-240}}
export DAOBAN_RATE_CHAT_PER_MINUTE=${DAOBAN_BAL_RATE_CHAT:-${DAOBAN_RATE_CHAT_PER_MINUTE:-90}}
.venv/bin/python -m api.migrations upgrade >>"$LOG/migrate.log"  # once, before any replica starts
# the FAQ index once, before any replica starts (incremental: instant when up to date), so that the
# replicas load it instead of each building its own; later rebuilds: POST /api/v1/faq/admin/rebuild
# on any replica writes a new build and CURRENT, the others load it within 5 s
.venv/bin/python -m knowledge_base.faq.cli build-index >>"$LOG/faq-build.log" 2>&1 \
  || echo "[balanced] FAQ index not built (see $LOG/faq-build.log); the replicas will build it" >&2

rasa_urls=(); api_servers=""
for ((i = 0; i < N_RASA; i++)); do rasa_urls+=("http://127.0.0.1:$((BASE + 20 + i))"); done
export DAOBAN_CHAT_RASA_URLS=$(IFS=,; echo "${rasa_urls[*]}")
export DAOBAN_RASA_URL="${rasa_urls[0]}"

start=$(date +%s)
# ---------------------------------------------------------------- API replicas
for ((i = 0; i < N_API; i++)); do
  port=$((BASE + i)); api_servers+="    server 127.0.0.1:$port max_fails=2 fail_timeout=5s;"$'\n'
  DAOBAN_API_URL="http://127.0.0.1:$port" supervise "api-$i" .venv/bin/uvicorn api.main:create_app --factory \
    --host 127.0.0.1 --port "$port" --no-access-log --proxy-headers --forwarded-allow-ips 127.0.0.1 \
    --timeout-keep-alive 75  # longer than nginx keeps an idle upstream connection: no reuse of a closed one (502)
done

# ---------------------------------------------------------------- nginx (Debian's nginx-light)
mkdir -p "$DIR/nginx/tmp"
user_line=""
if [ "$(id -u)" = 0 ]; then user_line="user www-data;"; chown -R www-data "$DIR/nginx/tmp"; fi
cat >"$RUN/nginx.conf" <<NGINX
# generated by deploy/balanced.sh
$user_line
worker_processes auto;
pid $RUN/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 2048; }
http {
  access_log off;  # the API replicas log every request (route template, request id, client; numbers masked): paths carry tokens
  server_tokens off;
  client_body_temp_path $DIR/nginx/tmp/body; proxy_temp_path $DIR/nginx/tmp/proxy;
  fastcgi_temp_path $DIR/nginx/tmp/fastcgi; uwsgi_temp_path $DIR/nginx/tmp/uwsgi; scgi_temp_path $DIR/nginx/tmp/scgi;
  client_max_body_size 6m;  # the API's own cap on an uploaded material is 5 MB
  types { text/html html; application/json json; }
  # a client's own X-Forwarded-For is believed only when it comes from this machine (a local balancer or test)
  set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; real_ip_recursive on;
  map \$http_x_request_id \$rid { "~^[A-Za-z0-9._:-]{8,64}\$" \$http_x_request_id; default \$request_id; }
  upstream daoban_api {
$api_servers    keepalive 64; keepalive_timeout 60s;
  }
  server {  # public
    listen 127.0.0.1:$PUBLIC;
    location = /metrics { return 404; }  # scraped per replica on its own port
    location / {
      proxy_pass http://daoban_api;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Request-ID \$rid;
      proxy_next_upstream error timeout http_502;
      proxy_read_timeout 65s;
    }
  }
  server {  # internal: the action servers reach the API here (no X-Forwarded-For: not limited as a client)
    listen 127.0.0.1:$INTERNAL;
    location / {
      proxy_pass http://daoban_api;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For "";
      proxy_set_header X-Request-ID \$rid;
      proxy_next_upstream error timeout http_502;
    }
  }
}
NGINX
nginx -t -c "$RUN/nginx.conf" -p "$DIR/nginx" >"$LOG/nginx-test.log" 2>&1 || { cat "$LOG/nginx-test.log" >&2; exit 1; }
supervise nginx nginx -c "$RUN/nginx.conf" -p "$DIR/nginx" -g "daemon off;"

# ---------------------------------------------------------------- action servers and Rasa
for ((i = 0; i < N_ACT; i++)); do
  DAOBAN_API_URL="http://127.0.0.1:$INTERNAL" SANIC_HOST=127.0.0.1 supervise "actions-$i" \
    .venv/bin/python -m rasa_sdk --actions actions --port "$((BASE + 10 + i))"
done
for ((i = 0; i < N_RASA; i++)); do  # Rasa i uses action server i (mod N): a Rasa and its actions fail alone
  .venv/bin/python -m api.chat.rasa_config --actions-url "http://127.0.0.1:$((BASE + 10 + i % N_ACT))/webhook" \
    --redis-url "redis://:$DAOBAN_REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/1" --out "$RUN/endpoints-$i.yml"
  supervise "rasa-$i" .venv-rasa/bin/rasa run --enable-api --auth-token "$DAOBAN_RASA_TOKEN" -m bot/models \
    --endpoints "$RUN/endpoints-$i.yml" --credentials bot/credentials.yml -i 127.0.0.1 --port "$((BASE + 20 + i))"
done

for ((i = 0; i < N_API; i++)); do wait_for "http://127.0.0.1:$((BASE + i))/api/v1/health" "API $i" status; done
wait_for "http://127.0.0.1:$PUBLIC/api/v1/health" nginx status
for ((i = 0; i < N_ACT; i++)); do wait_for "http://127.0.0.1:$((BASE + 10 + i))/health" "actions $i" ok; done
for ((i = 0; i < N_RASA; i++)); do
  wait_for "http://127.0.0.1:$((BASE + 20 + i))/status?token=$DAOBAN_RASA_TOKEN" "Rasa $i" model_file
done
cat >"$RUN/layout.json" <<JSON
{"public": $PUBLIC, "internal": $INTERNAL, "api": [$(for ((i = 0; i < N_API; i++)); do printf '%s%s' "$((BASE + i))" "$([ $i -lt $((N_API - 1)) ] && echo ,)"; done)],
 "actions": [$(for ((i = 0; i < N_ACT; i++)); do printf '%s%s' "$((BASE + 10 + i))" "$([ $i -lt $((N_ACT - 1)) ] && echo ,)"; done)],
 "rasa": [$(for ((i = 0; i < N_RASA; i++)); do printf '%s%s' "$((BASE + 20 + i))" "$([ $i -lt $((N_RASA - 1)) ] && echo ,)"; done)],
 "postgres": $PG_PORT, "redis": $REDIS_PORT, "run_dir": "$RUN", "log_dir": "$LOG"}
JSON
cat <<MSG

daoban (balanced: $N_API API, $N_RASA Rasa, $N_ACT action servers, PostgreSQL, Redis, nginx) is running
(started in $(( $(date +%s) - start )) s; logs in $LOG/):
  申请人聊天页   http://127.0.0.1:$PUBLIC/chat
  12345 热线查询 http://127.0.0.1:$PUBLIC/hotline
  知识库维护     http://127.0.0.1:$PUBLIC/maintainer   （令牌：var/maintainer_token）
  部门工作台     http://127.0.0.1:$PUBLIC/office
  指标           http://127.0.0.1:$BASE/metrics … （每个 API 副本各自的端口，仅本机）
Press Ctrl-C to stop.
MSG
echo ready >"$RUN/ready"
wait

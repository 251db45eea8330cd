#!/usr/bin/env bash
# Runs the dashboard and API on http://127.0.0.1:7000 with every service it needs:
# Redis, FerretDB (MongoDB protocol), Cassandra, the event-log worker and gunicorn.
# The services keep running afterwards (scripts/services.sh down stops them); the worker and
# gunicorn stop with this script: Ctrl-C, TERM or a closed terminal (HUP).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh
bash scripts/services.sh up
export PATH="${SHOPSITE_CACHE:-/var/tmp/shopsite-cache}/bin:$PATH"

# Local settings (SECRET_KEY, ...) in the git-ignored .env, which every manage.py command reads.
bash scripts/local-env.sh
PORT="${PORT:-7000}"
# This machine only, unless told otherwise (BIND=0.0.0.0): cookies here are not Secure-only.
BIND="${BIND:-127.0.0.1}"
WEB_WORKERS="${WEB_WORKERS:-3}"

py=.venv/bin/python
$py manage.py migrate --noinput -v 0
$py manage.py init_mongo
$py manage.py init_cassandra
# Sales figures regrouped if SHOP_TIME_ZONE or their layout changed since the last start.
$py manage.py refresh_summaries
$py manage.py collectstatic --noinput -v 0
# The first admin: from SHOPSITE_ADMIN_PASSWORD if set, else asked for (terminal) or explained.
if [[ -t 0 && -t 1 ]]; then $py manage.py first_admin --ask; else $py manage.py first_admin; fi

if [[ $BIND == 127.0.0.1 || $BIND == localhost ]]; then
  echo "shopsite: listening on $BIND:$PORT, this machine only (BIND=0.0.0.0 opens it to the network)"
else
  echo "shopsite: listening on $BIND:$PORT, open to the network (plain http; ALLOWED_HOSTS must name this host)"
fi
echo "shopsite: http://localhost:$PORT/dashboard/  (API docs: http://localhost:$PORT/docs)"

# Each in a session of its own (setsid): a terminal's Ctrl-C or hang-up reaches only this script,
# which stops both the same way. gunicorn would take a HUP of its own as "reload" and keep serving.
setsid $py manage.py eventlog_worker &
worker=$!
setsid .venv/bin/gunicorn shopsite.wsgi:application --bind "$BIND:$PORT" \
  --workers "$WEB_WORKERS" --worker-class shopsite.gunicorn_worker.JSONErrorThreadWorker --threads 4 --timeout 60 \
  --access-logfile - --log-level info &
web=$!

# TERM to both, then wait for them to exit (gunicorn finishes requests in flight, up to its
# graceful timeout of 30 s), so that the port is free once this script has ended.
stop() {
  # A second TERM or Ctrl-C while stopping must not kill this script: gunicorn would be left
  # running, no longer waited for (the KILL below bounds the wait).
  trap '' INT TERM HUP
  trap - EXIT
  kill -TERM "$worker" "$web" 2>/dev/null || true
  local deadline=$((SECONDS + 40))
  while kill -0 "$worker" 2>/dev/null || kill -0 "$web" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$worker" "$web" 2>/dev/null || true
      break
    fi
    sleep 0.2 || true  # a signal to the group may end the sleep
  done
  wait 2>/dev/null || true
}
trap 'stop; exit 129' HUP
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
# If either dies, the other is stopped too.
trap stop EXIT
wait -n "$worker" "$web"

#!/usr/bin/env bash
# Runs the dashboard and API on http://localhost:7000 with every service it needs:
# Redis, FerretDB (MongoDB protocol), Cassandra, the event-log worker and gunicorn.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh
bash scripts/services.sh up
export PATH="${SHOPSITE_CACHE:-/var/tmp/shopsite-cache}/bin:$PATH"

# Local settings (SECRET_KEY, ...) in the git-ignored .env, which every manage.py command reads.
bash scripts/local-env.sh
PORT="${PORT:-7000}"
WEB_WORKERS="${WEB_WORKERS:-3}"

py=.venv/bin/python
$py manage.py migrate --noinput -v 0
$py manage.py init_mongo
$py manage.py init_cassandra
$py manage.py collectstatic --noinput -v 0
# The first admin: from SHOPSITE_ADMIN_PASSWORD if set, else asked for (terminal) or explained.
if [[ -t 0 && -t 1 ]]; then $py manage.py first_admin --ask; else $py manage.py first_admin; fi

echo "shopsite: http://localhost:$PORT/dashboard/  (API docs: http://localhost:$PORT/docs)"
$py manage.py eventlog_worker &
worker=$!
.venv/bin/gunicorn shopsite.wsgi:application --bind "0.0.0.0:$PORT" \
  --workers "$WEB_WORKERS" --worker-class shopsite.gunicorn_worker.JSONErrorThreadWorker --threads 4 --timeout 60 \
  --access-logfile - --log-level info &
web=$!
# Ctrl-C or a TERM stops both; if either dies, the other is stopped too.
trap 'kill "$worker" "$web" 2>/dev/null || true; wait' INT TERM EXIT
wait -n "$worker" "$web"

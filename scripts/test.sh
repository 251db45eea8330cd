#!/usr/bin/env bash
# The whole test suite against the real services: installs, starts the services, runs the linters
# and pytest. Without arguments pytest runs twice: every test but the fault tests on
# $TEST_WORKERS parallel workers (pytest-xdist), each with a MongoDB database, Cassandra keyspace
# and Redis db of its own, then the fault tests (they stop shared services) alone, one at a time.
# Extra arguments go to a single serial pytest instead (e.g. scripts/test.sh -k orders).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh
bash scripts/services.sh up
export PATH="${SHOPSITE_CACHE:-/var/tmp/shopsite-cache}/bin:$PATH"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The import rules of docs/architecture.md ([tool.importlinter] in pyproject.toml).
.venv/bin/lint-imports

pytest=(.venv/bin/python -m pytest)
if (($# > 0)); then
  exec "${pytest[@]}" "$@"
fi

# The tests wait on the services far more than they compute: 4 workers keep 2 cores busy.
workers="${TEST_WORKERS:-4}"
base_id="${SHOPSITE_TEST_ID:-main}"
base_db="${SHOPSITE_TEST_REDIS_DB:-15}"
# A private Redis named by URL (TEST_REDIS_URL) has one db for the whole run: no parallel workers.
[[ -n ${TEST_REDIS_URL:-} ]] && workers=0
((workers <= base_db)) || { echo "TEST_WORKERS=$workers needs Redis dbs $base_db down to 1" >&2; exit 2; }

status=0
if ((workers > 1)); then
  # One gateway per worker, each with its own test id (database, keyspace, backup dir) and Redis
  # db; the root conftest.py refuses xdist workers started without them. A file's tests stay on
  # one worker (loadfile): module fixtures such as a gunicorn server are built once.
  tx=()
  for ((i = 0; i < workers; i++)); do
    tx+=(--tx "popen//env:SHOPSITE_TEST_ID=${base_id}_gw$i//env:SHOPSITE_TEST_REDIS_DB=$((base_db - i))")
  done
  "${pytest[@]}" "${tx[@]}" --dist loadfile -m "not fault" || status=$?
  "${pytest[@]}" -m fault || status=$((status ? status : $?))
else
  "${pytest[@]}" || status=$?
fi
exit "$status"

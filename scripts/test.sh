#!/usr/bin/env bash
# The whole test suite against the real services: installs, starts the services, runs the linters
# and pytest. Without arguments pytest runs twice at once: every test but the fault tests on
# $TEST_WORKERS parallel workers (pytest-xdist), each with a MongoDB database, Cassandra keyspace
# and Redis db of its own; and the fault tests, one at a time, on a private set of services they
# may stop. Extra arguments go to a single pytest on the shared services instead
# (e.g. scripts/test.sh -k orders).
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

# The fault tests stop and restart services: they get a private set of their own (free ports, a
# state folder of this run's), started and tested in the background while the other tests run,
# and removed at the end. The services other runs share are never stopped.
fault_state="$(mkdir -p .services && mktemp -d "$ROOT/.services/fault.XXXXXX")"
read -r redis_port postgres_port mongodb_port cassandra_port storage_port < <(.venv/bin/python -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
fault_env=(
  SHOPSITE_STATE="$fault_state" REDIS_PORT="$redis_port" POSTGRES_PORT="$postgres_port"
  MONGODB_PORT="$mongodb_port" CASSANDRA_PORT="$cassandra_port" CASSANDRA_STORAGE_PORT="$storage_port"
  MONGODB_URI="mongodb://127.0.0.1:$mongodb_port/?directConnection=true"
  TEST_REDIS_URL="redis://127.0.0.1:$redis_port/15" SHOPSITE_TEST_ID="${base_id}_fault"
)
fault_cluster="$(env "${fault_env[@]}" bash -c 'source scripts/services.sh; pg_dir')"
remove_fault_services() {
  env "${fault_env[@]}" bash scripts/services.sh down >/dev/null 2>&1 || true
  rm -rf "$fault_state"
  [[ $fault_cluster == "$fault_state"/* ]] || rm -rf "$fault_cluster"
}
trap remove_fault_services EXIT
(
  env "${fault_env[@]}" bash scripts/services.sh up >"$fault_state/services.log" 2>&1 ||
    { cat "$fault_state/services.log"; exit 1; }
  env "${fault_env[@]}" "${pytest[@]}" -p no:cacheprovider -m fault
) >"$fault_state/pytest.log" 2>&1 &
fault_run=$!

status=0
if ((workers > 1)); then
  # One gateway per worker, each with its own test id (database, keyspace, backup dir) and Redis
  # db; the root conftest.py refuses xdist workers started without them. worksteal: an idle worker
  # takes tests queued for a busy one (a few files hold minutes of tests each).
  tx=()
  for ((i = 0; i < workers; i++)); do
    tx+=(--tx "popen//env:SHOPSITE_TEST_ID=${base_id}_gw$i//env:SHOPSITE_TEST_REDIS_DB=$((base_db - i))")
  done
  "${pytest[@]}" "${tx[@]}" --dist worksteal -m "not fault" || status=$?
else
  "${pytest[@]}" -m "not fault" || status=$?
fi
fault_status=0
wait "$fault_run" || fault_status=$?
echo "=== fault tests (private services) ==="
cat "$fault_state/pytest.log"
exit $((status ? status : fault_status))

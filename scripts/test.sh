#!/usr/bin/env bash
# The whole test suite against the real services: installs, starts the services, runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k orders).
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
.venv/bin/python -m pytest "$@"

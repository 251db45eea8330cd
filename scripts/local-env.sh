#!/usr/bin/env bash
# Writes the local settings `make run` needs into the git-ignored .env at the repo root, once:
# shopsite/settings/env.py reads it (django-environ), so every `manage.py` command in any terminal sees
# the same values; docker compose reads the same names from it. Lines already there are kept.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="$ROOT/.env"

has() { [[ -f $ENV_FILE ]] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1=" "$ENV_FILE"; }
add() {
  if [[ ! -f $ENV_FILE ]]; then
    (umask 077 && printf '# Local settings for make run and manage.py (git-ignored). The environment wins.\n' >"$ENV_FILE")
  fi
  printf '%s=%s\n' "$1" "$2" >>"$ENV_FILE"
}

if ! has SECRET_KEY; then
  # An older `make run` kept its key in .services/secret_key: keep it (signed sessions stay valid).
  if [[ -s $ROOT/.services/secret_key ]]; then
    key="$(cat "$ROOT/.services/secret_key")"
  else
    key="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
  fi
  add SECRET_KEY "$key"
fi
# Plain http on localhost: cookies cannot be Secure-only here (set true behind TLS).
has SECURE_COOKIES || add SECURE_COOKIES false
chmod 600 "$ENV_FILE"

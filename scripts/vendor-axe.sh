#!/usr/bin/env bash
# Vendors axe-core (the accessibility rules engine the browser tests inject into every page) from
# its npm package into tests/browser/vendor/axe-core-<version>/. Committed, so the tests need no
# npm; rerun to upgrade:
#   bash scripts/vendor-axe.sh 4.11.0
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:-4.11.0}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf axe-core-*.tgz)
dest="$ROOT/tests/browser/vendor/axe-core-$VERSION"
mkdir -p "$dest"
install -m644 "$tmp/package/axe.min.js" "$dest/axe.min.js"
install -m644 "$tmp/package/LICENSE" "$dest/LICENSE"
echo "axe-core $VERSION in ${dest#"$ROOT"/}; point tests/browser/axe.py at it."

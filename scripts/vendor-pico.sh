#!/usr/bin/env bash
# Vendors Pico CSS from its npm package into static/vendor/pico-<version>/ (minified CSS + LICENSE).
# The files are committed, so pages never load CSS from the internet; rerun to upgrade:
#   bash scripts/vendor-pico.sh 2.1.1
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:-2.1.1}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@picocss/pico@$VERSION" >/dev/null && tar xzf picocss-pico-*.tgz)
dest="$ROOT/static/vendor/pico-$VERSION"
mkdir -p "$dest"
install -m644 "$tmp/package/css/pico.min.css" "$dest/pico.min.css"
install -m644 "$tmp/package/LICENSE.md" "$dest/LICENSE.md"
echo "Pico CSS $VERSION in ${dest#"$ROOT"/}; point templates/base.html at it."

#!/usr/bin/env bash
# Vendors Chart.js from its npm package into static/vendor/chartjs-<version>/ (the UMD build,
# which needs no bundler, + LICENSE). The files are committed, so pages never load a script from
# the internet; rerun to upgrade:
#   bash scripts/vendor-chartjs.sh 4.5.1
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:-4.5.1}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf chart.js-*.tgz)
dest="$ROOT/static/vendor/chartjs-$VERSION"
mkdir -p "$dest"
install -m644 "$tmp/package/dist/chart.umd.js" "$dest/chart.umd.min.js"
install -m644 "$tmp/package/LICENSE.md" "$dest/LICENSE.md"
echo "Chart.js $VERSION in ${dest#"$ROOT"/}; point the chart templates at it."

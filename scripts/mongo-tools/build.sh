#!/usr/bin/env bash
# Builds MongoDB's Database Tools from source, pinned by this folder's go.mod and go.sum:
#   build.sh VERSION OUT_DIR TOOL...      e.g. build.sh 100.10.0 /usr/local/bin mongodump mongorestore
# CGO_ENABLED=0 makes static binaries (no libc, no Kerberos libraries), so the same build runs on
# this machine (scripts/services.sh) and in the slim Docker image (the Dockerfile's build stage).
# The tools' packages are all named main: each is built to its own name.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=${1:?usage: build.sh VERSION OUT_DIR TOOL...}
out=${2:?usage: build.sh VERSION OUT_DIR TOOL...}
shift 2
mkdir -p "$out"
cd "$HERE"
for tool in "$@"; do
  # A temporary name of this process's own: another checkout may be building at the same time.
  CGO_ENABLED=0 go build -trimpath -ldflags "-X main.VersionStr=$version" -o "$out/$tool.tmp.$$" \
    "github.com/mongodb/mongo-tools/$tool/main"
  mv "$out/$tool.tmp.$$" "$out/$tool"
done

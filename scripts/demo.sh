#!/usr/bin/env bash
# make demo: builds cmd/offsetlag-demo with visible progress (the first
# build downloads the Go modules and compiles a few hundred packages: minutes
# on a small machine; later builds take seconds), then runs it on
# 127.0.0.1:$PORT (default 9745). Ctrl-C stops it; it exits 0.
#   PORT=9800 scripts/demo.sh        DEMO_FLAGS="--offsets.retention 1m" scripts/demo.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
GO="${GO:-go}"
PORT="${PORT:-9745}"
start=$(date +%s)
say() { echo "demo: $* ($(( $(date +%s) - start ))s)" >&2; }

if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT > 65535 )); then
  echo "demo: PORT=$PORT is not a port number (0 to 65535; 0: any free port)" >&2; exit 2
fi
say "Go modules (downloaded once, into $("$GO" env GOMODCACHE))"
"$GO" mod download
say "compiling cmd/offsetlag-demo (the first time a few hundred packages; each one is listed every 25)"
mkdir -p bin
# go build -v names each package it compiles; cached packages print nothing.
# CGO_ENABLED=0 -trimpath as in make build, so the two share the build cache.
n=0 status=1
while IFS= read -r line; do
  if [[ "$line" == "#exit "* ]]; then status="${line#\#exit }"; continue; fi
  if [[ "$line" == "#"* || "$line" == *[[:space:]]* ]]; then
    echo "$line" >&2   # compiler messages pass through (package paths have no blanks)
  else
    n=$((n + 1))
    if (( n % 25 == 0 )); then say "$n packages compiled, now $line"; fi
  fi
done < <(CGO_ENABLED=0 "$GO" build -trimpath -v -o bin/offsetlag-demo ./cmd/offsetlag-demo 2>&1; echo "#exit $?")
if [[ "$status" != 0 ]]; then echo "demo: build failed" >&2; exit 1; fi
(( n == 0 )) || say "$n packages compiled"
if [[ -t 0 ]]; then
  # Job control: the demo runs in its own process group in the terminal's
  # foreground, so Ctrl-C reaches the demo alone, which stops cleanly and
  # exits 0, and make (which would re-raise a SIGINT of its own) sees a
  # plain exit 0.
  set -m
fi
say "starting bin/offsetlag-demo on 127.0.0.1:$PORT"
# shellcheck disable=SC2086 # DEMO_FLAGS are words
bin/offsetlag-demo --web.listen-address "127.0.0.1:$PORT" ${DEMO_FLAGS:-}

#!/usr/bin/env bash
# Runs the Dockerfile's build stage on the host, without Docker: every
# `RUN go build ...` line of the Dockerfile, with its ARG defaults and ENV
# values, from the repository root (the stage's WORKDIR /src), writing to
# $OUT instead of /out. So a Dockerfile that no longer builds fails CI
# (deploy/deploy_test.go runs this script).
#
#   scripts/dockerfile-check.sh                     # binaries in a temp dir, removed afterwards
#   OUT=dist VERSION=1.2.3 scripts/dockerfile-check.sh   # ARGs overridable like --build-arg
#
# It also fails when the Dockerfile has no go build line, when a RUN line of
# the build stage is something it does not know how to check, or when the
# build stage's base image is not golang:<version>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
dockerfile="${DOCKERFILE:-$repo/Dockerfile}"
cd "$repo"

keep=1
if [[ -z "${OUT:-}" ]]; then OUT="$(mktemp -d)"; keep=0; fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$OUT"; fi; }
trap cleanup EXIT

# Join continuation lines, drop comments and blank lines.
mapfile -t lines < <(sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$dockerfile" | grep -v '^[[:space:]]*#' | grep -v '^[[:space:]]*$')

stage=0 builds=0
for line in "${lines[@]}"; do
  instr="${line%% *}"; rest="${line#* }"
  case "${instr^^}" in
    FROM)
      stage=$((stage + 1))
      if [[ $stage == 1 && ! "$rest" =~ ^golang:[0-9.]+(-[a-z0-9]+)?\ [Aa][Ss]\  ]]; then
        echo "dockerfile-check: build stage is not FROM golang:<version> AS ...: $line" >&2; exit 1
      fi ;;
    ARG)
      [[ $stage == 1 ]] || continue
      name="${rest%%=*}"; def=""; [[ "$rest" == *=* ]] && def="${rest#*=}"
      # An environment value wins, like --build-arg.
      if [[ -z "${!name:-}" ]]; then export "$name=$def"; else export "$name"; fi ;;
    ENV)
      [[ $stage == 1 ]] || continue
      for kv in $rest; do export "${kv?}"; done ;;
    RUN)
      [[ $stage == 1 ]] || continue
      case "$rest" in
        "go mod download") echo "dockerfile-check: go mod download" >&2; go mod download ;;
        "go build "*)
          cmd="${rest//\/out\//$OUT/}"
          echo "dockerfile-check: $cmd" >&2
          eval "$cmd"
          builds=$((builds + 1)) ;;
        *) echo "dockerfile-check: unknown RUN line in the build stage (teach this script): $line" >&2; exit 1 ;;
      esac ;;
  esac
done
if [[ $builds == 0 ]]; then echo "dockerfile-check: no RUN go build line in $dockerfile" >&2; exit 1; fi
echo "dockerfile-check: $builds binaries built in $OUT (CGO_ENABLED=${CGO_ENABLED:-unset})" >&2
ls -1 "$OUT"

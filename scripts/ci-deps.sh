#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine (run as root; idempotent and quick
# when everything is there already):
#   - Java 17 (openjdk-17-jre-headless; default-jre-headless where 17 is not packaged) and Maven
#   - Chromium (Debian package `chromium`) for the status-page browser tests
#   - promtool and the Prometheus server (both in the Debian package `prometheus`) for deploy/:
#     `promtool check metrics`, `promtool check rules`, `promtool test rules`, and a real Prometheus
#     that scrapes the exporter and evaluates the shipped rules (deploy/prometheus_test.go)
#     (`go run .../prometheus/cmd/promtool@v0.316.0` did not finish compiling in 9 minutes on
#     2 cores; the package installs in ~15 s)
#   - python3 + venv and curl for the moto server
#   - buildah (and ca-certificates) for `make image` and deploy/image_test.go: an OCI image
#     built from scratch, no daemon, vfs storage and chroot isolation
#   - Kafka jars for 4.1 and 3.9 (scripts/kafka-jars.sh, cached in ~/.m2 and .cache/kafka)
#   - the moto venv (scripts/moto.sh venv, cached in .cache/moto-venv)
#   - Go modules (go mod download)
#   - the lint tools at pinned versions (scripts/lint-tools.sh: staticcheck, gocognit; go install into
#     .cache/tools/<name>@<version>, ~1-2 min on 2 cores the first time, then nothing)
# `apt-get update` runs only when a package is missing. Env: SKIP_CHROMIUM=1, KAFKA_VERSIONS="4.1 3.9".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

log() { echo "ci-deps: $*" >&2; }
step_start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - step_start ))s"; }

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi

missing=()
command -v java >/dev/null || missing+=(java)
command -v mvn >/dev/null || missing+=(maven)
command -v curl >/dev/null || missing+=(curl)
{ command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; } || missing+=(python3-venv)
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(promtool)
{ command -v buildah >/dev/null && [[ -s /etc/ssl/certs/ca-certificates.crt ]]; } || missing+=(buildah)
if [[ "${SKIP_CHROMIUM:-0}" != 1 ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
fi

if ((${#missing[@]})); then
  log "missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  pkgs=()
  for m in "${missing[@]}"; do
    case "$m" in
      java)
        if [[ -n "$(apt-cache policy openjdk-17-jre-headless 2>/dev/null | grep 'Candidate:' | grep -v '(none)')" ]]; then
          pkgs+=(openjdk-17-jre-headless)
        else
          pkgs+=(default-jre-headless)
        fi ;;
      maven) pkgs+=(maven) ;;
      curl) pkgs+=(curl ca-certificates) ;;
      python3-venv) pkgs+=(python3 python3-venv) ;;
      chromium) pkgs+=(chromium fonts-liberation) ;;
      promtool) pkgs+=(prometheus) ;;
      buildah) pkgs+=(buildah ca-certificates) ;;
    esac
  done
  log "apt-get install ${pkgs[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  # The tests start their own Prometheus: keep the package's service from running.
  if [[ " ${pkgs[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
log "$(java -version 2>&1 | head -1); $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"
log "system packages ok ($(elapsed))"

for v in ${KAFKA_VERSIONS:-4.1 3.9}; do
  libs="$("$here/kafka-jars.sh" "$v")"
  log "Kafka $v jars: $libs ($(elapsed))"
done

moto="$("$here/moto.sh" venv)"
log "moto: $moto ($(elapsed))"

if command -v go >/dev/null; then
  go mod download
  log "go modules downloaded ($(elapsed))"
  tools="$("$here/lint-tools.sh")"
  log "lint tools: $tools ($(elapsed))"
else
  log "go not found on PATH: skipping go mod download"
fi
log "done in $(elapsed)"

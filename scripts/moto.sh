#!/usr/bin/env bash
# moto server (AWS stand-in for CloudWatch and DynamoDB) for tests.
#
#   scripts/moto.sh venv    create/update the venv (.cache/moto-venv) and print the moto_server path
#   scripts/moto.sh start   start moto_server on 127.0.0.1 (free port, or MOTO_PORT) in the background,
#                           wait until it answers, print the endpoint (also in .cache/moto/endpoint)
#   scripts/moto.sh env     print shell exports for a running server: eval "$(scripts/moto.sh env)"
#   scripts/moto.sh stop    stop the server started by `start`
#   scripts/moto.sh status  print the endpoint and exit 0 if the server answers
#
# Env: PYTHON (default python3), MOTO_PORT, OFFSETLAG_TEST_MOTO_VENV (default <repo>/.cache/moto-venv).
# Idempotent: `venv` reinstalls only when scripts/moto-requirements.txt changed; `start` returns the
# running server's endpoint if one is already up.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
req="$here/moto-requirements.txt"
venv="${OFFSETLAG_TEST_MOTO_VENV:-$repo/.cache/moto-venv}"
state="$repo/.cache/moto"
pidfile="$state/moto.pid"
epfile="$state/endpoint"
logfile="$state/moto.log"

log() { echo "moto.sh: $*" >&2; }

ensure_venv() {
  local want have=""
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  [[ -f "$venv/.requirements.sha256" ]] && have="$(cat "$venv/.requirements.sha256")"
  if [[ "$want" == "$have" && -x "$venv/bin/moto_server" ]]; then
    return 0
  fi
  mkdir -p "$(dirname "$venv")"
  exec 8>"$(dirname "$venv")/.moto-venv.lock"
  flock 8
  [[ -f "$venv/.requirements.sha256" ]] && have="$(cat "$venv/.requirements.sha256")"
  if [[ "$want" == "$have" && -x "$venv/bin/moto_server" ]]; then
    return 0
  fi
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null || { log "$py not found (apt-get install python3 python3-venv, or run scripts/ci-deps.sh)"; exit 3; }
  local start; start=$(date +%s)
  log "creating venv $venv (first run downloads moto and its dependencies from PyPI)..."
  if [[ ! -x "$venv/bin/pip" ]]; then
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2 || { log "'$py -m venv' failed (Debian: apt-get install python3-venv)"; exit 3; }
  fi
  # pip's own byte-compilation is serial (~25 s); --no-compile plus a parallel compileall is faster.
  # The .pyc files matter: moto_server starts in ~0.5 s with them, ~2 s without (and nothing writes
  # them at run time when PYTHONDONTWRITEBYTECODE is set).
  "$venv/bin/pip" install -q --disable-pip-version-check --no-compile -r "$req" >&2
  "$venv/bin/python" -m compileall -q -j 0 "$venv/lib" >/dev/null 2>&1 || true
  echo "$want" >"$venv/.requirements.sha256"
  log "venv ready in $(( $(date +%s) - start ))s"
}

answers() { # endpoint
  curl -fsS -o /dev/null --max-time 2 "$1/moto-api/" 2>/dev/null
}

running_endpoint() {
  [[ -f "$pidfile" && -f "$epfile" ]] || return 1
  local pid ep
  pid="$(cat "$pidfile")"; ep="$(cat "$epfile")"
  kill -0 "$pid" 2>/dev/null && answers "$ep" && echo "$ep"
}

free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cmd="${1:-}"
case "$cmd" in
  venv)
    ensure_venv
    echo "$venv/bin/moto_server"
    ;;
  start)
    if ep="$(running_endpoint)"; then echo "$ep"; exit 0; fi
    ensure_venv
    mkdir -p "$state"
    port="${MOTO_PORT:-$(free_port)}"
    ep="http://127.0.0.1:$port"
    # setsid: its own session, so it outlives this shell and `stop` can kill the whole group.
    setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    echo "$ep" >"$epfile"
    for _ in $(seq 1 300); do
      if answers "$ep"; then echo "$ep"; exit 0; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    log "moto_server did not answer on $ep; log:"; tail -20 "$logfile" >&2
    kill -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile" "$epfile"
    exit 1
    ;;
  env)
    ep="$(running_endpoint)" || { log "not running (scripts/moto.sh start)"; exit 1; }
    cat <<ENV
export OFFSETLAG_TEST_MOTO_ENDPOINT=$ep
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
ENV
    ;;
  status)
    running_endpoint || { log "not running"; exit 1; }
    ;;
  stop)
    if [[ -f "$pidfile" ]]; then
      pid="$(cat "$pidfile")"
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$pidfile" "$epfile"
    ;;
  *)
    echo "usage: $0 venv|start|stop|env|status" >&2; exit 2 ;;
esac

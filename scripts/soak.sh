#!/usr/bin/env bash
# soak.sh: run the whole product in one process (offsetlag-demo: in-process
# 3-broker cluster, producer with bursts, factor-worker, expiring consumer,
# exporter) for DURATION and sample its resident memory, goroutines, threads
# and open file descriptors every INTERVAL seconds; print a table and a
# summary. Not part of CI (make soak DURATION=30m).
#
#   DURATION   how long to run: 90s, 5m, 30m (default), 2h
#   INTERVAL   seconds between samples (default 10)
#   PORT       HTTP port of the demo (default 19745)
#   DEMO_FLAGS extra offsetlag-demo flags
#
# Exit status: 1 if the process died or a scrape failed at the end.
set -euo pipefail

DURATION=${DURATION:-30m}
INTERVAL=${INTERVAL:-10}
PORT=${PORT:-19745}
DEMO_FLAGS=${DEMO_FLAGS:-}

secs() { # 90s / 5m / 2h / 300 -> seconds
	local d=$1
	case $d in
	*h) echo $((${d%h} * 3600)) ;;
	*m) echo $((${d%m} * 60)) ;;
	*s) echo "${d%s}" ;;
	*) echo "$d" ;;
	esac
}
total=$(secs "$DURATION")

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/offsetlag-demo" ./cmd/offsetlag-demo)
# Offsets expire every minute so the expiry path runs many times.
# shellcheck disable=SC2086
"$tmp/offsetlag-demo" --web.listen-address "127.0.0.1:$PORT" --offsets.retention 1m \
	--produce.burst-every 60s $DEMO_FLAGS >"$tmp/demo.log" 2>&1 &
pid=$!

metric() { # name -> value from /metrics (first series), or "-"
	curl -fsS --max-time 5 "http://127.0.0.1:$PORT/metrics" 2>/dev/null |
		awk -v n="$1" '$1 == n || index($1, n "{") == 1 { print $2; exit }' || true
}

for _ in $(seq 1 100); do
	[ -n "$(metric offsetlag_up)" ] && break
	kill -0 "$pid" 2>/dev/null || { echo "demo exited:"; cat "$tmp/demo.log"; exit 1; }
	sleep 0.2
done

printf '%-8s %-9s %-11s %-8s %-5s %-3s %-7s\n' elapsed rss_mb goroutines threads fds up polls
start=$(date +%s)
rows=()
while :; do
	now=$(date +%s)
	el=$((now - start))
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "demo exited after ${el}s:"
		tail -20 "$tmp/demo.log"
		exit 1
	fi
	rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
	thr=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
	fds=$(ls "/proc/$pid/fd" | wc -l)
	gor=$(metric go_goroutines)
	up=$(metric offsetlag_up)
	polls=$(metric offsetlag_polls_total)
	row=$(printf '%-8s %-9s %-11s %-8s %-5s %-3s %-7s' "${el}s" "$rss" "${gor:--}" "$thr" "$fds" "${up:--}" "${polls:--}")
	echo "$row"
	rows+=("$el $rss ${gor:-0} $thr $fds")
	[ "$el" -ge "$total" ] && break
	sleep "$INTERVAL"
done

# Summary: first sample after warm-up (a quarter of the run) against the end.
printf '%s\n' "${rows[@]}" | awk -v q=$((${#rows[@]} / 4)) '
	NR == q + 1 { r0 = $2; g0 = $3; f0 = $5 }
	{ if ($2 > rmax) rmax = $2; if ($3 > gmax) gmax = $3; if ($5 > fmax) fmax = $5; r = $2; g = $3; f = $5 }
	END {
		printf "summary: rss %.1f -> %.1f MB (max %.1f), goroutines %d -> %d (max %d), fds %d -> %d (max %d); from the end of warm-up (sample %d) to the end\n", r0, r, rmax, g0, g, gmax, f0, f, fmax, q + 1
	}'
[ -n "$(metric offsetlag_up)" ] || { echo "final scrape failed"; exit 1; }

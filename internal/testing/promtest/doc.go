// Package promtest runs a real Prometheus server for tests: the Debian
// package prometheus's binary (scripts/ci-deps.sh installs it, with
// promtool), started on a free 127.0.0.1 port with a temporary storage
// directory, scraping one target and evaluating rule files every second.
// RenderRules copies the shipped alert rules with short `for:` durations
// (checking nothing else changes), and a Recorder follows /api/v1/alerts
// so that a test can wait for an alert to fire and to resolve.
//
// Without the binary, Binary (and Start) skip the test, or fail it when
// CI=true. Used by deploy/ (alerts, dashboard, kafka_exporter
// compatibility on kfake) and e2e/ (the expiry alerts on a real broker).
package promtest

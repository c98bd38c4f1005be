// Package bench is offsetlag's performance suite (issues 10 and 16): it
// builds in-process Kafka clusters (kfake) of four sizes (up to 4M committed
// offsets) and measures, per poll, the exporter's full poll (kafkaadmin
// round, lag math, trends, expiry) at steady state and its /metrics
// (render once per poll, gzip scrapes, scrapes under load, stalled
// readers), the bare batched request round it is compared with (the
// floor), and the request patterns (not the code) of kminion (ListOffsets
// per leader, one OffsetFetch per group) and kafka_exporter (two
// ListOffsets per partition, one OffsetFetch per group, one ListOffsets per
// committed group partition).
//
// The clusters live in the calling process; every strategy runs in a child
// process (the same binary, re-executed with -probe) so that its CPU time,
// allocations and peak RSS are its own, not kfake's. Requests are counted on
// the cluster side, by API, with a kfake control hook that also injects
// latency for the latency scenario.
//
// Run it with `make bench` or `go run ./cmd/offsetlag-bench`; it prints a
// markdown table and writes it to bench/results.md.
package bench

// Package bench is offsetlag's performance suite (issue 10): it builds
// in-process Kafka clusters (kfake) of three sizes and measures, per poll,
// the exporter's full poll (kafkaadmin round, lag math, trends, expiry),
// the bare batched request round it is compared with (the floor) and a
// naive per-partition strategy (one ListOffsets per partition and one
// OffsetFetch per group, as kafka_exporter and kminion do).
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

// Package metrics holds the sinks that read the exporter's latest
// result.Result (exporter/result) and publish it: the Prometheus collector (prometheus*.go)
// and, separately, the CloudWatch publisher.
//
// Sinks only read. The exporter polls Kafka in the background and stores an
// immutable Result behind an atomic pointer; a sink is handed a function that
// returns that pointer. A Prometheus scrape therefore never sends a Kafka
// request, concurrent scrapes never multiply broker load, and every value is
// "as of the last poll".
//
// # Prometheus
//
// Collector is a custom prometheus.Collector that emits const metrics from
// the latest Result on every Collect. Series for groups, topics or
// partitions that are gone from the Result simply stop being emitted: there
// are no registered gauge vectors to clean up and no ghost series.
//
// Rules the collector follows (see DESIGN.md sections 4 and 6):
//
//   - Names start with offsetlag_, values are in base units (seconds,
//     records), only counters end in _total, and there is no
//     partition="total" series: aggregates live in their own families.
//   - A value that is unknown is never exported as -1 or NaN; the series is
//     left out instead. A partition without a commit has no lag series (the
//     group+topic exports offsetlag_consumergroup_partitions_without_commit),
//     a partition whose end offset is unknown has no lag series, and a
//     partition whose log start or end could not be read has no
//     offsetlag_partition_start_offset / _end_offset series.
//   - When a cluster's last poll failed, offsetlag_up is 0 and the data
//     series keep the values of the last successful poll (see
//     offsetlag_last_successful_poll_timestamp_seconds), so lag alerts
//     neither resolve nor flap while Kafka is unreachable.
//   - Granularity "topic" drops every per-partition family to cap
//     cardinality; the group+topic and group aggregates stay.
//
// One walk over the Result (Collector.walk) decides which series exist; it
// feeds two renderers. Collect turns each series into a const metric for a
// prometheus.Registry, which is the normal path and supports every
// exposition format. WriteText and Handler append the same series straight
// to the text format, skipping the registry's per-series objects, hashing
// and sorting: at a million committed partitions a registry Gather takes
// tens of seconds and gigabytes, WriteText a fraction of a second (see
// BenchmarkCollect). Tests hold both to the same golden files.
//
// Handler serves the text rendered once per Result (exposition.go,
// render.go): OnResult renders the new Result in the background, in one
// walk that appends each family's lines to a buffer of its own, compressed
// in pieces as it grows (one compressor for all families, each piece a
// DEFLATE stream of its own), the families joined in name order at the
// end; scrapes copy the compressed bytes into a gzip response (or
// decompress them for clients without gzip) and append the per-scrape
// extra families.
package metrics

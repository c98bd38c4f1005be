// Package lag is the pure lag arithmetic of one poll: Compute turns a
// snapshot into log bounds (result.TopicResult) and per-group lag and
// out-of-range commits (result.GroupResult), by the clamped rules of
// result.Lag and result.OutOfRange. No clock, no I/O, no state between
// polls (the end-offset histories time lag is interpolated from are
// exporter/status's memory).
//
// Of this module it imports only kafkaadmin (the Snapshot it reads) and
// exporter/result; never the poll loop (exporter), exporter/status,
// exporter/expiry, a sink, a Kafka client, Prometheus or AWS.
package lag

// Package lag is the pure lag arithmetic of one poll: log bounds
// (ComputeTopics), per-group lag and out-of-range commits (ComputeGroup,
// ComputeGroups), and interpolated time lag from end-offset histories
// (EndHistory, TimeLag). No clock, no I/O, no state between polls.
//
// Of this module it imports only kafkaadmin (the Snapshot it reads) and
// exporter/result; never the poll loop (exporter), exporter/status,
// exporter/expiry, a sink, a Kafka client, Prometheus or AWS.
package lag

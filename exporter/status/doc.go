// Package status owns what a cluster remembers between polls to judge its
// consumers: end-offset histories and the time lag interpolated from them
// (history.go), status windows and their rules (evaluatePartition: OK,
// WARN, STALL, STOP, REWIND), rates and catch-up time, and the selection
// of exact record-time reads (Trends). Its Config is the
// timelag.* and status.* options (config.go).
//
// Of this module it imports only kafkaadmin and exporter/result; never the
// poll loop (exporter), exporter/lag, exporter/expiry, a sink, a Kafka
// client, Prometheus or AWS. Exact reads go through the function the poll
// loop hands to Trends.Apply (a source's RecordTimes).
package status

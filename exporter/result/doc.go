// Package result holds the immutable Result of a poll, the one thing every
// sink (Prometheus, CloudWatch, the status page and JSON API, the Lambda ESM
// warner) reads, and the few value types it names: Lag and OutOfRange (the
// clamped lag rule), Status (numbered by severity) and LagSource. Starting
// positions are the strings of the configuration (earliest, latest,
// timestamp), interpreted by exporter/expiry.
//
// It is the ground floor of exporter/...: it imports no package of this
// module (not even kafkaadmin) and no Kafka client, Prometheus or AWS
// library. Everything else in exporter/... and every sink imports it.
package result

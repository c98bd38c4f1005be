// Package exporter is the poll loop: it turns kafkaadmin snapshots into
// immutable Results.
//
// For each cluster it asks the Source (a kafkaadmin client) for a Snapshot
// every poll interval, carries what a partial poll could not read
// (carry.go), computes lag (exporter/lag), runs the expiry tracker
// (exporter/expiry, expiry_poll.go), time lag, status and rates
// (exporter/status), and publishes a new *result.Result behind an atomic
// pointer. Readers (metrics sinks, HTTP handlers) call Latest and never
// cause a Kafka request. Sharding (shard.go) selects the groups a replica
// polls; the groups and topics filters are internal/namefilter's. Its
// Config (config.go) is the poll.* and shard.* options; exporter/status's
// Config the timelag.* and status.* ones (Options.Trends).
//
// Of this module it imports only kafkaadmin and exporter/...; never a sink
// (metrics, internal/statuspage, internal/httpapi), cmd/, a Kafka client,
// Prometheus or AWS.
package exporter

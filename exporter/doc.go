// Package exporter turns kafkaadmin snapshots into immutable Results.
//
// The poll loop asks each cluster's kafkaadmin client for a Snapshot every
// poll interval, computes lag with pure functions (lag.go) and publishes a
// new *Result behind an atomic pointer. Readers (metrics sinks, HTTP
// handlers) call Latest and never cause a Kafka request. This package never
// imports Prometheus, AWS or sarama.
package exporter

// Package expiry owns committed-offset expiry: the tracker that predicts
// and detects expired offsets (ObserveExpiry over ExpiryState, see
// expiry.go for the rules), expected groups (ExpectedGroup), and the state
// store that persists the tracker's state in one JSON file (StateStore).
//
// Of this module it imports only kafkaadmin and exporter/result; never the
// poll loop (exporter), exporter/lag, exporter/status, a sink, a Kafka
// client, Prometheus or AWS. The poll loop decides when to observe and when
// to save (exporter/expiry_poll.go).
package expiry

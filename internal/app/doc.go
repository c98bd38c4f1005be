// Package app is the one wiring of an offsetlag exporter process, shared by
// cmd/offsetlag-exporter and cmd/offsetlag-demo: from a validated
// appconfig.Config it builds one kafkaadmin client per cluster, the poll
// loop (exporter), the sinks that read its Results (Prometheus collector,
// status page and JSON API, CloudWatch publisher, Lambda event source
// mapping discovery and warner) and the HTTP server, and it runs and stops
// them in a fixed order.
//
// Lifecycle (Burrow's contract): New configures and opens the listen
// sockets, so a port in use fails before any Kafka connection; it starts
// no poll. Run starts, in order, the Components (the HA membership of
// --ha.enabled, ha.go, comes first), the
// HTTP servers, the Lambda ESM discovery and the polls, and waits for ctx
// to end or for something to fail: an HTTP server, a Component. Then it
// shuts down, all within one deadline (cloudwatch.flush-timeout, the
// documented shutdown budget):
//
//  1. the polls and the discovery are cancelled and the HTTP servers stop
//     accepting (in-flight requests finish), at the same time;
//  2. once the polls have returned (the expiry state is saved by then),
//     the Components are stopped, in reverse order;
//  3. the CloudWatch publisher publishes the latest poll and flushes its
//     queue;
//  4. the Kafka clients are closed, never while a poll may still use them.
//
// Each step is logged with what it did and how long it took.
//
// app imports the module's product packages (it is the top of the import
// graph below cmd/); nothing but cmd/ imports it.
package app

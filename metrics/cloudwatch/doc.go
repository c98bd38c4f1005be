// Package cloudwatch publishes the exporter's latest exporter.Result to
// Amazon CloudWatch: as PutMetricData calls (aws-sdk-go-v2) or as Embedded
// Metric Format (EMF) JSON lines, and builds the dashboard and alarms that go
// with those metrics.
//
// # Metrics
//
// Names and dimensions follow Amazon MSK's consumer-lag metrics, so MSK
// dashboards and alarms carry over by changing only the namespace (MSK's own
// namespace, AWS/Kafka, is reserved: customers cannot write to it). The
// default namespace is DefaultNamespace ("offsetlag").
//
//	SumOffsetLag, MaxOffsetLag     Count    Cluster Name, Consumer Group, Topic
//	EstimatedMaxTimeLag            Seconds  Cluster Name, Consumer Group, Topic
//	PartitionsOutOfRange           Count    Cluster Name, Consumer Group, Topic
//	OffsetLag (opt-in)             Count    Cluster Name, Consumer Group, Topic, Partition
//	EstimatedTimeLag (opt-in)      Seconds  Cluster Name, Consumer Group, Topic, Partition
//	OffsetsExpired                 Count    Cluster Name, Consumer Group, Topic
//	SecondsUntilOffsetExpiry       Seconds  Cluster Name, Consumer Group, Topic
//
// The expiry metrics come from the Result's expiry view (ClusterResult.Expiry):
// OffsetsExpired is 0 or 1 for every group+topic it lists (including gone
// and expected groups), SecondsUntilOffsetExpiry only while an expiry clock
// runs (the group is Empty).
//
// A datum is left out, never sent as -1, NaN or Inf, when its value is
// unknown: SumOffsetLag and MaxOffsetLag exist only when at least one
// partition of the group+topic has a known lag, exactly as the Prometheus
// families offsetlag_consumergroup_topic_sum_lag / _max_lag. Every datum's
// timestamp is the cluster's last successful poll (ClusterResult.LastSuccess),
// and a cluster is published once per successful poll: a failed poll, or
// another cluster's poll, does not publish the same data again.
//
// # Publisher contract
//
// New configures and makes no connection; Start starts one dispatcher
// goroutine; Enqueue never blocks (it builds the poll's datums, which is
// CPU only, and appends them to a bounded queue of polls, dropping the
// oldest poll when the queue is full); Stop flushes what is queued until its
// context ends and then abandons the rest. Requests carry at most 1,000
// datums and an estimated 1 MB; at most Options.Concurrency run at once;
// throttling, 5xx, network errors and per-attempt timeouts are retried with
// exponential backoff and jitter, validation errors (other 4xx) are not.
// A per-poll datum budget caps cost: when a poll has more datums, the
// lowest-priority ones are dropped (per-partition first) with a warning.
//
// Self-metrics (Collectors): offsetlag_cloudwatch_datums_sent_total,
// _datums_failed_total, _datums_dropped_total{reason}, _retries_total,
// _request_duration_seconds and _queue_length.
package cloudwatch

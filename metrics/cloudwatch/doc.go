// Package cloudwatch publishes the exporter's latest result.Result (exporter/result) to
// Amazon CloudWatch: as PutMetricData calls (aws-sdk-go-v2) or as Embedded
// Metric Format (EMF) JSON lines, and builds the dashboard and alarms that go
// with those metrics.
//
// # Metrics
//
// Names and dimensions follow Amazon MSK's consumer-lag metrics, so MSK
// dashboards and alarms carry over by changing only the namespace (MSK's own
// namespace, AWS/Kafka, is reserved: customers cannot write to it). The
// default namespace is DefaultNamespace ("offsetlag"). README.md's table
// (checked by TestREADMEMetricTable) lists every metric next to MSK's and
// Lambda's:
//
//	SumOffsetLag, MaxOffsetLag     Count    Cluster Name [, Consumer Group [, Topic]]
//	EstimatedMaxTimeLag            Seconds  Cluster Name, Consumer Group, Topic (MSK: time to drain)
//	MaxRecordAge                   Seconds  Cluster Name, Consumer Group, Topic (age of the oldest unprocessed record)
//	PartitionsOutOfRange           Count    Cluster Name, Consumer Group, Topic
//	OffsetsExpired                 Count    Cluster Name, Consumer Group, Topic
//	SecondsUntilOffsetExpiry       Seconds  Cluster Name, Consumer Group, Topic
//	OffsetLag (opt-in)             Count    Cluster Name, Consumer Group, Topic, Partition
//	EstimatedTimeLag (opt-in)      Seconds  Cluster Name, Consumer Group, Topic, Partition
//	RecordAge (opt-in)             Seconds  Cluster Name, Consumer Group, Topic, Partition
//
// The drain times need each partition's consume rate, which the Result does
// not hold: the publisher derives it from successive Results (rates.go).
// A datum is left out, never sent as -1, NaN or Inf, when its value is
// unknown. Dimension values CloudWatch rejects (non-ASCII, control
// characters, blank, too long) are mapped (MapDimensionValue) or dropped.
//
// # Publisher contract
//
// New configures and makes no connection; Start starts one dispatcher
// goroutine (and a publish ticker with a PublishPeriod); Enqueue never
// blocks (it records the Result; without a PublishPeriod it also builds the
// datums, CPU only, and appends them to a bounded queue, dropping the oldest
// when full); Stop publishes the latest Result, flushes what is queued until
// its context ends and then abandons the rest. Requests carry at most 1,000
// datums and an estimated 1 MB; at most Options.Concurrency run at once;
// throttling, 5xx, network errors and per-attempt timeouts are retried by the
// AWS SDK's standard retryer (retry.NewStandard) with exponential backoff and
// jitter (internal/backoff), each attempt bounded, timed and counted by a
// middleware inside the SDK's retry loop; a request CloudWatch rejects as invalid is
// split in halves down to the rejected datums. A budget of distinct metrics
// per publish (MaxMetrics) caps cost (applyBudget).
//
// Self-metrics (Collectors): offsetlag_cloudwatch_datums_sent_total,
// _datums_failed_total, _datums_dropped_total{reason}, _datums_mapped_total,
// _requests_split_total, _metrics_published, _metrics_this_hour, _polls_dropped_total,
// _retries_total, _request_duration_seconds and _queue_length.
package cloudwatch

package worker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/worker/message"
)

// Metrics are the worker's Prometheus metrics, named after the Lambda
// metrics of a Kafka event source mapping (Invocations, Errors, Duration,
// OffsetLag) plus dead-letter counts.
type Metrics struct {
	Invocations  prometheus.Counter
	Errors       prometheus.Counter
	Duration     prometheus.Histogram
	BatchSize    prometheus.Histogram
	OffsetLag    *prometheus.GaugeVec
	Records      *prometheus.CounterVec
	DeadLettered *prometheus.CounterVec
	Commits      prometheus.Counter
	Received     prometheus.Counter
	Connected    prometheus.Gauge
	Consuming    prometheus.Gauge
	Claimed      prometheus.Gauge
	Bisections   prometheus.Counter
}

// ReasonRetriesExhausted and ReasonRecordAgeExceeded are the dead-letter
// reasons of valid records whose batch could not be stored.
const (
	ReasonRetriesExhausted  = "retries_exhausted"
	ReasonRecordAgeExceeded = "record_age_exceeded"
)

// NewMetrics creates the metrics and registers them with reg (a dedicated
// registry; nil registers nowhere).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Invocations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "factor_worker_invocations_total",
			Help: "Batch handler attempts (factor and store one batch); a retried batch counts again.",
		}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "factor_worker_errors_total",
			Help: "Batch handler attempts that failed (the store write failed).",
		}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "factor_worker_duration_seconds",
			Help:    "Duration of one batch handler attempt: parse, factor and store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "factor_worker_batch_records",
			Help:    "Records per batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		OffsetLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "factor_worker_offset_lag",
			Help: "Records between the partition's high watermark and the worker's committed position, as of the last batch.",
		}, []string{"topic", "partition"}),
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factor_worker_records_total",
			Help: "Records handled, by outcome (stored or dead_lettered).",
		}, []string{"outcome"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factor_worker_dead_lettered_total",
			Help: "Records sent to the on-failure topic, by reason.",
		}, []string{"reason"}),
		Received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "factor_worker_records_received_total",
			Help: "Records received from Kafka (redeliveries count again).",
		}),
		Commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "factor_worker_commits_total",
			Help: "Synchronous offset commits after a batch.",
		}),
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factor_worker_kafka_connected",
			Help: "1 while the worker has a Kafka connection (joining or consuming), 0 while it waits for Kafka.",
		}),
		Consuming: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factor_worker_consuming",
			Help: "1 while the worker is a member of its consumer group with a session (ready), else 0.",
		}),
		Claimed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factor_worker_claimed_partitions",
			Help: "Partitions claimed by this worker in the current group session.",
		}),
		Bisections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "factor_worker_bisections_total",
			Help: "Failed store writes whose records were split in two halves and retried (--bisect-on-error).",
		}),
	}
	for _, o := range []string{"stored", "dead_lettered"} {
		m.Records.WithLabelValues(o)
	}
	for _, r := range message.Reasons {
		m.DeadLettered.WithLabelValues(string(r))
	}
	m.DeadLettered.WithLabelValues(ReasonRetriesExhausted)
	m.DeadLettered.WithLabelValues(ReasonRecordAgeExceeded)
	if reg != nil {
		for _, c := range []prometheus.Collector{m.Invocations, m.Errors, m.Duration, m.BatchSize, m.OffsetLag, m.Records, m.DeadLettered, m.Commits, m.Received, m.Connected, m.Consuming, m.Claimed, m.Bisections} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register worker metrics: %w", err)
			}
		}
	}
	return m, nil
}

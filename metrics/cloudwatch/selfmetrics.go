package cloudwatch

import "github.com/prometheus/client_golang/prometheus"

// Reasons of offsetlag_cloudwatch_datums_dropped_total.
const (
	reasonQueueFull   = "queue_full"   // the oldest queued poll made room for a new one
	reasonBudget      = "budget"       // over the metric budget (max-metrics)
	reasonInvalid     = "invalid"      // NaN or Inf
	reasonInvalidName = "invalid_name" // a dimension value CloudWatch rejects, with invalid-names: drop
	reasonRejected    = "rejected"     // CloudWatch rejected the datum on its own (after bisecting the request)
	reasonShutdown    = "shutdown"     // still queued when Stop's deadline passed
)

// selfMetrics are the publisher's own Prometheus metrics.
type selfMetrics struct {
	sent, failed, retries, pollsDropped prometheus.Counter
	mapped, splits                      prometheus.Counter
	published, hourMetrics              prometheus.Gauge
	dropped                             *prometheus.CounterVec
	duration                            prometheus.Histogram
	queueLength                         prometheus.Gauge
}

func newSelfMetrics() *selfMetrics {
	m := &selfMetrics{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_datums_sent_total",
			Help: "Datums CloudWatch accepted (or EMF lines written)."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_datums_failed_total",
			Help: "Datums of requests that failed after their last attempt."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_retries_total",
			Help: "PutMetricData attempts retried after throttling, 5xx, a network error or a timeout."}),
		pollsDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_polls_dropped_total",
			Help: "Queued polls dropped because the queue was full (their datums count as dropped, reason queue_full)."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_datums_dropped_total",
			Help: "Datums never sent: queue_full, budget (over max-metrics), invalid (NaN/Inf), invalid_name (a dimension value CloudWatch rejects, invalid-names: drop), rejected (rejected by CloudWatch on its own), shutdown."}, []string{"reason"}),
		mapped: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_datums_mapped_total",
			Help: "Datums published under a mapped dimension value (non-ASCII, control characters, blank or too long; invalid-names: map)."}),
		splits: prometheus.NewCounter(prometheus.CounterOpts{Name: "offsetlag_cloudwatch_requests_split_total",
			Help: "PutMetricData requests CloudWatch rejected as invalid and split in halves to isolate the bad datums."}),
		published: prometheus.NewGauge(prometheus.GaugeOpts{Name: "offsetlag_cloudwatch_metrics_published",
			Help: "Distinct metrics of the last publish (after the budget)."}),
		hourMetrics: prometheus.NewGauge(prometheus.GaugeOpts{Name: "offsetlag_cloudwatch_metrics_this_hour",
			Help: "Distinct metrics published in the current clock hour, what CloudWatch bills for it (with a max-metrics budget only)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "offsetlag_cloudwatch_request_duration_seconds",
			Help:    "Duration of one PutMetricData attempt (or one EMF write).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{Name: "offsetlag_cloudwatch_queue_length",
			Help: "Polls waiting to be published."}),
	}
	for _, r := range []string{reasonQueueFull, reasonBudget, reasonInvalid, reasonInvalidName, reasonRejected, reasonShutdown} {
		m.dropped.WithLabelValues(r)
	}
	return m
}

// Collectors are the publisher's self-metrics, for the process registry.
func (p *Publisher) Collectors() []prometheus.Collector {
	m := p.metrics
	return []prometheus.Collector{m.sent, m.failed, m.retries, m.pollsDropped, m.dropped, m.duration, m.queueLength,
		m.mapped, m.splits, m.published, m.hourMetrics}
}

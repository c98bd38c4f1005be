package metrics

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter"
)

// Granularity says how fine-grained the exported lag series are.
type Granularity string

const (
	// GranularityPartition exports every family, including the
	// per-partition ones (lag, committed offset, log start and end). This is
	// the default.
	GranularityPartition Granularity = "partition"
	// GranularityTopic drops every per-partition family to cap
	// cardinality; group+topic and group aggregates and the self-metrics
	// stay.
	GranularityTopic Granularity = "topic"
)

// Options configure a Collector. The zero value is valid and means the
// defaults.
type Options struct {
	// Granularity of the exported series. Empty means GranularityPartition.
	Granularity Granularity
}

// SetDefaults fills in empty fields.
func (o *Options) SetDefaults() {
	if o.Granularity == "" {
		o.Granularity = GranularityPartition
	}
}

// Validate reports the first invalid field. Empty fields are valid (they
// take their default).
func (o Options) Validate() error {
	switch o.Granularity {
	case "", GranularityPartition, GranularityTopic:
	default:
		return fmt.Errorf("granularity %q: must be %q or %q", o.Granularity, GranularityPartition, GranularityTopic)
	}
	return nil
}

// Label names.
const (
	labelCluster   = "cluster_name"
	labelGroup     = "group"
	labelTopic     = "topic"
	labelPartition = "partition"
	labelState     = "state"
	labelGroupType = "group_type"
	labelAPI       = "api"
)

// GroupStates is the fixed set of values of the state label of
// offsetlag_consumergroup_state, classic and KIP-848 states together. A
// state the broker names that is not in this list is exported as Unknown.
var GroupStates = []string{
	"Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead",
	"Assigning", "Reconciling", "Unknown",
}

// GroupTypes is the fixed set of values of the group_type label of
// offsetlag_consumergroup_info; anything else is exported as other.
var GroupTypes = []string{"classic", "consumer", "simple", "other"}

// Collector is a prometheus.Collector that renders the latest
// exporter.Result as const metrics. It never talks to Kafka; each Collect
// reads the Result once and emits from it, so concurrent scrapes are cheap
// and consistent. Series that are gone from the Result disappear.
type Collector struct {
	source       func() *exporter.Result
	perPartition bool
	descs        []namedDesc // everything Describe sends

	// Per-partition families (GranularityPartition only).
	lag, committed, endOffset, startOffset *prometheus.Desc
	// Group+topic families.
	topicSumLag, topicMaxLag, withoutCommit, outOfRange, recordsLost *prometheus.Desc
	// Group families.
	sumLag, maxLag, members, state, info *prometheus.Desc
	// Self-metrics, per cluster.
	up, pollDuration, lastPoll, lastSuccess, requests, polls, pollErrors, brokers *prometheus.Desc
}

// namedDesc keeps a Desc's fully-qualified name, which Desc does not
// expose, for tests and documentation.
type namedDesc struct {
	name string
	desc *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector that reads the latest Result from source
// on every Collect. source must be safe for concurrent use (an
// atomic.Pointer's Load is) and may return nil before the first poll, in
// which case nothing is emitted. opts should have passed Validate; an
// unknown Granularity is treated as GranularityPartition.
func NewCollector(source func() *exporter.Result, opts Options) *Collector {
	opts.SetDefaults()
	c := &Collector{
		source:       source,
		perPartition: opts.Granularity != GranularityTopic,
	}
	var (
		gp = []string{labelCluster, labelGroup, labelTopic, labelPartition}
		tp = []string{labelCluster, labelTopic, labelPartition}
		gt = []string{labelCluster, labelGroup, labelTopic}
		g  = []string{labelCluster, labelGroup}
		cl = []string{labelCluster}
	)
	if c.perPartition {
		c.lag = c.newDesc("offsetlag_consumergroup_lag",
			"Records the group is behind on the partition as of the last poll: log end offset minus committed offset, at least 0. Absent when the partition has no commit or its end offset is unknown.", gp)
		c.committed = c.newDesc("offsetlag_consumergroup_committed_offset",
			"Offset the group last committed on the partition, as of the last poll.", gp)
		c.endOffset = c.newDesc("offsetlag_partition_end_offset",
			"Log end offset (high watermark) of the partition as of the last poll.", tp)
		c.startOffset = c.newDesc("offsetlag_partition_start_offset",
			"Log start offset of the partition as of the last poll.", tp)
	}
	c.topicSumLag = c.newDesc("offsetlag_consumergroup_topic_sum_lag",
		"Sum of the group's lag over the topic's committed partitions as of the last poll.", gt)
	c.topicMaxLag = c.newDesc("offsetlag_consumergroup_topic_max_lag",
		"Largest lag of the group on any partition of the topic as of the last poll.", gt)
	c.withoutCommit = c.newDesc("offsetlag_consumergroup_partitions_without_commit",
		"Partitions of the topic on which the group has no committed offset (and so no lag series) as of the last poll.", gt)
	c.outOfRange = c.newDesc("offsetlag_consumergroup_out_of_range_partitions",
		"Partitions of the topic whose committed offset is below the log start offset as of the last poll; the consumer will reset its position.", gt)
	c.recordsLost = c.newDesc("offsetlag_consumergroup_records_lost",
		"Records deleted by retention before the group read them, as of the last poll: log start offset minus committed offset, summed over the topic's out-of-range partitions.", gt)
	c.sumLag = c.newDesc("offsetlag_consumergroup_sum_lag",
		"Sum of the group's lag over all its committed partitions as of the last poll.", g)
	c.maxLag = c.newDesc("offsetlag_consumergroup_max_lag",
		"Largest lag of the group on any partition as of the last poll.", g)
	c.members = c.newDesc("offsetlag_consumergroup_members",
		"Members of the group as of the last poll.", g)
	c.state = c.newDesc("offsetlag_consumergroup_state",
		"1 for the state the group is in as of the last poll, 0 for the other states.", []string{labelCluster, labelGroup, labelState})
	c.info = c.newDesc("offsetlag_consumergroup_info",
		"Always 1; the group_type label says which protocol the group uses (classic, consumer, simple, other) as of the last poll.", []string{labelCluster, labelGroup, labelGroupType})
	c.up = c.newDesc("offsetlag_up",
		"1 if the last poll of the cluster succeeded, 0 if it failed.", cl)
	c.pollDuration = c.newDesc("offsetlag_poll_duration_seconds",
		"Duration of the last poll of the cluster.", cl)
	c.lastPoll = c.newDesc("offsetlag_last_poll_timestamp_seconds",
		"Unix time the last poll of the cluster finished, successful or not.", cl)
	c.lastSuccess = c.newDesc("offsetlag_last_successful_poll_timestamp_seconds",
		"Unix time the last successful poll of the cluster finished; the data series are as of this poll. Absent until the first success.", cl)
	c.requests = c.newDesc("offsetlag_kafka_requests_total",
		"Kafka requests sent to the cluster since start, by API.", []string{labelCluster, labelAPI})
	c.polls = c.newDesc("offsetlag_polls_total",
		"Polls of the cluster attempted since start.", cl)
	c.pollErrors = c.newDesc("offsetlag_poll_errors_total",
		"Polls of the cluster that failed since start.", cl)
	c.brokers = c.newDesc("offsetlag_brokers",
		"Brokers in the cluster's metadata as of the last successful poll.", cl)
	return c
}

func (c *Collector) newDesc(name, help string, labels []string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	c.descs = append(c.descs, namedDesc{name: name, desc: d})
	return d
}

// Describe sends the Desc of every family this Collector can emit with its
// Granularity.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d.desc
	}
}

// Collect emits the latest Result's series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.source()
	if r == nil {
		return
	}
	e := emitter{ch: ch}
	for i := range r.Clusters {
		c.collectCluster(&e, &r.Clusters[i])
	}
}

func (c *Collector) collectCluster(e *emitter, cr *exporter.ClusterResult) {
	cluster := validLabel(cr.Name)

	// Self-metrics.
	e.gauge(c.up, boolFloat(cr.Up), cluster)
	if !cr.LastPoll.IsZero() {
		e.gauge(c.pollDuration, cr.PollDuration.Seconds(), cluster)
		e.gauge(c.lastPoll, unixSeconds(cr.LastPoll), cluster)
	}
	if !cr.LastSuccess.IsZero() {
		e.gauge(c.lastSuccess, unixSeconds(cr.LastSuccess), cluster)
		e.gauge(c.brokers, float64(cr.Brokers), cluster)
	}
	e.counter(c.polls, float64(cr.Polls), cluster)
	e.counter(c.pollErrors, float64(cr.PollErrors), cluster)
	if len(cr.Requests) > 0 {
		apis := make([]string, 0, len(cr.Requests))
		for api := range cr.Requests {
			apis = append(apis, api)
		}
		slices.Sort(apis)
		for _, api := range apis {
			e.counter(c.requests, float64(cr.Requests[api]), cluster, validLabel(api))
		}
	}

	// Log bounds per partition.
	if c.perPartition {
		var lv [3]string
		lv[0] = cluster
		for ti := range cr.Topics {
			t := &cr.Topics[ti]
			lv[1] = validLabel(t.Name)
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				if !p.HasStart && !p.HasEnd {
					continue
				}
				lv[2] = e.partition(p.Partition)
				if p.HasEnd {
					e.gauge(c.endOffset, float64(p.End), lv[:]...)
				}
				if p.HasStart {
					e.gauge(c.startOffset, float64(p.Start), lv[:]...)
				}
			}
		}
	}

	for gi := range cr.Groups {
		c.collectGroup(e, cluster, &cr.Groups[gi])
	}
}

func (c *Collector) collectGroup(e *emitter, cluster string, g *exporter.GroupResult) {
	group := validLabel(g.Name)
	e.gauge(c.members, float64(g.Members), cluster, group)
	state := normalizeState(g.State)
	for _, s := range GroupStates {
		e.gauge(c.state, boolFloat(s == state), cluster, group, s)
	}
	e.gauge(c.info, 1, cluster, group, normalizeType(g.Type))

	var lv [4]string // cluster, group, topic, partition
	lv[0], lv[1] = cluster, group
	groupHasLag := false
	for ti := range g.Topics {
		t := &g.Topics[ti]
		lv[2] = validLabel(t.Topic)
		gt := lv[:3]
		e.gauge(c.withoutCommit, float64(t.PartitionsWithoutCommit), gt...)
		e.gauge(c.outOfRange, float64(t.OutOfRange), gt...)
		e.gauge(c.recordsLost, float64(max(t.RecordsLost, 0)), gt...)

		topicHasLag := false
		if c.perPartition {
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				if p.Committed < 0 && !p.HasLag {
					continue // a sentinel, not an offset
				}
				lv[3] = e.partition(p.Partition)
				if p.Committed >= 0 {
					e.gauge(c.committed, float64(p.Committed), lv[:]...)
				}
				if p.HasLag {
					topicHasLag = true
					e.gauge(c.lag, float64(max(p.Lag, 0)), lv[:]...)
				}
			}
		} else {
			for pi := range t.Partitions {
				if t.Partitions[pi].HasLag {
					topicHasLag = true
					break
				}
			}
		}
		// Sum and max over no known lag are unknown, not 0.
		if topicHasLag {
			groupHasLag = true
			e.gauge(c.topicSumLag, float64(max(t.SumLag, 0)), gt...)
			e.gauge(c.topicMaxLag, float64(max(t.MaxLag, 0)), gt...)
		}
	}
	if groupHasLag {
		e.gauge(c.sumLag, float64(max(g.SumLag, 0)), cluster, group)
		e.gauge(c.maxLag, float64(max(g.MaxLag, 0)), cluster, group)
	}
}

// emitter sends const metrics for one Collect call.
type emitter struct {
	ch chan<- prometheus.Metric
	// parts caches partition id labels for this Collect: partition ids are
	// small and repeat across groups, so each is formatted once.
	parts []string
}

// maxCachedPartition bounds the partition label cache.
const maxCachedPartition = 1 << 16

func (e *emitter) partition(p int32) string {
	if p < 0 || p >= maxCachedPartition {
		return strconv.FormatInt(int64(p), 10)
	}
	if int(p) >= len(e.parts) {
		e.parts = append(e.parts, make([]string, int(p)+1-len(e.parts))...)
	}
	s := e.parts[p]
	if s == "" {
		s = strconv.FormatInt(int64(p), 10)
		e.parts[p] = s
	}
	return s
}

func (e *emitter) gauge(d *prometheus.Desc, v float64, labelValues ...string) {
	e.send(d, prometheus.GaugeValue, v, labelValues)
}

func (e *emitter) counter(d *prometheus.Desc, v float64, labelValues ...string) {
	e.send(d, prometheus.CounterValue, v, labelValues)
}

// send emits one const metric. NewConstMetric copies the label values, so
// callers may reuse labelValues. It fails only on a programming error (label
// count) since label values are made valid UTF-8 beforehand; the error then
// reaches the registry as an invalid metric instead of a panic.
func (e *emitter) send(d *prometheus.Desc, t prometheus.ValueType, v float64, labelValues []string) {
	m, err := prometheus.NewConstMetric(d, t, v, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	e.ch <- m
}

// normalizeState maps a broker's group state to one of GroupStates,
// ignoring case (KIP-848 tools print STABLE, classic ones Stable).
func normalizeState(s string) string {
	for _, known := range GroupStates {
		if strings.EqualFold(s, known) {
			return known
		}
	}
	return "Unknown"
}

// normalizeType maps a group type to one of GroupTypes.
func normalizeType(t string) string {
	for _, known := range GroupTypes {
		if strings.EqualFold(t, known) {
			return known
		}
	}
	return "other"
}

// validLabel makes s a valid label value. Kafka names are valid UTF-8 in
// practice; a name that is not would make every series of its group or
// topic fail the scrape, so it is repaired instead.
func validLabel(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds is t as fractional Unix seconds, without the precision loss
// of converting UnixNano to float64.
func unixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

package metrics

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/settings"
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

// Enums says how enum-like families (one series per possible value:
// offsetlag_consumergroup_state, _status, _topic_status and
// _topic_lag_seconds_partitions) are exported.
type Enums string

const (
	// EnumsAll exports a series for every possible value (1 for the
	// current one, 0 for the others; counts of 0 included). The default.
	EnumsAll Enums = "all"
	// EnumsCurrent exports only the current value's series (and only the
	// non-zero counts of _topic_lag_seconds_partitions): fewer series, but
	// a value that is not current is absent instead of 0.
	EnumsCurrent Enums = "current"
)

// Options configure a Collector. The zero value is valid and means the
// defaults.
//
// Each field is also one option of the exporter (metrics.*): the tags give
// its key, help and valid values (internal/settings).
type Options struct {
	// Granularity of the exported series. Empty means GranularityPartition.
	Granularity Granularity `mapstructure:"granularity" oneof:"partition|topic" help:"partition: per-partition series; topic: only group+topic and group aggregates (caps cardinality)"`
	// Enums is how enum-like families are exported. Empty means EnumsAll.
	Enums Enums `mapstructure:"enums" oneof:"all|current" help:"all: one series per possible value of state, status, topic status and time-lag source families (1 current, 0 others); current: only the current value's series (caps cardinality)"`
	// Compat adds another exporter's families (prometheus_compat.go).
	// Empty means CompatNone.
	Compat Compat `mapstructure:"compat" oneof:"none|kafka_exporter" help:"none, or kafka_exporter: also serve kafka_exporter's names and labels (kafka_consumergroup_lag{consumergroup,topic,partition}, ...) for the same data, without -1 series"`
}

// SetDefaults fills in empty fields.
func (o *Options) SetDefaults() {
	if o.Granularity == "" {
		o.Granularity = GranularityPartition
	}
	if o.Enums == "" {
		o.Enums = EnumsAll
	}
	if o.Compat == "" {
		o.Compat = CompatNone
	}
}

// Validate reports the first invalid field (its oneof tag). Empty fields
// are valid (they take their default).
func (o Options) Validate() error {
	o.SetDefaults()
	return settings.Check(&o, "")
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
	labelStatus    = "status"
	labelSource    = "source"
)

// lagSources is the fixed set of values of the source label of
// offsetlag_consumergroup_topic_lag_seconds_partitions ("none": no
// estimate this poll).
var lagSources = []string{"caught_up", "interpolated", "exact", "none"}

// groupStates is the fixed set of values of the state label of
// offsetlag_consumergroup_state, classic and KIP-848 states together. A
// state the broker names that is not in this list is exported as Unknown.
var groupStates = []string{
	"Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead",
	"Assigning", "Reconciling", "Unknown",
}

// groupTypes is the fixed set of values of the group_type label of
// offsetlag_consumergroup_info; anything else is exported as other.
var groupTypes = []string{"classic", "consumer", "simple", "other"}

// Collector is a prometheus.Collector that renders the latest
// result.Result as const metrics. It never talks to Kafka; each Collect
// reads the Result once and emits from it, so concurrent scrapes are cheap
// and consistent. Series that are gone from the Result disappear.
//
// For very large Results, WriteText and Handler render the same series
// straight to the text exposition format, skipping the registry.
type Collector struct {
	source       func() *result.Result
	perPartition bool
	// currentEnums: enum-like families export only the current value
	// (EnumsCurrent).
	currentEnums bool
	families     []*family // everything Describe sends, sorted by name

	// Per-partition families (GranularityPartition only).
	lag, committed, endOffset, startOffset *family
	// Group+topic families.
	topicSumLag, topicMaxLag, withoutCommit, outOfRange, recordsLost *family
	// Group families.
	sumLag, maxLag, members, state, info *family
	// Time lag, status and rates (per partition, group+topic, group).
	lagSeconds, topicMaxLagSeconds, topicLagSources, maxLagSeconds *family
	topicStatus, status, produceRate, consumeRate, catchUp         *family
	// Self-metrics, per cluster.
	up, pollDuration, lastPoll, lastSuccess, requests, polls, pollErrors, brokers *family
	pollPhase                                                                     *family
	// Committed-offset expiry (prometheus_expiry.go).
	expiryFamilies
	// Lambda event source mappings (prometheus_lambda.go).
	lambdaFamilies
	// Data age and broker health (prometheus_health.go).
	healthFamilies
	// kafka_exporter names, with metrics.compat (prometheus_compat.go).
	compatFamilies

	// render caches the text exposition of the latest Result (exposition.go).
	render renderState
}

// family is one metric family: its Desc and, since Desc does not expose
// them, the parts WriteText needs.
type family struct {
	name, help string
	typ        prometheus.ValueType
	labels     []string
	desc       *prometheus.Desc
	idx        int // position in Collector.families
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector that reads the latest Result from source
// on every Collect. source must be safe for concurrent use (an
// atomic.Pointer's Load is) and may return nil before the first poll, in
// which case nothing is emitted. opts should have passed Validate; an
// unknown Granularity is treated as GranularityPartition.
func NewCollector(source func() *result.Result, opts Options) *Collector {
	opts.SetDefaults()
	c := &Collector{
		source:       source,
		perPartition: opts.Granularity != GranularityTopic,
		currentEnums: opts.Enums == EnumsCurrent,
	}
	var (
		gp    = []string{labelCluster, labelGroup, labelTopic, labelPartition}
		tp    = []string{labelCluster, labelTopic, labelPartition}
		gt    = []string{labelCluster, labelGroup, labelTopic}
		g     = []string{labelCluster, labelGroup}
		cl    = []string{labelCluster}
		gauge = prometheus.GaugeValue
	)
	if c.perPartition {
		c.lag = c.newFamily("offsetlag_consumergroup_lag", gauge,
			"Records the group is behind on the partition as of the last poll: log end offset minus committed offset, at least 0. Absent when the partition has no commit or its end offset is unknown.", gp)
		c.committed = c.newFamily("offsetlag_consumergroup_committed_offset", gauge,
			"Offset the group last committed on the partition, as of the last poll.", gp)
		c.endOffset = c.newFamily("offsetlag_partition_end_offset", gauge,
			"Log end offset (high watermark) of the partition as of the last poll.", tp)
		c.startOffset = c.newFamily("offsetlag_partition_start_offset", gauge,
			"Log start offset of the partition as of the last poll.", tp)
	}
	if c.perPartition {
		c.lagSeconds = c.newFamily("offsetlag_consumergroup_lag_seconds", gauge,
			"Age of the record at the group's committed offset as of the last poll: how long ago the oldest unprocessed record was appended; 0 when caught up. Absent when it cannot be estimated.", gp)
	}
	c.topicMaxLagSeconds = c.newFamily("offsetlag_consumergroup_topic_max_lag_seconds", gauge,
		"Largest time lag of the group on any partition of the topic as of the last poll.", gt)
	c.topicLagSources = c.newFamily("offsetlag_consumergroup_topic_lag_seconds_partitions", gauge,
		"Partitions of the topic whose time lag came from each source as of the last poll: caught_up, interpolated (end-offset history), exact (record timestamp) or none.", []string{labelCluster, labelGroup, labelTopic, labelSource})
	c.maxLagSeconds = c.newFamily("offsetlag_consumergroup_max_lag_seconds", gauge,
		"Largest time lag of the group on any partition as of the last poll.", g)
	c.topicStatus = c.newFamily("offsetlag_consumergroup_topic_status", gauge,
		"1 for the group's status on the topic (its worst partition's) as of the last poll, 0 for the others: OK, WARN, STALL, STOP, REWIND, EXPIRED, ERR.", []string{labelCluster, labelGroup, labelTopic, labelStatus})
	c.status = c.newFamily("offsetlag_consumergroup_status", gauge,
		"1 for the group's status (its worst partition's) as of the last poll, 0 for the others: OK, WARN, STALL, STOP, REWIND, EXPIRED, ERR.", []string{labelCluster, labelGroup, labelStatus})
	c.produceRate = c.newFamily("offsetlag_consumergroup_topic_produce_rate", gauge,
		"Records per second appended to the topic's partitions the group commits on, over the status window, as of the last poll.", gt)
	c.consumeRate = c.newFamily("offsetlag_consumergroup_topic_consume_rate", gauge,
		"Records per second the group's commits advanced on the topic, over the status window, as of the last poll.", gt)
	c.catchUp = c.newFamily("offsetlag_consumergroup_topic_catch_up_seconds", gauge,
		"Time the group needs to reach the log end of the topic at the current produce and consume rates; absent when it is not gaining.", gt)
	c.topicSumLag = c.newFamily("offsetlag_consumergroup_topic_sum_lag", gauge,
		"Sum of the group's lag over the topic's committed partitions as of the last poll.", gt)
	c.topicMaxLag = c.newFamily("offsetlag_consumergroup_topic_max_lag", gauge,
		"Largest lag of the group on any partition of the topic as of the last poll.", gt)
	c.withoutCommit = c.newFamily("offsetlag_consumergroup_partitions_without_commit", gauge,
		"Partitions of the topic on which the group has no committed offset (and so no lag series) as of the last poll.", gt)
	c.outOfRange = c.newFamily("offsetlag_consumergroup_out_of_range_partitions", gauge,
		"Partitions of the topic whose committed offset is below the log start offset as of the last poll; the consumer will reset its position.", gt)
	c.recordsLost = c.newFamily("offsetlag_consumergroup_records_lost", gauge,
		"Records deleted by retention before the group read them, as of the last poll: log start offset minus committed offset, summed over the topic's out-of-range partitions.", gt)
	c.sumLag = c.newFamily("offsetlag_consumergroup_sum_lag", gauge,
		"Sum of the group's lag over all its committed partitions as of the last poll.", g)
	c.maxLag = c.newFamily("offsetlag_consumergroup_max_lag", gauge,
		"Largest lag of the group on any partition as of the last poll.", g)
	c.members = c.newFamily("offsetlag_consumergroup_members", gauge,
		"Members of the group as of the last poll.", g)
	c.state = c.newFamily("offsetlag_consumergroup_state", gauge,
		"1 for the state the group is in as of the last poll, 0 for the other states.", []string{labelCluster, labelGroup, labelState})
	c.info = c.newFamily("offsetlag_consumergroup_info", gauge,
		"Always 1; the group_type label says which protocol the group uses (classic, consumer, simple, other) as of the last poll.", []string{labelCluster, labelGroup, labelGroupType})
	c.up = c.newFamily("offsetlag_up", gauge,
		"1 if the last poll of the cluster succeeded, 0 if it failed.", cl)
	c.pollDuration = c.newFamily("offsetlag_poll_duration_seconds", gauge,
		"Duration of the last poll of the cluster: its requests and the computation after them (lag, expiry, time lag and status).", cl)
	c.pollPhase = c.newFamily("offsetlag_poll_phase_seconds", gauge,
		"Duration of each phase of the last poll of the cluster: requests (the batched Kafka round), lag, expiry, trends (time lag, status, rates) and record_times (exact time-lag Fetches).", []string{labelCluster, "phase"})
	c.lastPoll = c.newFamily("offsetlag_last_poll_timestamp_seconds", gauge,
		"Unix time the last poll of the cluster finished, successful or not.", cl)
	c.lastSuccess = c.newFamily("offsetlag_last_successful_poll_timestamp_seconds", gauge,
		"Unix time the last successful poll of the cluster finished; the data series are as of this poll. Absent until the first success.", cl)
	c.requests = c.newFamily("offsetlag_kafka_requests_total", prometheus.CounterValue,
		"Kafka requests sent to the cluster since start, by API.", []string{labelCluster, labelAPI})
	c.polls = c.newFamily("offsetlag_polls_total", prometheus.CounterValue,
		"Polls of the cluster attempted since start.", cl)
	c.pollErrors = c.newFamily("offsetlag_poll_errors_total", prometheus.CounterValue,
		"Polls of the cluster that failed since start.", cl)
	c.brokers = c.newFamily("offsetlag_brokers", gauge,
		"Brokers in the cluster's metadata as of the last successful poll.", cl)
	c.newExpiryFamilies()
	c.newLambdaFamilies()
	c.newHealthFamilies()
	if opts.Compat == CompatKafkaExporter {
		c.newCompatFamilies()
	}
	if c.currentEnums {
		for _, f := range []*family{c.state, c.status, c.topicStatus, c.topicLagSources} {
			f.help += " Only the current value's series is exported (metrics.enums=current): the others are absent, not 0."
			f.desc = prometheus.NewDesc(f.name, f.help, f.labels, nil)
		}
	}

	slices.SortFunc(c.families, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for i, f := range c.families {
		f.idx = i
	}
	return c
}

func (c *Collector) newFamily(name string, typ prometheus.ValueType, help string, labels []string) *family {
	f := &family{
		name: name, help: help, typ: typ, labels: labels,
		desc: prometheus.NewDesc(name, help, labels, nil),
	}
	c.families = append(c.families, f)
	return f
}

// Describe sends the Desc of every family this Collector can emit with its
// Granularity.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.families {
		ch <- f.desc
	}
}

// Collect emits the latest Result's series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if r := c.source(); r != nil {
		c.walk(r, &chanSink{ch: ch})
	}
}

// sink receives every series of one rendering. labelValues is reused by the
// caller after emit returns.
type sink interface {
	emit(f *family, v float64, labelValues []string)
	// partition returns the label value of a partition id.
	partition(p int32) string
}

// walk sends every series of r to s. It is the single place that decides
// which series exist, shared by Collect and WriteText.
func (c *Collector) walk(r *result.Result, s sink) {
	for i := range r.Clusters {
		c.walkCluster(s, &r.Clusters[i])
	}
}

func (c *Collector) walkCluster(s sink, cr *result.ClusterResult) {
	cluster := validLabel(cr.Name)
	var lv [4]string
	lv[0] = cluster
	cl := lv[:1]

	// Self-metrics.
	s.emit(c.up, boolFloat(cr.Up), cl)
	if !cr.LastPoll.IsZero() {
		s.emit(c.pollDuration, cr.PollDuration.Seconds(), cl)
		for _, ph := range cr.PollPhases {
			lv[1] = ph.Phase
			s.emit(c.pollPhase, ph.Duration.Seconds(), lv[:2])
		}
		s.emit(c.lastPoll, unixSeconds(cr.LastPoll), cl)
	}
	if !cr.LastSuccess.IsZero() {
		s.emit(c.lastSuccess, unixSeconds(cr.LastSuccess), cl)
		s.emit(c.brokers, float64(cr.Brokers), cl)
	}
	s.emit(c.polls, float64(cr.Polls), cl)
	s.emit(c.pollErrors, float64(cr.PollErrors), cl)
	if len(cr.Requests) > 0 {
		apis := make([]string, 0, len(cr.Requests))
		for api := range cr.Requests {
			apis = append(apis, api)
		}
		slices.Sort(apis)
		for _, api := range apis {
			lv[1] = validLabel(api)
			s.emit(c.requests, float64(cr.Requests[api]), lv[:2])
		}
	}

	// Log bounds per partition.
	if c.perPartition {
		for ti := range cr.Topics {
			t := &cr.Topics[ti]
			lv[1] = validLabel(t.Name)
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				if !p.HasStart && !p.HasEnd {
					continue
				}
				lv[2] = s.partition(p.Partition)
				if p.HasEnd {
					s.emit(c.endOffset, float64(p.End), lv[:3])
				}
				if p.HasStart {
					s.emit(c.startOffset, float64(p.Start), lv[:3])
				}
			}
		}
	}

	for gi := range cr.Groups {
		c.walkGroup(s, cluster, &cr.Groups[gi])
	}
	c.walkExpiry(s, cluster, cr)
	c.walkHealth(s, cluster, cr)
	c.walkCompat(s, cluster, cr)
}

func (c *Collector) walkGroup(s sink, cluster string, g *result.GroupResult) {
	var lv [4]string // cluster, group, topic|state|group_type, partition
	lv[0], lv[1] = cluster, validLabel(g.Name)
	cg := lv[:2]

	s.emit(c.members, float64(g.Members), cg)
	c.walkGroupEnums(s, g, lv)
	if g.HasLagSeconds {
		s.emit(c.maxLagSeconds, max(g.MaxLagSeconds, 0), cg)
	}

	groupHasLag := false
	for ti := range g.Topics {
		t := &g.Topics[ti]
		lv[2] = validLabel(t.Topic)
		gt := lv[:3]
		s.emit(c.withoutCommit, float64(t.PartitionsWithoutCommit), gt)
		s.emit(c.outOfRange, float64(t.OutOfRange), gt)
		s.emit(c.recordsLost, float64(max(t.RecordsLost, 0)), gt)
		c.walkTrends(s, t, lv)

		topicHasLag := c.walkPartitions(s, t, lv)
		// Sum and max over no known lag are unknown, not 0.
		if topicHasLag {
			groupHasLag = true
			s.emit(c.topicSumLag, float64(max(t.SumLag, 0)), gt)
			s.emit(c.topicMaxLag, float64(max(t.MaxLag, 0)), gt)
		}
	}
	if groupHasLag {
		s.emit(c.sumLag, float64(max(g.SumLag, 0)), cg)
		s.emit(c.maxLag, float64(max(g.MaxLag, 0)), cg)
	}
}

// walkGroupEnums emits a group's state, info (group type) and status
// enums; lv holds cluster, group.
func (c *Collector) walkGroupEnums(s sink, g *result.GroupResult, lv [4]string) {
	state := normalizeState(g.State)
	for _, st := range groupStates {
		if c.currentEnums && st != state {
			continue
		}
		lv[2] = st
		s.emit(c.state, boolFloat(st == state), lv[:3])
	}
	lv[2] = normalizeType(g.Type)
	s.emit(c.info, 1, lv[:3])
	if g.Status == "" {
		return
	}
	for _, st := range result.Statuses {
		if c.currentEnums && st.String() != g.Status {
			continue
		}
		lv[2] = st.String()
		s.emit(c.status, boolFloat(st.String() == g.Status), lv[:3])
	}
}

// walkPartitions emits a group+topic's per-partition committed offset, lag
// and time lag (unless granularity is topic) and reports whether any
// partition has a known lag; lv holds cluster, group, topic.
func (c *Collector) walkPartitions(s sink, t *result.GroupTopicResult, lv [4]string) (hasLag bool) {
	if !c.perPartition {
		for pi := range t.Partitions {
			if t.Partitions[pi].HasLag {
				return true
			}
		}
		return false
	}
	for pi := range t.Partitions {
		p := &t.Partitions[pi]
		if p.Committed < 0 && !p.HasLag {
			continue // a sentinel, not an offset
		}
		lv[3] = s.partition(p.Partition)
		if p.Committed >= 0 {
			s.emit(c.committed, float64(p.Committed), lv[:4])
		}
		if p.HasLag {
			hasLag = true
			s.emit(c.lag, float64(max(p.Lag, 0)), lv[:4])
		}
		if p.LagSecondsSource != result.LagSourceNone {
			s.emit(c.lagSeconds, max(p.LagSeconds, 0), lv[:4])
		}
	}
	return hasLag
}

// walkTrends emits a group+topic's time lag, status and rates; lv holds
// cluster, group, topic.
func (c *Collector) walkTrends(s sink, t *result.GroupTopicResult, lv [4]string) {
	gt := lv[:3]
	if t.HasLagSeconds {
		s.emit(c.topicMaxLagSeconds, max(t.MaxLagSeconds, 0), gt)
	}
	var counts [4]int
	lagging := 0
	for pi := range t.Partitions {
		p := &t.Partitions[pi]
		if !p.HasLag {
			continue
		}
		lagging++
		i := slices.Index(lagSources, p.LagSecondsSource.String())
		if i < 0 {
			i = len(lagSources) - 1
		}
		counts[i]++
	}
	if lagging > 0 {
		for i, src := range lagSources {
			if c.currentEnums && counts[i] == 0 {
				continue
			}
			lv[3] = src
			s.emit(c.topicLagSources, float64(counts[i]), lv[:4])
		}
	}
	if t.Status != "" {
		for _, st := range result.Statuses {
			if c.currentEnums && st.String() != t.Status {
				continue
			}
			lv[3] = st.String()
			s.emit(c.topicStatus, boolFloat(st.String() == t.Status), lv[:4])
		}
	}
	if t.HasRates {
		s.emit(c.produceRate, max(t.ProduceRate, 0), gt)
		s.emit(c.consumeRate, max(t.ConsumeRate, 0), gt)
	}
	if t.HasCatchUp {
		s.emit(c.catchUp, max(t.CatchUpSeconds, 0), gt)
	}
}

// partitionLabels caches partition id labels for one rendering: ids are
// small and repeat across groups, so each is formatted once.
type partitionLabels []string

// maxCachedPartition bounds the partition label cache.
const maxCachedPartition = 1 << 16

func (pl *partitionLabels) partition(p int32) string {
	if p < 0 || p >= maxCachedPartition {
		return strconv.FormatInt(int64(p), 10)
	}
	if int(p) >= len(*pl) {
		*pl = append(*pl, make([]string, int(p)+1-len(*pl))...)
	}
	s := (*pl)[p]
	if s == "" {
		s = strconv.FormatInt(int64(p), 10)
		(*pl)[p] = s
	}
	return s
}

// chanSink turns series into const metrics for Collect.
type chanSink struct {
	ch chan<- prometheus.Metric
	partitionLabels
}

// emit sends one const metric. NewConstMetric copies the label values, so
// callers may reuse labelValues. It fails only on a programming error (label
// count) since label values are made valid UTF-8 beforehand; the error then
// reaches the registry as an invalid metric instead of a panic.
func (s *chanSink) emit(f *family, v float64, labelValues []string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, v, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	s.ch <- m
}

// normalizeState maps a broker's group state to one of groupStates,
// ignoring case (KIP-848 tools print STABLE, classic ones Stable).
func normalizeState(s string) string {
	for _, known := range groupStates {
		if strings.EqualFold(s, known) {
			return known
		}
	}
	return "Unknown"
}

// normalizeType maps a group type to one of groupTypes.
func normalizeType(t string) string {
	for _, known := range groupTypes {
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

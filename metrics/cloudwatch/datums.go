package cloudwatch

import (
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// DefaultNamespace is the namespace metrics are published to unless
// configured otherwise. MSK publishes the same metric names to AWS/Kafka,
// which only AWS may write to.
const DefaultNamespace = "offsetlag"

// Metric names. SumOffsetLag, MaxOffsetLag, OffsetLag, EstimatedMaxTimeLag
// and EstimatedTimeLag are MSK's, with MSK's meaning; the others are
// offsetlag's own.
const (
	MetricSumOffsetLag             = "SumOffsetLag"
	MetricMaxOffsetLag             = "MaxOffsetLag"
	MetricOffsetLag                = "OffsetLag"
	MetricEstimatedMaxTimeLag      = "EstimatedMaxTimeLag" // seconds to drain MaxOffsetLag at the recent consume rate
	MetricEstimatedTimeLag         = "EstimatedTimeLag"    // seconds to drain the partition's lag at its recent consume rate
	MetricMaxRecordAge             = "MaxRecordAge"        // age of the oldest unprocessed record (offsetlag's time lag)
	MetricRecordAge                = "RecordAge"           // per partition
	MetricPartitionsOutOfRange     = "PartitionsOutOfRange"
	MetricOffsetsExpired           = "OffsetsExpired"
	MetricSecondsUntilOffsetExpiry = "SecondsUntilOffsetExpiry"
)

// Dimension names, as MSK spells them.
const (
	DimClusterName   = "Cluster Name"
	DimConsumerGroup = "Consumer Group"
	DimTopic         = "Topic"
	DimPartition     = "Partition"
)

// CloudWatch limits (PutMetricData).
const (
	MaxDatumsPerRequest = 1000
	// MaxRequestBytes is the payload limit, 1 MB; requests are cut well
	// below it by a conservative size estimate (estimateSize).
	MaxRequestBytes = 1_000_000
	// maxDimensionValue is the longest dimension value CloudWatch accepts.
	maxDimensionValue = 1024
)

// Priority orders datums for the metric budget: the highest are kept
// first, the lowest dropped first. Within a priority, Datum.Score decides
// (see applyBudget).
type Priority int

// Priorities, lowest first.
const (
	// PriorityPartition: per-partition OffsetLag, EstimatedTimeLag,
	// RecordAge (partition-metrics).
	PriorityPartition Priority = iota
	// PriorityOptional: optional group+topic families (MaxRecordAge).
	PriorityOptional
	// PriorityGroupTopic: group+topic SumOffsetLag, MaxOffsetLag,
	// EstimatedMaxTimeLag, PartitionsOutOfRange, OffsetsExpired,
	// SecondsUntilOffsetExpiry.
	PriorityGroupTopic
	// PriorityTotals: cluster and group totals (SumOffsetLag and
	// MaxOffsetLag without Topic).
	PriorityTotals
)

// String names the priority in logs.
func (p Priority) String() string {
	switch p {
	case PriorityPartition:
		return "partition"
	case PriorityOptional:
		return "group+topic optional"
	case PriorityGroupTopic:
		return "group+topic"
	case PriorityTotals:
		return "cluster and group totals"
	}
	return "unknown"
}

// Dimension is one CloudWatch dimension.
type Dimension struct{ Name, Value string }

// Datum is one value to publish, independent of the transport (API or EMF).
type Datum struct {
	Name       string
	Unit       types.StandardUnit
	Value      float64
	Time       time.Time
	Dimensions []Dimension
	Priority   Priority
	// Score ranks datums of one priority for the budget: higher first
	// (the lag of the group, group+topic or partition; at-risk
	// group+topics above all).
	Score float64
}

// BuildOptions select which datums Build makes.
type BuildOptions struct {
	// PartitionMetrics adds per-partition OffsetLag, EstimatedTimeLag and
	// RecordAge (off by default: metrics per group-partition).
	PartitionMetrics bool
	// ClusterName is the Cluster Name dimension value; the exporter's
	// cluster name when empty.
	ClusterName string
	// ConsumeRate returns a partition's recent consume rate (records/s)
	// for MSK's EstimatedTimeLag and EstimatedMaxTimeLag; ok is false
	// when it is not known yet. Nil: no drain-time metrics.
	ConsumeRate func(group, topic string, partition int32) (rate float64, ok bool)
}

// atRiskScore ranks group+topics whose commits expired, are on an expiry
// clock or are out of range above any lag.
const atRiskScore = 1e18

// drainTime is MSK's estimated time lag of one partition: the seconds to
// consume its lag at its recent consume rate. ok is false when unknown
// (no rate yet, or the consumer is not consuming while behind).
func drainTime(lag int64, rate float64, hasRate bool) (float64, bool) {
	if lag <= 0 {
		return 0, true
	}
	if !hasRate || rate <= 0 || !finite(rate) {
		return 0, false
	}
	return float64(lag) / rate, true
}

// Build returns the datums of one cluster's last successful poll, in a
// deterministic order (cluster totals, then groups, topics, partitions as
// the Result sorts them, then the expiry view). A cluster that never
// succeeded has none.
func Build(cr *result.ClusterResult, o BuildOptions) []Datum {
	if cr.LastSuccess.IsZero() {
		return nil
	}
	ts := cr.LastSuccess
	name := cr.Name
	if o.ClusterName != "" {
		name = o.ClusterName
	}
	b := datumBuilder{o: o, ts: ts, cluster: Dimension{DimClusterName, name}, risk: atRisk(cr), score: map[[2]string]float64{}}
	var cSum, cMax int64
	cHasLag := false
	for gi := range cr.Groups {
		if sum, mx, ok := lagTotals(cr.Groups[gi].Topics); ok {
			cHasLag, cSum, cMax = true, cSum+sum, max(cMax, mx)
		}
	}
	if cHasLag {
		clusterDims := []Dimension{b.cluster}
		b.out = append(b.out,
			Datum{Name: MetricSumOffsetLag, Unit: types.StandardUnitCount, Value: float64(cSum), Time: ts, Dimensions: clusterDims, Priority: PriorityTotals, Score: math.Inf(1)},
			Datum{Name: MetricMaxOffsetLag, Unit: types.StandardUnitCount, Value: float64(cMax), Time: ts, Dimensions: clusterDims, Priority: PriorityTotals, Score: math.Inf(1)})
	}
	for gi := range cr.Groups {
		b.group(&cr.Groups[gi])
	}
	return appendExpiry(b.out, cr, b.cluster, ts, b.score)
}

// datumBuilder collects the datums of one cluster's Result (see Build).
type datumBuilder struct {
	o       BuildOptions
	ts      time.Time
	cluster Dimension
	risk    map[[2]string]bool    // group+topic on an expiry clock or expired
	score   map[[2]string]float64 // group+topic -> budget score, for the expiry datums
	out     []Datum
}

// atRisk is the set of group+topics on an expiry clock or expired.
func atRisk(cr *result.ClusterResult) map[[2]string]bool {
	risk := map[[2]string]bool{}
	for gi := range cr.Expiry {
		for _, te := range cr.Expiry[gi].Topics {
			if te.Expired || !te.ExpiresAt.IsZero() {
				risk[[2]string{cr.Expiry[gi].Group, te.Topic}] = true
			}
		}
	}
	return risk
}

// lagTotals sums the lag of the topics with a known lag and takes their
// max; ok is false when no topic has one (unknown, not 0).
func lagTotals(topics []result.GroupTopicResult) (sum, mx int64, ok bool) {
	for ti := range topics {
		if topicHasLag(&topics[ti]) {
			ok = true
			sum += max(topics[ti].SumLag, 0)
			mx = max(mx, topics[ti].MaxLag)
		}
	}
	return sum, mx, ok
}

// group adds a group's totals and its topics' datums.
func (b *datumBuilder) group(g *result.GroupResult) {
	group := Dimension{DimConsumerGroup, g.Name}
	if gSum, gMax, ok := lagTotals(g.Topics); ok {
		gd := []Dimension{b.cluster, group}
		b.out = append(b.out,
			Datum{Name: MetricSumOffsetLag, Unit: types.StandardUnitCount, Value: float64(gSum), Time: b.ts, Dimensions: gd, Priority: PriorityTotals, Score: float64(gSum)},
			Datum{Name: MetricMaxOffsetLag, Unit: types.StandardUnitCount, Value: float64(gMax), Time: b.ts, Dimensions: gd, Priority: PriorityTotals, Score: float64(gSum)})
	}
	for ti := range g.Topics {
		b.topic(g.Name, group, &g.Topics[ti])
	}
}

// topic adds a group+topic's datums and, with PartitionMetrics, its
// partitions'.
func (b *datumBuilder) topic(groupName string, group Dimension, t *result.GroupTopicResult) {
	dims := []Dimension{b.cluster, group, {DimTopic, t.Topic}}
	sc := float64(max(t.SumLag, 0))
	if t.OutOfRange > 0 || b.risk[[2]string{groupName, t.Topic}] {
		sc += atRiskScore
	}
	b.score[[2]string{groupName, t.Topic}] = sc
	add := func(name string, unit types.StandardUnit, v float64, p Priority) {
		b.out = append(b.out, Datum{Name: name, Unit: unit, Value: v, Time: b.ts, Dimensions: dims, Priority: p, Score: sc})
	}
	// Sum and max over no known lag are unknown, not 0.
	if topicHasLag(t) {
		add(MetricSumOffsetLag, types.StandardUnitCount, float64(max(t.SumLag, 0)), PriorityGroupTopic)
		add(MetricMaxOffsetLag, types.StandardUnitCount, float64(max(t.MaxLag, 0)), PriorityGroupTopic)
	}
	if b.o.ConsumeRate != nil {
		if v, ok := maxDrainTime(groupName, t, b.o.ConsumeRate); ok {
			add(MetricEstimatedMaxTimeLag, types.StandardUnitSeconds, v, PriorityGroupTopic)
		}
	}
	add(MetricPartitionsOutOfRange, types.StandardUnitCount, float64(t.OutOfRange), PriorityGroupTopic)
	if t.HasLagSeconds && finite(t.MaxLagSeconds) {
		add(MetricMaxRecordAge, types.StandardUnitSeconds, max(t.MaxLagSeconds, 0), PriorityOptional)
	}
	if !b.o.PartitionMetrics {
		return
	}
	for pi := range t.Partitions {
		b.partition(groupName, group, t.Topic, &t.Partitions[pi])
	}
}

// partition adds one group-partition's OffsetLag, EstimatedTimeLag and
// RecordAge.
func (b *datumBuilder) partition(groupName string, group Dimension, topic string, p *result.PartitionLag) {
	pd := []Dimension{b.cluster, group, {DimTopic, topic}, {DimPartition, strconv.FormatInt(int64(p.Partition), 10)}}
	padd := func(name string, unit types.StandardUnit, v float64) {
		b.out = append(b.out, Datum{Name: name, Unit: unit, Value: v, Time: b.ts, Dimensions: pd,
			Priority: PriorityPartition, Score: float64(max(p.Lag, 0))})
	}
	if p.HasLag {
		padd(MetricOffsetLag, types.StandardUnitCount, float64(max(p.Lag, 0)))
		if b.o.ConsumeRate != nil {
			rate, ok := b.o.ConsumeRate(groupName, topic, p.Partition)
			if v, ok := drainTime(p.Lag, rate, ok); ok {
				padd(MetricEstimatedTimeLag, types.StandardUnitSeconds, v)
			}
		}
	}
	if p.LagSecondsSource != result.LagSourceNone && finite(p.LagSeconds) {
		padd(MetricRecordAge, types.StandardUnitSeconds, max(p.LagSeconds, 0))
	}
}

func topicHasLag(t *result.GroupTopicResult) bool {
	for pi := range t.Partitions {
		if t.Partitions[pi].HasLag {
			return true
		}
	}
	return false
}

// maxDrainTime is MSK's EstimatedMaxTimeLag of a group+topic: the longest
// time any partition needs to drain its lag at its recent consume rate.
// Unknown when a partition with lag has no known rate or does not consume.
func maxDrainTime(group string, t *result.GroupTopicResult, rate func(string, string, int32) (float64, bool)) (float64, bool) {
	worst, any := 0.0, false
	for pi := range t.Partitions {
		p := &t.Partitions[pi]
		if !p.HasLag {
			continue
		}
		r, ok := rate(group, t.Topic, p.Partition)
		v, ok := drainTime(p.Lag, r, ok)
		if !ok {
			return 0, false
		}
		worst, any = max(worst, v), true
	}
	return worst, any
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendExpiry adds, for every group+topic of the expiry view (groups
// listed by the poll, gone groups whose offsets expired, expected groups):
// OffsetsExpired (1 once the commits expired, else 0) and, while an expiry
// clock runs, SecondsUntilOffsetExpiry (predicted expiry minus poll time,
// at least 0).
func appendExpiry(out []Datum, cr *result.ClusterResult, cluster Dimension, ts time.Time, score map[[2]string]float64) []Datum {
	for gi := range cr.Expiry {
		ge := &cr.Expiry[gi]
		for ti := range ge.Topics {
			te := &ge.Topics[ti]
			dims := []Dimension{cluster, {DimConsumerGroup, ge.Group}, {DimTopic, te.Topic}}
			sc, ok := score[[2]string{ge.Group, te.Topic}]
			if !ok && (te.Expired || !te.ExpiresAt.IsZero()) {
				sc = atRiskScore
			}
			expired := 0.0
			if te.Expired {
				expired = 1
			}
			out = append(out, Datum{Name: MetricOffsetsExpired, Unit: types.StandardUnitCount, Value: expired,
				Time: ts, Dimensions: dims, Priority: PriorityGroupTopic, Score: sc})
			if !te.ExpiresAt.IsZero() {
				out = append(out, Datum{Name: MetricSecondsUntilOffsetExpiry, Unit: types.StandardUnitSeconds,
					Value: max(te.ExpiresAt.Sub(ts).Seconds(), 0), Time: ts, Dimensions: dims, Priority: PriorityGroupTopic, Score: sc})
			}
		}
	}
	return out
}

// estimateSize is a conservative upper bound of one datum's share of a
// request body in any protocol: the query protocol's member keys
// (MetricData.member.1000.Dimensions.member.4.Value=) and percent-encoding
// (three bytes per byte) are the worst case.
func estimateSize(d *Datum) int {
	n := 400 + 3*len(d.Name) // value, unit, timestamp, resolution, keys
	for _, dim := range d.Dimensions {
		n += 120 + 3*(len(dim.Name)+len(dim.Value))
	}
	return n
}

// requestOverhead bounds the body without datums (action, version,
// namespace, JSON braces).
func requestOverhead(namespace string) int { return 1024 + 3*len(namespace) }

// chunk splits ds into requests of at most maxDatums datums and maxBytes
// estimated bytes.
func chunk(ds []Datum, namespace string, maxDatums, maxBytes int) [][]Datum {
	var out [][]Datum
	start, size := 0, requestOverhead(namespace)
	for i := range ds {
		s := estimateSize(&ds[i])
		if i > start && (i-start >= maxDatums || size+s > maxBytes) {
			out = append(out, ds[start:i])
			start, size = i, requestOverhead(namespace)
		}
		size += s
	}
	if start < len(ds) {
		out = append(out, ds[start:])
	}
	return out
}

// toSDK converts datums to the SDK's type.
func toSDK(ds []Datum, resolution int32) []types.MetricDatum {
	out := make([]types.MetricDatum, len(ds))
	for i := range ds {
		d := &ds[i]
		dims := make([]types.Dimension, len(d.Dimensions))
		for j, dim := range d.Dimensions {
			dims[j] = types.Dimension{Name: aws.String(dim.Name), Value: aws.String(dim.Value)}
		}
		out[i] = types.MetricDatum{
			MetricName:        aws.String(d.Name),
			Dimensions:        dims,
			Value:             aws.Float64(d.Value),
			Unit:              d.Unit,
			Timestamp:         aws.Time(d.Time),
			StorageResolution: aws.Int32(resolution),
		}
	}
	return out
}

package cloudwatch

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/offsetlag/offsetlag/exporter"
)

// DefaultNamespace is the namespace metrics are published to unless
// configured otherwise. MSK publishes the same metric names to AWS/Kafka,
// which only AWS may write to.
const DefaultNamespace = "offsetlag"

// Metric names. The lag names are MSK's.
const (
	MetricSumOffsetLag             = "SumOffsetLag"
	MetricMaxOffsetLag             = "MaxOffsetLag"
	MetricOffsetLag                = "OffsetLag"
	MetricEstimatedMaxTimeLag      = "EstimatedMaxTimeLag"
	MetricEstimatedTimeLag         = "EstimatedTimeLag"
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

// Priority orders datums for the per-poll budget: the lowest are dropped
// first.
type Priority int

// Priorities, lowest first.
const (
	PriorityPartition Priority = iota // per-partition OffsetLag
	PriorityOutOfRange
	PriorityLag    // SumOffsetLag, MaxOffsetLag
	PriorityExpiry // expiry metrics: alarms depend on them
)

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
}

// BuildOptions select which datums Build makes.
type BuildOptions struct {
	// PartitionMetrics adds per-partition OffsetLag (off by default: one
	// custom metric per group-partition).
	PartitionMetrics bool
}

// Build returns the datums of one cluster's last successful poll, in a
// deterministic order (groups, topics, partitions as the Result sorts them).
// A cluster that never succeeded has none.
func Build(cr *exporter.ClusterResult, o BuildOptions) []Datum {
	if cr.LastSuccess.IsZero() {
		return nil
	}
	ts := cr.LastSuccess
	var out []Datum
	cluster := Dimension{DimClusterName, cr.Name}
	for gi := range cr.Groups {
		g := &cr.Groups[gi]
		group := Dimension{DimConsumerGroup, g.Name}
		for ti := range g.Topics {
			t := &g.Topics[ti]
			dims := []Dimension{cluster, group, {DimTopic, t.Topic}}
			add := func(name string, unit types.StandardUnit, v float64, p Priority) {
				out = append(out, Datum{Name: name, Unit: unit, Value: v, Time: ts, Dimensions: dims, Priority: p})
			}
			hasLag := false
			for pi := range t.Partitions {
				if t.Partitions[pi].HasLag {
					hasLag = true
					break
				}
			}
			// Sum and max over no known lag are unknown, not 0.
			if hasLag {
				add(MetricSumOffsetLag, types.StandardUnitCount, float64(max(t.SumLag, 0)), PriorityLag)
				add(MetricMaxOffsetLag, types.StandardUnitCount, float64(max(t.MaxLag, 0)), PriorityLag)
			}
			if t.HasLagSeconds && finite(t.MaxLagSeconds) {
				add(MetricEstimatedMaxTimeLag, types.StandardUnitSeconds, max(t.MaxLagSeconds, 0), PriorityLag)
			}
			add(MetricPartitionsOutOfRange, types.StandardUnitCount, float64(t.OutOfRange), PriorityOutOfRange)
			if !o.PartitionMetrics {
				continue
			}
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				hasTime := p.LagSecondsSource != "" && finite(p.LagSeconds)
				if !p.HasLag && !hasTime {
					continue
				}
				pd := []Dimension{cluster, group, {DimTopic, t.Topic}, {DimPartition, strconv.FormatInt(int64(p.Partition), 10)}}
				if p.HasLag {
					out = append(out, Datum{Name: MetricOffsetLag, Unit: types.StandardUnitCount,
						Value: float64(max(p.Lag, 0)), Time: ts, Dimensions: pd, Priority: PriorityPartition})
				}
				if hasTime {
					out = append(out, Datum{Name: MetricEstimatedTimeLag, Unit: types.StandardUnitSeconds,
						Value: max(p.LagSeconds, 0), Time: ts, Dimensions: pd, Priority: PriorityPartition})
				}
			}
		}
	}
	return appendExpiry(out, cr, ts)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendExpiry adds, for every group+topic of the expiry view (groups
// listed by the poll, gone groups whose offsets expired, expected groups):
// OffsetsExpired (1 once the commits expired, else 0) and, while an expiry
// clock runs, SecondsUntilOffsetExpiry (predicted expiry minus poll time,
// at least 0).
func appendExpiry(out []Datum, cr *exporter.ClusterResult, ts time.Time) []Datum {
	cluster := Dimension{DimClusterName, cr.Name}
	for gi := range cr.Expiry {
		ge := &cr.Expiry[gi]
		for ti := range ge.Topics {
			te := &ge.Topics[ti]
			dims := []Dimension{cluster, {DimConsumerGroup, ge.Group}, {DimTopic, te.Topic}}
			expired := 0.0
			if te.Expired {
				expired = 1
			}
			out = append(out, Datum{Name: MetricOffsetsExpired, Unit: types.StandardUnitCount, Value: expired,
				Time: ts, Dimensions: dims, Priority: PriorityExpiry})
			if !te.ExpiresAt.IsZero() {
				out = append(out, Datum{Name: MetricSecondsUntilOffsetExpiry, Unit: types.StandardUnitSeconds,
					Value: max(te.ExpiresAt.Sub(ts).Seconds(), 0), Time: ts, Dimensions: dims, Priority: PriorityExpiry})
			}
		}
	}
	return out
}

// valid reports whether CloudWatch accepts d: a finite value, and dimension
// values of 1 to 1,024 characters. Invalid UTF-8 is repaired in place.
func valid(d *Datum) bool {
	if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) {
		return false
	}
	for i := range d.Dimensions {
		v := d.Dimensions[i].Value
		if !utf8.ValidString(v) {
			// Copy: the slice may be shared by several datums.
			dims := append([]Dimension(nil), d.Dimensions...)
			dims[i].Value = strings.ToValidUTF8(v, "\uFFFD")
			d.Dimensions, v = dims, dims[i].Value
		}
		if n := utf8.RuneCountInString(v); n == 0 || n > maxDimensionValue {
			return false
		}
	}
	return true
}

// applyBudget keeps at most budget datums, dropping the lowest priority
// first; kept datums stay in their order. budget <= 0 keeps all.
func applyBudget(ds []Datum, budget int) (kept []Datum, dropped int) {
	if budget <= 0 || len(ds) <= budget {
		return ds, 0
	}
	idx := make([]int, len(ds))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ds[idx[a]].Priority > ds[idx[b]].Priority })
	keep := idx[:budget]
	sort.Ints(keep)
	kept = make([]Datum, 0, budget)
	for _, i := range keep {
		kept = append(kept, ds[i])
	}
	return kept, len(ds) - budget
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

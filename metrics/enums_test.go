package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// enumFamilies are the families metrics.enums=current trims.
var enumFamilies = []string{
	"offsetlag_consumergroup_state", "offsetlag_consumergroup_status",
	"offsetlag_consumergroup_topic_status", "offsetlag_consumergroup_topic_lag_seconds_partitions",
}

// gathered renders c through a pedantic registry: family name -> series
// (label pairs as text) -> value.
func gathered(t *testing.T, c *Collector) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return series(t, reg)
}

// TestEnumsCurrent: with metrics.enums=current the enum-like families keep
// exactly the series of "all" whose value is not 0 (the current state or
// status, the sources in use), and every other family is unchanged.
func TestEnumsCurrent(t *testing.T) {
	if err := (Options{Enums: "some"}).Validate(); err == nil {
		t.Error("enums \"some\" accepted")
	}
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			all := gathered(t, NewCollector(static(fixture()), Options{Granularity: g}))
			cur := gathered(t, NewCollector(static(fixture()), Options{Granularity: g, Enums: EnumsCurrent}))
			if len(all) != len(cur) {
				t.Fatalf("%d families with all, %d with current", len(all), len(cur))
			}
			trimmed := 0
			for name, series := range all {
				if !slices.Contains(enumFamilies, name) {
					if fmt.Sprint(series) != fmt.Sprint(cur[name]) {
						t.Errorf("%s differs:\n all %v\n current %v", name, series, cur[name])
					}
					continue
				}
				for s, v := range series {
					_, kept := cur[name][s]
					if kept != (v != 0) {
						t.Errorf("%s{%s} = %v with all; kept with current: %v", name, s, v, kept)
					}
					if !kept {
						trimmed++
					}
				}
				if len(cur[name]) == 0 {
					t.Errorf("%s: no series left with current", name)
				}
			}
			if trimmed == 0 {
				t.Error("current trimmed nothing")
			}
		})
	}
}

// seriesPerGroupTopic counts, per group+topic, the series carrying both a
// group and a topic label.
func seriesPerGroupTopic(t *testing.T, c *Collector) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, series := range gathered(t, c) {
		for s := range series {
			var group, topic string
			for _, kv := range strings.Split(s, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case labelGroup:
					group = v
				case labelTopic:
					topic = v
				}
			}
			if group != "" && topic != "" {
				counts[group+"/"+topic]++
			}
		}
	}
	return counts
}

// laggingGroups is a Result of groups like a busy cluster's: each on two
// topics of 4 partitions, lagging, time lag interpolated, status and rates
// known, offsets on the expiry tracker (not expired).
func laggingGroups(n int) *result.Result {
	at := time.Unix(1_750_000_000, 0)
	cr := result.ClusterResult{Name: "c", Up: true, LastPoll: at, LastSuccess: at, Polls: 1}
	for gi := range n {
		g := result.GroupResult{Name: fmt.Sprintf("g%d", gi), Type: "classic", State: "Stable", Members: 2,
			Status: "WARN", HasLagSeconds: true, MaxLagSeconds: 12}
		ge := result.GroupExpiry{Group: g.Name, Type: "classic", State: "Stable", Present: true}
		for _, topic := range []string{"orders", "payments"} {
			gt := result.GroupTopicResult{Topic: topic, Status: "WARN", HasLagSeconds: true, MaxLagSeconds: 12,
				HasRates: true, ProduceRate: 10, ConsumeRate: 12, HasCatchUp: true, CatchUpSeconds: 50}
			for p := range int32(4) {
				gt.Partitions = append(gt.Partitions, result.PartitionLag{Partition: p, Committed: 100, End: 150,
					Lag: 50, HasLag: true, LagSeconds: 12, LagSecondsSource: result.LagSourceInterpolated, Status: result.StatusWarn})
				gt.SumLag += 50
				gt.MaxLag = 50
			}
			g.Topics = append(g.Topics, gt)
			ge.Topics = append(ge.Topics, result.TopicExpiry{Topic: topic, LastCommitChange: at})
		}
		g.SumLag, g.MaxLag = 400, 50
		cr.Groups = append(cr.Groups, g)
		cr.Expiry = append(cr.Expiry, ge)
	}
	return &result.Result{Generated: at, Clusters: []result.ClusterResult{cr}}
}

// TestSeriesPerGroupTopic counts the series per group+topic (those with
// both labels) at topic granularity: 21 with enums=all (9 aggregates, 1
// expiry, 7 statuses, 4 time-lag sources), 12 with enums=current when the
// partitions' time lag comes from one source. README "Cardinality" quotes
// these counts.
func TestSeriesPerGroupTopic(t *testing.T) {
	r := laggingGroups(3)
	all := seriesPerGroupTopic(t, NewCollector(static(r), Options{Granularity: GranularityTopic}))
	cur := seriesPerGroupTopic(t, NewCollector(static(r), Options{Granularity: GranularityTopic, Enums: EnumsCurrent}))
	if len(all) != 6 || len(cur) != 6 {
		t.Fatalf("group+topics: %d with all, %d with current; want 6", len(all), len(cur))
	}
	for gt, n := range cur {
		t.Logf("%s: %d series with all, %d with current", gt, all[gt], n)
		if n > 12 {
			t.Errorf("%s: %d series with enums=current, want at most 12", gt, n)
		}
		if all[gt]-n != 6+3 {
			t.Errorf("%s: current saves %d series, want 9 (6 statuses, 3 unused sources)", gt, all[gt]-n)
		}
	}
}

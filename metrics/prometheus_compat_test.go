package metrics

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// series flattens gathered families into name -> "label=value,..." ->
// value, with kafka_exporter's consumergroup label renamed to group so
// that compat and native series can be compared.
func series(t *testing.T, g prometheus.Gatherer) map[string]map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		m := map[string]float64{}
		for _, s := range mf.GetMetric() {
			var kv []string
			for _, lp := range s.GetLabel() {
				name := lp.GetName()
				if name == labelConsumerGroup {
					name = labelGroup
				}
				kv = append(kv, name+"="+lp.GetValue())
			}
			sort.Strings(kv)
			m[strings.Join(kv, ",")] = value(s)
		}
		out[mf.GetName()] = m
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// TestCompatKafkaExporter checks every kafka_exporter family against the
// native family it mirrors, series by series, on the fixture (which has
// partitions without a commit, unknown end offsets and a commit beyond the
// log end), at both granularities, through the registry and WriteText.
func TestCompatKafkaExporter(t *testing.T) {
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			c := NewCollector(static(fixture()), Options{Granularity: g, Compat: CompatKafkaExporter})
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)
			got := series(t, reg)
			// The text path renders the same series.
			if text := series(t, textGatherer(c)); !mapsEqual(got, text) {
				t.Errorf("WriteText and Collect differ with compat on")
			}
			same := map[string]string{
				"kafka_brokers":               "offsetlag_brokers",
				"kafka_consumergroup_members": "offsetlag_consumergroup_members",
				"kafka_consumergroup_lag_sum": "offsetlag_consumergroup_topic_sum_lag",
			}
			if g == GranularityPartition {
				same["kafka_consumergroup_lag"] = "offsetlag_consumergroup_lag"
				same["kafka_consumergroup_current_offset"] = "offsetlag_consumergroup_committed_offset"
				same["kafka_topic_partition_current_offset"] = "offsetlag_partition_end_offset"
				same["kafka_topic_partition_oldest_offset"] = "offsetlag_partition_start_offset"
			}
			for compat, native := range same {
				if len(got[native]) == 0 {
					t.Fatalf("fixture has no %s series", native)
				}
				if !mapsEqual(map[string]map[string]float64{"": got[compat]}, map[string]map[string]float64{"": got[native]}) {
					t.Errorf("%s differs from %s:\n%v\n%v", compat, native, got[compat], got[native])
				}
			}
			for name, ss := range got {
				if !strings.HasPrefix(name, "kafka_") {
					continue
				}
				for k, v := range ss {
					if v < 0 {
						t.Errorf("%s{%s} = %v: kafka_exporter's -1 must not be served", name, k, v)
					}
					if g == GranularityTopic && strings.Contains(k, labelPartition+"=") {
						t.Errorf("%s{%s}: partition label at topic granularity", name, k)
					}
				}
			}
			// kafka_topic_partitions counts the topic's partitions.
			r := fixture()
			for _, cr := range r.Clusters {
				for _, tp := range cr.Topics {
					k := "cluster_name=" + cr.Name + ",topic=" + tp.Name
					if v, ok := got["kafka_topic_partitions"][k]; !ok || v != float64(len(tp.Partitions)) {
						t.Errorf("kafka_topic_partitions{%s} = %v (present %v), want %d", k, v, ok, len(tp.Partitions))
					}
				}
			}
			// kafka_consumergroup_current_offset_sum sums the commits of
			// the group on the topic.
			if g == GranularityPartition {
				sums := map[string]float64{}
				for k, v := range got["offsetlag_consumergroup_committed_offset"] {
					var keep []string
					for _, kv := range strings.Split(k, ",") {
						if !strings.HasPrefix(kv, labelPartition+"=") {
							keep = append(keep, kv)
						}
					}
					sums[strings.Join(keep, ",")] += v
				}
				if !mapsEqual(map[string]map[string]float64{"": sums}, map[string]map[string]float64{"": got["kafka_consumergroup_current_offset_sum"]}) {
					t.Errorf("current_offset_sum %v, want %v", got["kafka_consumergroup_current_offset_sum"], sums)
				}
			}
			problems, err := testutil.GatherAndLint(reg)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				// kafka_exporter's names, kept for its users' queries.
				if strings.HasSuffix(p.Metric, "_sum") && strings.Contains(p.Text, `"_sum" suffix`) {
					continue
				}
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

// TestCompatOffByDefault: without metrics.compat no kafka_ family exists.
func TestCompatOffByDefault(t *testing.T) {
	c := NewCollector(static(fixture()), Options{})
	for _, f := range c.families {
		if strings.HasPrefix(f.name, "kafka_") {
			t.Errorf("%s described without compat", f.name)
		}
	}
	if err := (Options{Compat: "kminion"}).Validate(); err == nil {
		t.Error("compat kminion accepted")
	}
	for _, ok := range []Compat{"", CompatNone, CompatKafkaExporter} {
		if err := (Options{Compat: ok}).Validate(); err != nil {
			t.Errorf("compat %q: %v", ok, err)
		}
	}
	c = NewCollector(static(fixture()), Options{Compat: CompatKafkaExporter})
	var names []string
	for _, f := range c.families {
		if strings.HasPrefix(f.name, "kafka_") {
			names = append(names, f.name)
		}
	}
	want := []string{"kafka_brokers", "kafka_consumergroup_current_offset", "kafka_consumergroup_current_offset_sum",
		"kafka_consumergroup_lag", "kafka_consumergroup_lag_sum", "kafka_consumergroup_members",
		"kafka_topic_partition_current_offset", "kafka_topic_partition_oldest_offset", "kafka_topic_partitions"}
	if !slices.Equal(names, want) {
		t.Errorf("compat families %v, want %v", names, want)
	}
}

func mapsEqual(a, b map[string]map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, am := range a {
		bm, ok := b[k]
		if !ok || len(am) != len(bm) {
			return false
		}
		for kk, v := range am {
			if bv, ok := bm[kk]; !ok || bv != v {
				return false
			}
		}
	}
	return true
}

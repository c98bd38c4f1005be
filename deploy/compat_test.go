package deploy_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// compatQueries pair queries written for kafka_exporter (its dashboards,
// such as Grafana 7589, and the alerts in its users' hands) with the
// native query that must give the same numbers. Labels are compared with
// consumergroup read as group.
var compatQueries = []struct{ name, kafkaExporter, native string }{
	{"lag per partition", `kafka_consumergroup_lag`, `offsetlag_consumergroup_lag`},
	{"lag per group and topic (7589)", `sum by (consumergroup, topic) (kafka_consumergroup_lag)`,
		`sum by (group, topic) (offsetlag_consumergroup_lag)`},
	{"lag sum", `kafka_consumergroup_lag_sum`, `offsetlag_consumergroup_topic_sum_lag`},
	{"lag sum alert", `kafka_consumergroup_lag_sum > 100`, `offsetlag_consumergroup_topic_sum_lag > 100`},
	{"lag per group alert", `sum by (consumergroup) (kafka_consumergroup_lag) > 50`,
		`sum by (group) (offsetlag_consumergroup_sum_lag) > 50`},
	{"max lag per group and topic", `max by (consumergroup, topic) (kafka_consumergroup_lag)`,
		`max by (group, topic) (offsetlag_consumergroup_topic_max_lag)`},
	{"committed offset", `kafka_consumergroup_current_offset`, `offsetlag_consumergroup_committed_offset`},
	{"committed offset sum", `kafka_consumergroup_current_offset_sum`,
		`sum by (cluster_name, group, topic, instance, job) (offsetlag_consumergroup_committed_offset)`},
	{"consume rate (7589)", `sum by (consumergroup, topic) (rate(kafka_consumergroup_current_offset[1m]))`,
		`sum by (group, topic) (rate(offsetlag_consumergroup_committed_offset[1m]))`},
	{"members", `kafka_consumergroup_members`, `offsetlag_consumergroup_members`},
	{"log end offset", `kafka_topic_partition_current_offset`, `offsetlag_partition_end_offset`},
	{"log start offset", `kafka_topic_partition_oldest_offset`, `offsetlag_partition_start_offset`},
	{"messages in per second (7589)", `sum by (topic) (rate(kafka_topic_partition_current_offset[1m]))`,
		`sum by (topic) (rate(offsetlag_partition_end_offset[1m]))`},
	{"records retained", `sum by (topic) (kafka_topic_partition_current_offset - kafka_topic_partition_oldest_offset)`,
		`sum by (topic) (offsetlag_partition_end_offset - offsetlag_partition_start_offset)`},
	{"partitions per topic", `kafka_topic_partitions`,
		`count by (cluster_name, topic, instance, job) (offsetlag_partition_end_offset)`},
	{"brokers", `kafka_brokers`, `offsetlag_brokers`},
}

// TestKafkaExporterCompat runs the exporter with
// --metrics.compat=kafka_exporter against an in-process cluster (a
// lagging group, a group with commits on some partitions only, a live
// consumer, a producer), has a real Prometheus scrape it, and evaluates
// kafka_exporter-era queries and their native counterparts at the same
// instant: the numbers must be the same, series by series, and no
// kafka_* series may be negative (kafka_exporter serves -1 for partitions
// without a commit; we leave them out).
func TestKafkaExporterCompat(t *testing.T) {
	testenv.SkipShort(t, "runs Prometheus")
	promtest.Binary(t)
	cluster := kfaketest.New(t, kfake.NumBrokers(3), kfake.SeedTopics(3, "orders"), kfake.SeedTopics(2, "payments"))
	brokers := cluster.ListenAddrs()
	var rs []*kgo.Record
	for _, tp := range []struct {
		topic string
		parts int32
	}{{"orders", 3}, {"payments", 2}} {
		for p := int32(0); p < tp.parts; p++ {
			for i := 0; i < 200+int(p)*50; i++ {
				rs = append(rs, &kgo.Record{Topic: tp.topic, Partition: p, Value: []byte("x")})
			}
		}
	}
	cluster.ProduceRecords(t, rs...)
	commit := func(group string, at map[string]map[int32]int64) {
		os := kadm.Offsets{}
		for topic, ps := range at {
			for p, o := range ps {
				os.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
			}
		}
		cluster.CommitOffsets(t, group, os)
	}
	// billing lags on every partition of orders; audit committed on
	// orders/0 and payments/1 only (kafka_exporter: -1 elsewhere).
	commit("billing", map[string]map[int32]int64{"orders": {0: 10, 1: 120, 2: 300}})
	commit("audit", map[string]map[int32]int64{"orders": {0: 150}, "payments": {1: 5}})

	// live: a consumer that keeps up with a producer on payments.
	defer cluster.KeepUp(t, "live", []string{"payments"}, 50*time.Millisecond, func(i int) []*kgo.Record {
		return []*kgo.Record{{Topic: "payments", Partition: int32(i % 2), Value: []byte("y")},
			{Topic: "orders", Partition: int32(i % 3), Value: []byte("z")}}
	})()

	exp := startExporter(t, brokers, "--poll.interval", "500ms", "--metrics.compat", "kafka_exporter",
		"--kafka.cluster-name", "kfake")
	ps := promtest.Start(t, exp.addr, nil)

	// Wait until Prometheus has 10 s of samples of every family compared
	// (the rates look back 1 m) and the live group has a member.
	deadline := time.Now().Add(90 * time.Second)
	var at time.Time
	for {
		at = time.Now()
		ok := len(ps.Query(t, `kafka_consumergroup_members{consumergroup="live"} > 0`)) == 1 &&
			len(ps.Query(t, `count_over_time(kafka_consumergroup_lag{consumergroup="billing",partition="0"}[1m]) >= 10`)) == 1
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compat data in Prometheus within 90 s\nexporter log:\n%s\nprometheus log:\n%s",
				tail(exp.logs.String(), 2000), tail(ps.Logs(), 1500))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Every query pair at the same instant: the same scrape.
	for _, q := range compatQueries {
		ke := ps.QueryAt(t, q.kafkaExporter, at)
		nat := ps.QueryAt(t, q.native, at)
		if len(ke) == 0 {
			t.Errorf("%s: %s returns nothing", q.name, q.kafkaExporter)
			continue
		}
		if !equalSamples(ke, nat) {
			t.Errorf("%s: %s and %s differ:\n  %s\n  %s", q.name, q.kafkaExporter, q.native, fmtSamples(ke), fmtSamples(nat))
			continue
		}
		t.Logf("%s: %s = %s: %d series equal", q.name, q.kafkaExporter, q.native, len(ke))
	}

	// The semantics that differ on purpose: no -1, no series without a commit.
	if neg := ps.QueryAt(t, `{__name__=~"kafka_.+"} < 0`, at); len(neg) > 0 {
		t.Errorf("negative kafka_* series: %s", fmtSamples(neg))
	}
	if s := ps.QueryAt(t, `kafka_consumergroup_lag{consumergroup="audit"}`, at); len(s) != 2 {
		t.Errorf("audit committed on 2 partitions: %d lag series, want 2 (none for the other 3): %s", len(s), fmtSamples(s))
	}
	if s := ps.QueryAt(t, `kafka_consumergroup_lag{consumergroup="billing", topic="orders", partition="0"}`, at); len(s) != 1 {
		t.Errorf("billing orders/0: %s", fmtSamples(s))
	}
}

// sampleKey is a sample's labels without __name__, consumergroup read as
// group.
func sampleKey(s promtest.Sample) string {
	var kv []string
	for k, v := range s.Metric {
		switch k {
		case "__name__":
			continue
		case "consumergroup":
			k = "group"
		}
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func equalSamples(a, b []promtest.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, s := range a {
		m[sampleKey(s)] = s.Value()
	}
	for _, s := range b {
		if v, ok := m[sampleKey(s)]; !ok || v != s.Value() {
			return false
		}
	}
	return true
}

func fmtSamples(ss []promtest.Sample) string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, "{"+sampleKey(s)+"} "+s.Value())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

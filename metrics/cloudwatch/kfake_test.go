package cloudwatch_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// kafkaFixture is a one-broker kfake cluster with
//
//	orders   4 partitions, partition p holds 10+p records
//	payments 2 partitions, 5 records each, records below 3 of partition 0 deleted
//
// and simple groups g-all (every orders partition at end-3), g-partial
// (orders 0 at 2) and g-lost (payments 0 at 1: out of range).
type kafkaFixture struct {
	cluster *kfaketest.Cluster
	client  *kgo.Client
}

func newKafkaFixture(t *testing.T) *kafkaFixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(4, "orders"), kfake.SeedTopics(2, "payments"))
	cl := c.Client
	f := &kafkaFixture{cluster: c, client: cl}
	for p := range 4 {
		f.produce(t, "orders", p, 10+p)
	}
	for p := range 2 {
		f.produce(t, "payments", p, 5)
	}
	adm := kadm.NewClient(cl)
	commit := func(group string, offs ...kadm.Offset) {
		os := kadm.Offsets{}
		for _, o := range offs {
			o.LeaderEpoch = -1
			os.Add(o)
		}
		if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
			t.Fatalf("commit %s: %v", group, err)
		}
	}
	var all []kadm.Offset
	for p := range 4 {
		all = append(all, kadm.Offset{Topic: "orders", Partition: int32(p), At: int64(10+p) - 3})
	}
	commit("g-all", all...)
	commit("g-partial", kadm.Offset{Topic: "orders", Partition: 0, At: 2})
	commit("g-lost", kadm.Offset{Topic: "payments", Partition: 0, At: 1})
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "payments", Partition: 0, At: 3, LeaderEpoch: -1})
	if _, err := adm.DeleteRecords(ctx, del); err != nil {
		t.Fatalf("delete records: %v", err)
	}
	return f
}

func (f *kafkaFixture) produce(t *testing.T, topic string, partition, n int) {
	t.Helper()
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(partition), Value: []byte(fmt.Sprint(i))})
	}
	if err := f.client.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", topic, err)
	}
}

func (f *kafkaFixture) exporter(t *testing.T, name string, onResult func(*result.Result)) *exporter.Exporter {
	t.Helper()
	c, err := kafkaadmin.New(kafkaadmin.Config{Name: name, Brokers: f.cluster.ListenAddrs()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	opts := exporter.Options{OnResult: onResult}
	opts.Poll.Interval = time.Hour
	e, err := exporter.New([]exporter.Source{c}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// cwFamilies maps the Prometheus families to the CloudWatch metric with
// the same value.
var cwFamilies = map[string]string{
	"offsetlag_consumergroup_topic_sum_lag":           cloudwatch.MetricSumOffsetLag,
	"offsetlag_consumergroup_topic_max_lag":           cloudwatch.MetricMaxOffsetLag,
	"offsetlag_consumergroup_topic_max_lag_seconds":   cloudwatch.MetricMaxRecordAge,
	"offsetlag_consumergroup_out_of_range_partitions": cloudwatch.MetricPartitionsOutOfRange,
	"offsetlag_consumergroup_lag":                     cloudwatch.MetricOffsetLag,
	"offsetlag_consumergroup_lag_seconds":             cloudwatch.MetricRecordAge,
	"offsetlag_consumergroup_sum_lag":                 cloudwatch.MetricSumOffsetLag, // group totals
	"offsetlag_consumergroup_max_lag":                 cloudwatch.MetricMaxOffsetLag,
	"offsetlag_consumergroup_offsets_expired":         cloudwatch.MetricOffsetsExpired,
}

// promSeries returns what /metrics shows for the families of cwFamilies,
// as CloudWatch series and values.
func promSeries(t *testing.T, e *exporter.Exporter) ([]series, map[string]float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(e.Latest, metrics.Options{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ss []series
	want := map[string]float64{}
	// SecondsUntilOffsetExpiry is per group+topic in CloudWatch, per group
	// (the earliest topic) on /metrics: take it from the Result and check
	// each group's minimum against /metrics.
	cr := &e.Latest().Clusters[0]
	groupMin := map[string]float64{}
	for _, ge := range cr.Expiry {
		for _, te := range ge.Topics {
			if te.ExpiresAt.IsZero() {
				continue
			}
			v := max(te.ExpiresAt.Sub(cr.LastSuccess).Seconds(), 0)
			s := series{cloudwatch.MetricSecondsUntilOffsetExpiry, dims("Cluster Name", cr.Name, "Consumer Group", ge.Group, "Topic", te.Topic)}
			ss = append(ss, s)
			want[s.String()] = v
			if m, ok := groupMin[ge.Group]; !ok || v < m {
				groupMin[ge.Group] = v
			}
		}
	}
	for _, mf := range mfs {
		if mf.GetName() != "offsetlag_consumergroup_offsets_expiry_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var group string
			for _, l := range m.GetLabel() {
				if l.GetName() == "group" {
					group = l.GetValue()
				}
			}
			if v, ok := groupMin[group]; !ok || math.Abs(v-m.GetGauge().GetValue()) > 1e-6 {
				t.Errorf("group %s: /metrics expiry %v s, CloudWatch minimum %v s", group, m.GetGauge().GetValue(), v)
			}
			delete(groupMin, group)
		}
	}
	if len(groupMin) > 0 {
		t.Errorf("expiry countdowns missing from /metrics: %v", groupMin)
	}
	dimOf := map[string]string{"cluster_name": cloudwatch.DimClusterName, "group": cloudwatch.DimConsumerGroup,
		"topic": cloudwatch.DimTopic, "partition": cloudwatch.DimPartition}
	order := []string{"cluster_name", "group", "topic", "partition"}
	for _, mf := range mfs {
		name, ok := cwFamilies[mf.GetName()]
		if !ok {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			s := series{name: name}
			for _, l := range order {
				if v, ok := labels[l]; ok {
					s.dims = append(s.dims, cloudwatch.Dimension{Name: dimOf[l], Value: v})
				}
			}
			ss = append(ss, s)
			want[s.String()] = m.GetGauge().GetValue()
		}
	}
	return ss, want
}

// After polls of a Kafka cluster, CloudWatch holds per dimension exactly
// the values /metrics shows, at the poll's time.
func TestKafkaPollsReachCloudWatch(t *testing.T) {
	ep := mototest.Start(t)
	f := newKafkaFixture(t)
	proxy := newFaultProxy(t, ep)
	p := newPublisher(t, proxy.URL(), func(o *cloudwatch.Options) { o.PartitionMetrics = true })
	cluster := uniqueName("kfake")
	e := f.exporter(t, cluster, p.Enqueue)
	cw := mototest.CloudWatch(ep)

	sent := 0.0
	for poll := 1; poll <= 2; poll++ {
		if poll == 2 {
			// New records: lag grows on orders.
			f.produce(t, "orders", 1, 4)
			time.Sleep(1100 * time.Millisecond) // the second poll in another second than the first
		}
		res := e.PollAll(context.Background())
		cr, _ := resulttest.Cluster(res, cluster)
		if !cr.Up {
			t.Fatalf("poll %d: %s", poll, cr.LastError)
		}
		ss, want := promSeries(t, e)
		if len(ss) < 10 {
			t.Fatalf("poll %d: only %d series on /metrics", poll, len(ss))
		}
		sent += float64(len(ss)) + 2 // + the cluster totals, not on /metrics
		waitFor(t, "datums sent", 30*time.Second, func() bool {
			return selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", "") >= sent
		})
		if got := selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", ""); got != sent {
			t.Fatalf("poll %d: %v datums sent, /metrics has %v series (+2 cluster totals)", poll, got, sent)
		}
		got := getValues(t, cw, "", cr.LastSuccess, ss)
		for _, s := range ss {
			if v := got[s.String()]; len(v) != 1 || v[0] != want[s.String()] {
				t.Errorf("poll %d: %s = %v in CloudWatch, %v on /metrics", poll, s, v, want[s.String()])
			}
		}
		// Spot checks against the fixture.
		orders := func(group string) []cloudwatch.Dimension {
			return dims("Cluster Name", cluster, "Consumer Group", group, "Topic", "orders")
		}
		if poll == 1 {
			for _, c := range []struct {
				s    series
				want float64
			}{
				{series{"SumOffsetLag", orders("g-all")}, 12},
				{series{"MaxOffsetLag", orders("g-all")}, 3},
				{series{"MaxOffsetLag", orders("g-partial")}, 8},
				{series{"PartitionsOutOfRange", dims("Cluster Name", cluster, "Consumer Group", "g-lost", "Topic", "payments")}, 1},
			} {
				if v := want[c.s.String()]; v != c.want {
					t.Errorf("%s = %v, want %v", c.s, v, c.want)
				}
			}
		} else if v := want[series{"SumOffsetLag", orders("g-all")}.String()]; v != 16 {
			t.Errorf("poll 2: g-all SumOffsetLag %v, want 16", v)
		}
	}
	// A poll's data is published once: another Enqueue of the same Result
	// sends nothing.
	p.Enqueue(e.Latest())
	time.Sleep(200 * time.Millisecond)
	if got := selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", ""); got != sent {
		t.Errorf("re-enqueued Result sent again: %v", got)
	}
}

// With CloudWatch unreachable, polling goes on, the queue drops the oldest
// polls and counts their datums; when CloudWatch answers again, publishing
// resumes.
func TestOutageDropsOldestAndResumes(t *testing.T) {
	ep := mototest.Start(t)
	f := newKafkaFixture(t)
	proxy := newFaultProxy(t, ep)
	p := newPublisher(t, proxy.URL(), func(o *cloudwatch.Options) {
		o.QueueSize, o.Concurrency, o.MaxAttempts = 2, 1, 2
		o.RequestTimeout = 2 * time.Second
	})
	cluster := uniqueName("outage")
	e := f.exporter(t, cluster, p.Enqueue)

	proxy.setHang(true)
	const polls = 8
	for i := range polls {
		res := e.PollAll(context.Background())
		if cr, _ := resulttest.Cluster(res, cluster); !cr.Up || cr.Polls != uint64(i+1) {
			t.Fatalf("poll %d: up=%v polls=%d", i+1, cr.Up, cr.Polls)
		}
		time.Sleep(5 * time.Millisecond) // distinct LastSuccess per poll
	}
	// At most one poll is being sent, one waits for the sender, two are
	// queued: the rest were dropped, oldest first.
	if q := selfMetric(t, p, "offsetlag_cloudwatch_queue_length", ""); q != 2 {
		t.Errorf("queue length %v, want 2", q)
	}
	dropped := selfMetric(t, p, "offsetlag_cloudwatch_polls_dropped_total", "")
	if dropped < polls-4 {
		t.Errorf("%v polls dropped, want >= %d", dropped, polls-4)
	}
	ss, _ := promSeries(t, e)
	if d := selfMetric(t, p, "offsetlag_cloudwatch_datums_dropped_total", "queue_full"); d == 0 {
		t.Error("no datums counted as dropped")
	}
	// /metrics keeps working during the outage.
	if len(ss) == 0 {
		t.Error("no series on /metrics")
	}
	// The held requests time out and fail.
	waitFor(t, "a request to fail", 30*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_datums_failed_total", "") > 0
	})

	// CloudWatch is back: the queued polls go out, and so does a new one.
	proxy.setHang(false)
	last := e.PollAll(context.Background())
	cr, _ := resulttest.Cluster(last, cluster)
	waitFor(t, "queue drained", 30*time.Second, func() bool {
		return selfMetric(t, p, "offsetlag_cloudwatch_queue_length", "") == 0
	})
	want := series{"SumOffsetLag", dims("Cluster Name", cluster, "Consumer Group", "g-all", "Topic", "orders")}
	cw := mototest.CloudWatch(ep)
	waitFor(t, "the last poll in CloudWatch", 30*time.Second, func() bool {
		v := getValues(t, cw, "", cr.LastSuccess, []series{want})[want.String()]
		return len(v) > 0 && v[0] == 12
	})
	if s := selfMetric(t, p, "offsetlag_cloudwatch_datums_sent_total", ""); s == 0 {
		t.Error("nothing sent after recovery")
	}
}

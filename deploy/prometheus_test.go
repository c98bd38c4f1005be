package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// Timings of TestRealPrometheus. The in-process cluster deletes the
// commits of a group without members after retention (kfake's
// offset.retention.ms); the exporter is told the same retention, polls
// every pollInterval and evaluates its status rules over statusWindow
// polls; Prometheus scrapes and evaluates every second.
//
// The retention leaves room on a loaded machine for the stuck group's
// KafkaConsumerGroupStopped to fire (status window, for:, scrape and
// evaluation) before its own commits expire once its member left; polls
// are long enough not to time out under load (the poll timeout is the
// interval).
const (
	retention    = 20 * time.Second
	pollInterval = time.Second
	statusWindow = "4"
	alertWait    = 60 * time.Second // per awaited alert transition; seconds when the machine is quiet
)

// TestRealPrometheus runs the exporter binary against an in-process Kafka
// cluster, has a real Prometheus scrape it and evaluate the shipped alert
// rules (deploy/alerts/*.rules.yml, rendered with for: 2s; the expressions
// are the shipped ones), and reads /api/v1/alerts as a story unfolds:
//
//   - nightly: a classic consumer reads topic events, commits and leaves:
//     KafkaConsumerGroupOffsetsExpireSoon fires; the brokers delete its
//     commits one retention later: KafkaConsumerGroupOffsetsExpired fires
//     (after ExpireSoon); a consumer joins the group again and commits: both
//     resolve.
//   - stuck: committed at 0 on topic orders with 12,000 records written an
//     hour ago, a member that never commits: KafkaConsumerGroupLagHigh,
//     KafkaConsumerGroupTimeLagHigh and KafkaConsumerGroupStalled fire; the
//     member leaves: KafkaConsumerGroupStopped fires and Stalled resolves;
//     the group commits the log end: the lag alerts and Stopped resolve.
//   - behind: committed below the log start of topic archive:
//     KafkaConsumerGroupCommitOutOfRange fires.
//   - steady: a producer and a consumer that keeps up on events and has
//     caught up on archive (rates, catch-up time).
//
// Then every query of every panel of the shipped Grafana dashboard runs
// against that Prometheus over the test's time range and must return data;
// then the cluster stops (OffsetlagClusterUnreachable fires) and the
// exporter stops (OffsetlagExporterDown fires). The lambda-esm rules are
// loaded (they must parse and evaluate) but need Lambda discovery to fire:
// cmd/offsetlag-exporter's lambda tests cover their series.
func TestRealPrometheus(t *testing.T) {
	testenv.SkipShort(t, "runs Prometheus for about a minute")
	promtest.Binary(t) // skip or fail before building anything
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	cluster := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "orders", "events", "archive"),
		kfaketest.ExpiringOffsets(retention))
	brokers := cluster.ListenAddrs()
	cl := cluster.Client
	produce := func(topic string, perPartition int, ts time.Time) {
		t.Helper()
		var rs []*kgo.Record
		for p := int32(0); p < 2; p++ {
			for i := 0; i < perPartition; i++ {
				rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(`{"number":42}`), Timestamp: ts})
			}
		}
		for len(rs) > 0 {
			n := min(len(rs), 1000)
			cluster.ProduceRecords(t, rs[:n]...)
			rs = rs[n:]
		}
	}
	commit := func(group, topic string, at map[int32]int64) {
		t.Helper()
		cluster.Commit(t, group, topic, at)
	}

	exp := startExporter(t, brokers, "--poll.interval", pollInterval.String(), "--status.window", statusWindow,
		"--kafka.offsets-retention", retention.String(), "--expiry.tolerance", (retention / 3).String(),
		"--kafka.cluster-name", "kfake")
	ps := promtest.Start(t, exp.addr, promtest.RenderRules(t, "alerts", t.TempDir()))
	rec := promtest.NewRecorder(ps)
	defer rec.Close()
	diag := func() string {
		return "exporter /metrics:\n" + exp.metricLines("offsetlag_consumergroup_status", "offsetlag_consumergroup_topic_sum_lag",
			"offsetlag_consumergroup_offsets_", "offsetlag_consumergroup_max_lag_seconds", "offsetlag_consumergroup_members",
			"offsetlag_consumergroup_out_of_range", "offsetlag_consumergroup_records_lost", "offsetlag_up") +
			"\nexporter log (tail):\n" + tail(exp.logs.String(), 3000) + "\nprometheus log (tail):\n" + tail(ps.Logs(), 1500)
	}

	// Topics: events (the nightly and steady groups), orders (12,000 records
	// written an hour ago), archive (retention deleted its first records).
	produce("events", 50, time.Time{})
	produce("orders", 6000, time.Now().Add(-time.Hour))
	produce("archive", 10, time.Time{})

	// behind: committed at 2, log start moved to 5, a member that never
	// commits (so that its commits do not expire meanwhile).
	commit("behind", "archive", map[int32]int64{0: 2})
	cluster.DeleteRecords(t, "archive", 0, 5)
	behind, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("behind"), kgo.ConsumeTopics("archive"),
		kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()

	// stuck: committed at 0, then a member joins and never commits.
	commit("stuck", "orders", map[int32]int64{0: 0, 1: 0})
	stuck, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("stuck"), kgo.ConsumeTopics("orders"),
		kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	stuckOpen := true
	defer func() {
		if stuckOpen {
			stuck.Close()
		}
	}()

	// steady: a producer and a consumer that keeps up on events, and has
	// caught up on archive (lag 0: a known catch-up time of 0).
	stopSteady := cluster.KeepUp(t, "steady", []string{"events", "archive"}, 100*time.Millisecond, func(i int) []*kgo.Record {
		return []*kgo.Record{{Topic: "events", Partition: int32(i % 2), Value: []byte(`{"number":7}`)}}
	})

	// nightly: reads what is there, commits and leaves (Empty).
	consumeAndCommit := func(group string, keep bool) *kgo.Client {
		t.Helper()
		c, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics("events"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 100; {
			fs := c.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("%s: no records", group)
			}
			n += fs.NumRecords()
		}
		if err := c.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
		if !keep {
			c.Close()
			return nil
		}
		return c
	}
	consumeAndCommit("nightly", false)

	// The expiry story.
	soon := rec.WaitFiring(t, "KafkaConsumerGroupOffsetsExpireSoon", "nightly", alertWait, diag)
	if v, err := strconv.ParseFloat(soon.Value, 64); err != nil || v < 0 || v > retention.Seconds() {
		t.Errorf("ExpireSoon value %q, want the seconds left (0..%v)", soon.Value, retention.Seconds())
	}
	expired := rec.WaitFiring(t, "KafkaConsumerGroupOffsetsExpired", "nightly", alertWait+retention, diag)
	if !expired.Fired.After(soon.Fired) {
		t.Errorf("Expired fired at %s, not after ExpireSoon (%s)", expired.Fired, soon.Fired)
	}
	if expired.Labels["topic"] != "events" || expired.Labels["cluster_name"] != "kfake" || expired.Labels["severity"] != "critical" {
		t.Errorf("Expired labels %v", expired.Labels)
	}
	back := consumeAndCommit("nightly", true)
	defer back.Close()
	rec.WaitResolved(t, "KafkaConsumerGroupOffsetsExpired", "nightly", alertWait, diag)
	rec.WaitResolved(t, "KafkaConsumerGroupOffsetsExpireSoon", "nightly", alertWait, diag)

	// The lag story (its alerts fired meanwhile).
	lagHigh := rec.WaitFiring(t, "KafkaConsumerGroupLagHigh", "stuck", alertWait, diag)
	if v, _ := strconv.ParseFloat(lagHigh.Value, 64); v != 12000 || lagHigh.Labels["topic"] != "orders" {
		t.Errorf("LagHigh value %s labels %v, want 12000 on orders", lagHigh.Value, lagHigh.Labels)
	}
	timeLag := rec.WaitFiring(t, "KafkaConsumerGroupTimeLagHigh", "stuck", alertWait, diag)
	if v, _ := strconv.ParseFloat(timeLag.Value, 64); v < 3500 || v > 3600+time.Since(start).Seconds()+60 {
		t.Errorf("TimeLagHigh value %s s, want about an hour (records written an hour ago)", timeLag.Value)
	}
	rec.WaitFiring(t, "KafkaConsumerGroupStalled", "stuck", alertWait, diag)
	rec.WaitFiring(t, "KafkaConsumerGroupCommitOutOfRange", "behind", alertWait, diag)
	stuck.Close()
	stuckOpen = false
	rec.WaitFiring(t, "KafkaConsumerGroupStopped", "stuck", alertWait, diag)
	rec.WaitResolved(t, "KafkaConsumerGroupStalled", "stuck", alertWait, diag)
	commit("stuck", "orders", map[int32]int64{0: 6000, 1: 6000})
	for _, name := range []string{"KafkaConsumerGroupLagHigh", "KafkaConsumerGroupTimeLagHigh", "KafkaConsumerGroupStopped"} {
		rec.WaitResolved(t, name, "stuck", alertWait, diag)
	}

	// Every dashboard query returns data over the test's time range.
	checkDashboardQueries(t, ps, start)

	// The exporter-health alerts: the cluster goes away, then the exporter.
	stopSteady()
	back.Close()
	cl.Close()
	cluster.Close()
	rec.WaitFiring(t, "OffsetlagClusterUnreachable", "", alertWait, diag)
	exp.stop()
	down := rec.WaitFiring(t, "OffsetlagExporterDown", "", alertWait, diag)
	if down.Labels["instance"] != exp.addr {
		t.Errorf("ExporterDown labels %v, want instance %s", down.Labels, exp.addr)
	}
	t.Logf("alert story done in %s", time.Since(start).Round(time.Second))
}

// checkDashboardQueries runs every query of every panel of the shipped
// dashboard (and its template variables) with $cluster and $group set to
// All, as a range query from start to now, and lists the panels that
// return nothing.
func checkDashboardQueries(t *testing.T, ps *promtest.Server, start time.Time) {
	t.Helper()
	d := promtest.LoadDashboard(t)
	all := strings.NewReplacer("$cluster", ".*", "$group", ".*")
	end := time.Now()
	var empty []string
	queries := 0
	var walk func(ps []promtest.Panel)
	walk = func(panels []promtest.Panel) {
		for _, p := range panels {
			walk(p.Panels)
			var exprs []string
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			if haPanel(exprs) {
				// Needs --ha.enabled replicas: e2e's
				// TestReliabilityHAReplicasKill runs these queries
				// against a real Prometheus scraping three replicas.
				t.Logf("panel %q: HA replicas only, checked by e2e", p.Title)
				continue
			}
			for _, tg := range p.Targets {
				queries++
				expr := all.Replace(tg.Expr)
				series, points := ps.QueryRange(t, expr, start, end)
				t.Logf("panel %q: %s: %d series, %d points", p.Title, tg.Expr, series, points)
				if points == 0 {
					empty = append(empty, fmt.Sprintf("%q (%s)", p.Title, tg.Expr))
				}
			}
		}
	}
	walk(d.Panels)
	if queries < 10 {
		t.Errorf("only %d dashboard queries found", queries)
	}
	// Template variables: label_values(metric{...}, label).
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := all.Replace(v.Definition)
		if !strings.HasPrefix(q, "label_values(") || !strings.HasSuffix(q, ")") {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
			continue
		}
		args := q[len("label_values(") : len(q)-1]
		i := strings.LastIndex(args, ",")
		sel, label := strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+1:])
		var values []string
		ps.API(t, "/api/v1/label/"+label+"/values", url.Values{"match[]": {sel},
			"start": {fmt.Sprint(start.Unix())}, "end": {fmt.Sprint(end.Unix() + 1)}}, &values)
		t.Logf("variable %s: %s: %v", v.Name, v.Definition, values)
		if len(values) == 0 {
			empty = append(empty, fmt.Sprintf("variable %s (%s)", v.Name, v.Definition))
		}
	}
	if len(empty) > 0 {
		t.Errorf("%d dashboard queries returned no data:\n  %s", len(empty), strings.Join(empty, "\n  "))
	}
}

// haPanel reports whether every query of a panel reads HA replica metrics
// (offsetlag_ha_*), which only an exporter with --ha.enabled serves.
func haPanel(exprs []string) bool {
	if len(exprs) == 0 {
		return false
	}
	for _, e := range exprs {
		if !strings.Contains(e, "offsetlag_ha_") {
			return false
		}
	}
	return true
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

package metrics

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/offsetlag/offsetlag/exporter/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a hand-built Result that exercises every family and every
// "value unknown, leave the series out" rule. The comments give the values
// the golden files must show.
func fixture() *result.Result {
	at := time.Date(2025, 5, 1, 12, 0, 0, 500_000_000, time.UTC) // 1746100800.5
	return &result.Result{
		Generated: at,
		Clusters: []result.ClusterResult{
			{
				Name:         "alpha",
				Up:           true,
				LastPoll:     at,
				LastSuccess:  at,
				PollDuration: 45 * time.Millisecond,
				PollPhases: []result.PollPhase{{Phase: "requests", Duration: 30 * time.Millisecond}, {Phase: "lag", Duration: 5 * time.Millisecond},
					{Phase: "expiry", Duration: 2 * time.Millisecond}, {Phase: "trends", Duration: 6 * time.Millisecond}, {Phase: "record_times", Duration: 2 * time.Millisecond}},
				Requests: map[string]uint64{
					"Metadata": 12, "ListOffsets": 24, "ListGroups": 12,
					"DescribeGroups": 12, "ConsumerGroupDescribe": 12, "OffsetFetch": 12,
				},
				Polls:      12,
				PollErrors: 1,
				Brokers:    3,
				// Partial last poll: broker 2's ListOffsets failed, the end
				// of orders/2 is carried from a read 90 s old.
				BrokerHealth: []result.BrokerHealth{{ID: 1, Up: true}, {ID: 2, Failed: []string{"ListOffsets"}}, {ID: 3, Up: true}},
				OldestRead:   at.Add(-90 * time.Second),
				// Expiry: retention 7 days from the brokers.
				OffsetsRetention: 7 * 24 * time.Hour, OffsetsRetentionSource: "broker",
				Expiry: []result.GroupExpiry{
					{
						// Simple group: clock from its last commit change,
						// 1 hour left; unknown starting position: both
						// estimates.
						Group: "admin-tool", Type: "simple", State: "Empty", Present: true,
						ExpiresAt: at.Add(time.Hour), ExpiresIn: time.Hour,
						Topics: []result.TopicExpiry{{Topic: "orders", LastCommitChange: at.Add(-167 * time.Hour),
							ExpiresAt: at.Add(time.Hour), RecordsAtRisk: []result.RecordsAtRisk{
								{StartingPosition: "earliest", Records: 100}, {StartingPosition: "latest", Records: 0}}}},
						// A disabled Lambda ESM on it, within its horizon.
						Lambda: []result.LambdaESM{{FunctionName: "factor", UUID: "a1b2", State: "Disabled",
							StartingPosition: "earliest", Horizon: 48 * time.Hour, ExpiresWithinHorizon: true}},
					},
					{
						// Stable classic group: no clock, expired 0.
						Group: "billing", Type: "classic", State: "Stable", Present: true,
						Topics: []result.TopicExpiry{{Topic: "orders", LastCommitChange: at}},
					},
					{
						// Expected (a disabled Lambda ESM), gone: expired on
						// orders, missing, 150 records skipped with latest.
						Group: "lambda-esm", Expected: true, StartingPosition: "latest", Missing: true,
						Topics: []result.TopicExpiry{{Topic: "orders", Expired: true, ExpiredAt: at.Add(-time.Hour),
							RecordsAtRisk: []result.RecordsAtRisk{{StartingPosition: "latest", Records: 150}}}},
						// Its ESM: already expired, so no longer "within".
						Lambda: []result.LambdaESM{{FunctionName: "nightly", UUID: "c3d4", State: "Disabled",
							StartingPosition: "latest", Horizon: 48 * time.Hour}},
					},
					{
						// Empty classic group past due: expiry seconds clamp at 0.
						Group: "reports", Type: "classic", State: "Empty", Present: true,
						EmptySince: at.Add(-8 * 24 * time.Hour), EmptySinceExact: true,
						ExpiresAt: at.Add(-24 * time.Hour), ExpiresIn: 0,
						Topics: []result.TopicExpiry{{Topic: "payments", ExpiresAt: at.Add(-24 * time.Hour)}},
					},
				},
				Topics: []result.TopicResult{
					{Name: "orders", Partitions: []result.PartitionOffsets{
						{Partition: 0, Start: 0, End: 100, HasStart: true, HasEnd: true},
						{Partition: 1, Start: 50, End: 200, HasStart: true, HasEnd: true},
						// End unknown (ListOffsets failed for its leader): only a start series.
						{Partition: 2, Start: 10, HasStart: true},
					}},
					{Name: "payments", Partitions: []result.PartitionOffsets{
						{Partition: 0, Start: 0, End: 40, HasStart: true, HasEnd: true},
						// Neither bound known: no series at all.
						{Partition: 1},
					}},
				},
				Groups: []result.GroupResult{
					{
						// Committed by an admin tool on partition 0 of orders only.
						Name: "admin-tool", Type: "simple", State: "Empty", Status: "OK", ReadAt: at,
						HasLagSeconds: true,
						Topics: []result.GroupTopicResult{{
							Topic: "orders", Status: "OK", HasLagSeconds: true,
							Partitions: []result.PartitionLag{
								{Partition: 0, Committed: 100, End: 100, Lag: 0, HasLag: true,
									LagSecondsSource: result.LagSourceCaughtUp, Status: result.StatusOK},
							},
							PartitionsWithoutCommit: 2,
						}},
						PartitionsWithoutCommit: 2,
					},
					{
						// KIP-848 group; the broker spells its state in capitals.
						Name: "audit", Type: "consumer", State: "RECONCILING", Members: 1,
						SumLag: 0, MaxLag: 0,
						Topics: []result.GroupTopicResult{{
							Topic: "payments",
							Partitions: []result.PartitionLag{
								{Partition: 0, Committed: 40, End: 40, Lag: 0, HasLag: true},
							},
							PartitionsWithoutCommit: 1,
						}},
						PartitionsWithoutCommit: 1,
					},
					{
						// Carried: its coordinator did not answer the last poll.
						Name: "billing", Type: "classic", State: "Stable", Members: 2, ReadAt: at.Add(-90 * time.Second),
						SumLag: 190, MaxLag: 180, OutOfRange: 1, RecordsLost: 30,
						PartitionsWithoutCommit: 2,
						MaxLagSeconds:           300, HasLagSeconds: true, Status: "STALL",
						Topics: []result.GroupTopicResult{
							{
								Topic:  "orders",
								SumLag: 190, MaxLag: 180, OutOfRange: 1, RecordsLost: 30,
								MaxLagSeconds: 300, HasLagSeconds: true, Status: "STALL",
								// Gaining 1 record/s on a lag of 190: 190 s to catch up.
								ProduceRate: 2.5, ConsumeRate: 3.5, HasRates: true, CatchUpSeconds: 190, HasCatchUp: true,
								Partitions: []result.PartitionLag{
									{Partition: 0, Committed: 90, End: 100, Lag: 10, HasLag: true,
										LagSeconds: 12.5, LagSecondsSource: result.LagSourceInterpolated, Status: result.StatusOK},
									// Committed below log start 50: out of range, 30 records lost.
									{Partition: 1, Committed: 20, End: 200, Lag: 180, HasLag: true, OutOfRange: true, RecordsLost: 30,
										LagSeconds: 300, LagSecondsSource: result.LagSourceExact, Status: result.StatusStall},
									// End offset unknown: committed offset but no lag series.
									{Partition: 2, Committed: 15},
								},
							},
							{
								// Subscribed, nothing committed: no lag, no topic sum/max.
								Topic:                   "payments",
								PartitionsWithoutCommit: 2,
							},
						},
					},
					{
						// Unknown type and state map to other / Unknown; no topics, no lag families.
						Name: "share-readers", Type: "share", State: "NotReady",
					},
				},
			},
			{
				// Unreachable since start: no success yet, so no brokers, no
				// last-success timestamp, no data.
				Name:         "beta",
				Up:           false,
				LastError:    "dial tcp 10.0.0.1:9092: connect: connection refused",
				LastPoll:     at,
				PollDuration: 10 * time.Second,
				Requests:     map[string]uint64{"Metadata": 3},
				Polls:        3,
				PollErrors:   3,
			},
		},
	}
}

func static(r *result.Result) func() *result.Result {
	return func() *result.Result { return r }
}

func TestGolden(t *testing.T) {
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			c := NewCollector(static(fixture()), Options{Granularity: g})
			path := filepath.Join("testdata", string(g)+".prom")
			if *update {
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(c)
				if err := os.WriteFile(path, []byte(scrape(t, reg)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.CollectAndCompare(c, bytes.NewReader(want)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// textGatherer parses WriteText's output back into metric families;
// prometheus.Gatherers sorts them as a registry would.
func textGatherer(c *Collector) prometheus.Gatherer {
	return prometheus.Gatherers{prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var b bytes.Buffer
		if err := c.WriteText(&b); err != nil {
			return nil, err
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		byName, err := parser.TextToMetricFamilies(&b)
		if err != nil {
			return nil, err
		}
		var mfs []*dto.MetricFamily
		for _, mf := range byName {
			mfs = append(mfs, mf)
		}
		return mfs, nil
	})}
}

// TestWriteTextMatchesGolden checks that the fast text path renders exactly
// the series, values, HELP and TYPE of the registry path.
func TestWriteTextMatchesGolden(t *testing.T) {
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			c := NewCollector(static(fixture()), Options{Granularity: g})
			want, err := os.ReadFile(filepath.Join("testdata", string(g)+".prom"))
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.GatherAndCompare(textGatherer(c), bytes.NewReader(want)); err != nil {
				t.Fatal(err)
			}
			problems, err := testutil.GatherAndLint(textGatherer(c))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

func TestWriteTextEscapesAndEmpty(t *testing.T) {
	r := &result.Result{Clusters: []result.ClusterResult{{
		Name: `c"1`, Up: true,
		Groups: []result.GroupResult{{Name: "back\\slash\nnew\nline", Type: "classic", State: "Stable"}},
	}}}
	var b bytes.Buffer
	if err := NewCollector(static(r), Options{}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `offsetlag_consumergroup_members{cluster_name="c\"1",group="back\\slash\nnew\nline"} 0`
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("want line %s in\n%s", want, b.String())
	}
	if _, err := textGatherer(NewCollector(static(r), Options{})).Gather(); err != nil {
		t.Errorf("parse back: %v", err)
	}

	b.Reset()
	if err := NewCollector(static(nil), Options{}).WriteText(&b); err != nil || b.Len() != 0 {
		t.Errorf("nil Result: %q, %v", b.String(), err)
	}
}

func TestHandler(t *testing.T) {
	extra := prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "offsetlag_build_info", Help: "Build information.", ConstLabels: prometheus.Labels{"version": "test"}})
	build.Set(1)
	extra.MustRegister(build)

	h := NewCollector(static(fixture()), Options{}).Handler(extra)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	for _, s := range []string{`offsetlag_build_info{version="test"} 1`, `offsetlag_up{cluster_name="beta"} 0`, `offsetlag_consumergroup_lag{cluster_name="alpha",group="billing",topic="orders",partition="1"} 180`} {
		if !strings.Contains(body, s+"\n") {
			t.Errorf("body lacks %s:\n%s", s, body)
		}
	}

	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("boom") })
	rec = httptest.NewRecorder()
	NewCollector(static(fixture()), Options{}).Handler(failing).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("failing extra gatherer: status %d", rec.Code)
	}
}

func TestLint(t *testing.T) {
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			problems, err := testutil.CollectAndLint(NewCollector(static(fixture()), Options{Granularity: g}))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

// TestDescribeMatchesCollect registers in a pedantic registry (which fails
// Gather on any collected metric whose Desc was not described) and checks
// that every described family is actually emitted by the fixture, so
// Describe sends exactly the Descs Collect uses.
func TestDescribeMatchesCollect(t *testing.T) {
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		t.Run(string(g), func(t *testing.T) {
			c := NewCollector(static(fixture()), Options{Granularity: g})
			reg := prometheus.NewPedanticRegistry()
			if err := reg.Register(c); err != nil {
				t.Fatal(err)
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var gathered, described []string
			for _, mf := range mfs {
				gathered = append(gathered, mf.GetName())
			}
			ch := make(chan *prometheus.Desc, 64)
			c.Describe(ch)
			close(ch)
			for d := range ch {
				i := slices.IndexFunc(c.families, func(f *family) bool { return f.desc == d })
				if i < 0 {
					t.Fatalf("described unknown desc %s", d)
				}
				described = append(described, c.families[i].name)
			}
			slices.Sort(described)
			if !slices.Equal(gathered, described) {
				t.Errorf("gathered families\n%v\ndescribed\n%v", gathered, described)
			}
			perPartition := []string{
				"offsetlag_consumergroup_lag", "offsetlag_consumergroup_committed_offset",
				"offsetlag_partition_end_offset", "offsetlag_partition_start_offset",
			}
			for _, name := range perPartition {
				if has := slices.Contains(described, name); has != (g == GranularityPartition) {
					t.Errorf("%s described: %v at granularity %s", name, has, g)
				}
			}
		})
	}
}

func TestNoPartitionLabelAtTopicGranularity(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(static(fixture()), Options{Granularity: GranularityTopic}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labelPartition {
					t.Errorf("%s has a partition label at topic granularity", mf.GetName())
				}
			}
		}
	}
}

func TestNilResultEmitsNothing(t *testing.T) {
	c := NewCollector(static(nil), Options{})
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("nil Result: %d series, want 0", n)
	}
}

// TestStaleSeriesDisappear swaps the Result under a registered collector,
// as the poll loop does, and checks that series of a group, topic and
// partition that are gone from the new Result are gone from the scrape.
func TestStaleSeriesDisappear(t *testing.T) {
	var cur atomic.Pointer[result.Result]
	cur.Store(fixture())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(cur.Load, Options{}))

	before := scrape(t, reg)
	for _, s := range []string{`group="billing"`, `topic="payments"`, `offsetlag_partition_end_offset{cluster_name="alpha",partition="1",topic="orders"}`} {
		if !strings.Contains(before, s) {
			t.Fatalf("fixture scrape lacks %s", s)
		}
	}

	next := fixture()
	alpha := &next.Clusters[0]
	alpha.Groups = slices.DeleteFunc(alpha.Groups, func(g result.GroupResult) bool { return g.Name == "billing" })
	alpha.Groups = slices.DeleteFunc(alpha.Groups, func(g result.GroupResult) bool { return g.Name == "audit" })
	// The expiry tracker forgets a deleted group, and commits on a deleted topic.
	alpha.Expiry = slices.DeleteFunc(alpha.Expiry, func(g result.GroupExpiry) bool { return g.Group == "billing" || g.Group == "reports" })
	alpha.Topics = alpha.Topics[:1]                             // payments deleted
	alpha.Topics[0].Partitions = alpha.Topics[0].Partitions[:1] // orders shrunk (test-only)
	cur.Store(next)

	after := scrape(t, reg)
	for _, s := range []string{`group="billing"`, `group="audit"`, `topic="payments"`, `partition="1"`} {
		if strings.Contains(after, s) {
			t.Errorf("stale series with %s still exported:\n%s", s, grep(after, s))
		}
	}
	if !strings.Contains(after, `offsetlag_consumergroup_lag{cluster_name="alpha",group="admin-tool",partition="0",topic="orders"} 0`) {
		t.Errorf("remaining group's lag missing:\n%s", after)
	}

	cur.Store(nil)
	if s := scrape(t, reg); s != "" {
		t.Errorf("nil Result scraped:\n%s", s)
	}
}

func TestInvalidUTF8NameDoesNotFailScrape(t *testing.T) {
	r := &result.Result{Clusters: []result.ClusterResult{{
		Name: "c", Up: true,
		Groups: []result.GroupResult{{Name: "bad\xffgroup", Type: "classic", State: "Stable"}},
	}}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(static(r), Options{}))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero value means partition", Options{}, true},
		{"partition", Options{Granularity: GranularityPartition}, true},
		{"topic", Options{Granularity: GranularityTopic}, true},
		{"unknown", Options{Granularity: "group"}, false},
		{"case matters", Options{Granularity: "Topic"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, state string }{
		{"Stable", "Stable"}, {"STABLE", "Stable"}, {"PreparingRebalance", "PreparingRebalance"},
		{"CompletingRebalance", "CompletingRebalance"}, {"Empty", "Empty"}, {"Dead", "Dead"},
		{"ASSIGNING", "Assigning"}, {"Reconciling", "Reconciling"}, {"NotReady", "Unknown"}, {"", "Unknown"},
	} {
		if got := normalizeState(tc.in); got != tc.state {
			t.Errorf("normalizeState(%q) = %q, want %q", tc.in, got, tc.state)
		}
	}
	for _, tc := range []struct{ in, typ string }{
		{"classic", "classic"}, {"consumer", "consumer"}, {"simple", "simple"}, {"Classic", "classic"},
		{"share", "other"}, {"", "other"},
	} {
		if got := normalizeType(tc.in); got != tc.typ {
			t.Errorf("normalizeType(%q) = %q, want %q", tc.in, got, tc.typ)
		}
	}
}

// scrape renders everything g gathers in the text exposition format.
// (testutil.GatherAndFormat without metric names renders nothing.)
func scrape(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func grep(text, s string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// synthetic builds a Result with groups x topics x partitions committed
// partitions, every group consuming every topic.
func synthetic(groups, topics, partitions int) *result.Result {
	cr := result.ClusterResult{
		Name: "bench", Up: true, LastPoll: time.Unix(1746100800, 0), LastSuccess: time.Unix(1746100800, 0),
		PollDuration: 45 * time.Millisecond, Requests: map[string]uint64{"Metadata": 1, "ListOffsets": 3},
		Polls: 1, Brokers: 3,
	}
	for t := range topics {
		tr := result.TopicResult{Name: fmt.Sprintf("topic-%03d", t)}
		for p := range partitions {
			tr.Partitions = append(tr.Partitions, result.PartitionOffsets{
				Partition: int32(p), Start: 1000, End: 1_000_000 + int64(p), HasStart: true, HasEnd: true,
			})
		}
		cr.Topics = append(cr.Topics, tr)
	}
	for g := range groups {
		gr := result.GroupResult{Name: fmt.Sprintf("group-%04d", g), Type: "classic", State: "Stable", Members: 3}
		for t := range topics {
			gt := result.GroupTopicResult{Topic: cr.Topics[t].Name}
			for p := range partitions {
				committed := int64(990_000 + g + p)
				end := cr.Topics[t].Partitions[p].End
				lag := end - committed
				gt.Partitions = append(gt.Partitions, result.PartitionLag{
					Partition: int32(p), Committed: committed, End: end, Lag: lag, HasLag: true,
				})
				gt.SumLag += lag
				gt.MaxLag = max(gt.MaxLag, lag)
			}
			gr.SumLag += gt.SumLag
			gr.MaxLag = max(gr.MaxLag, gt.MaxLag)
			gr.Topics = append(gr.Topics, gt)
		}
		cr.Groups = append(cr.Groups, gr)
	}
	return &result.Result{Generated: cr.LastPoll, Clusters: []result.ClusterResult{cr}}
}

// BenchmarkCollect measures a full scrape minus HTTP: Gather from a
// registry plus text exposition encoding, over 1,000 groups x 100 topics x
// 10 partitions = 1,000,000 committed partitions (about 2.5 million series
// at partition granularity).
func BenchmarkCollect(b *testing.B) {
	r := synthetic(1000, 100, 10)
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		b.Run(string(g), func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(NewCollector(static(r), Options{Granularity: g}))
			var cw countingWriter
			b.ReportAllocs()
			for b.Loop() {
				cw = 0
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				enc := expfmt.NewEncoder(&cw, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(cw), "exposition_bytes")
		})
	}
	// The fast path: WriteText straight from the Result, no registry.
	for _, g := range []Granularity{GranularityPartition, GranularityTopic} {
		b.Run("text_"+string(g), func(b *testing.B) {
			c := NewCollector(static(r), Options{Granularity: g})
			var cw countingWriter
			b.ReportAllocs()
			for b.Loop() {
				cw = 0
				if err := c.WriteText(&cw); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cw), "exposition_bytes")
		})
	}
	// Collect alone: the part this package owns (building const metrics),
	// without the registry's consistency checks, sorting and encoding.
	b.Run("collect_only", func(b *testing.B) {
		c := NewCollector(static(r), Options{})
		b.ReportAllocs()
		for b.Loop() {
			ch := make(chan prometheus.Metric, 1024)
			done := make(chan int)
			go func() {
				n := 0
				for range ch {
					n++
				}
				done <- n
			}()
			c.Collect(ch)
			close(ch)
			<-done
		}
	})
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

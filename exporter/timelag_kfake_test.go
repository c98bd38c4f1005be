package exporter_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/exporter/status"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// scenario produces records with known create times on its own topic and
// commits like a consumer that is delay behind, over simulated time. The
// truth of the time lag is then known exactly: now minus the create time of
// the record at the committed offset.
type scenario struct {
	name string
	// produce returns the create times of the records appended in
	// (from, to], in order.
	produce func(tick int, from, to time.Time) []time.Time
	// delay: the consumer has processed every record created at least
	// delay ago; stopAt >= 0 freezes its commits from that tick on.
	delay  time.Duration
	stopAt int
	// maxPerPoll > 0 caps the records the consumer processes per poll
	// (a slow consumer that ends its polls in the middle of a burst).
	maxPerPoll int
	// restartAt >= 0 replaces the exporters by fresh ones (no history) at
	// that tick.
	restartAt int
}

const pollEvery = 30 * time.Second

func evenly(n int, from, to time.Time) []time.Time {
	out := make([]time.Time, n)
	step := to.Sub(from) / time.Duration(n)
	for i := range out {
		out[i] = from.Add(step * time.Duration(i+1))
	}
	return out
}

var scenarios = []scenario{
	{name: "steady", delay: 95 * time.Second, stopAt: -1, restartAt: -1,
		produce: func(_ int, from, to time.Time) []time.Time { return evenly(300, from, to) }},
	{name: "bursty", delay: 10 * time.Second, stopAt: -1, restartAt: -1, maxPerPoll: 700,
		produce: func(tick int, from, to time.Time) []time.Time {
			if tick%4 != 1 {
				return evenly(3, from, to) // a trickle between bursts
			}
			burst := make([]time.Time, 2000)
			for i := range burst {
				burst[i] = from.Add(7 * time.Second) // all at one instant
			}
			return burst
		}},
	{name: "quiet", delay: 40 * time.Second, stopAt: 12, restartAt: -1,
		produce: func(tick int, from, to time.Time) []time.Time {
			if tick < 3 {
				return evenly(20, from, to)
			}
			return nil // then nothing at all; the consumer catches up, later stops
		}},
	{name: "restarted", delay: 70 * time.Second, stopAt: -1, restartAt: 8,
		produce: func(_ int, from, to time.Time) []time.Time { return evenly(60, from, to) }},
}

// staticSource serves snapshots from a real client, under another name.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// TestTimeLagAccuracy runs every scenario on an in-process cluster with
// exporters in the three modes polling the same state, and compares each
// reported time lag with the truth. Prints the accuracy table that README
// shows (go test -run TimeLagAccuracy -v ./exporter/).
func TestTimeLagAccuracy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topics := make([]string, len(scenarios))
	for i, sc := range scenarios {
		topics[i] = sc.name
	}
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))

	modes := []string{"interpolate", "exact", "hybrid"}
	clk := &clock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	newExporters := func() []*exporter.Exporter {
		var out []*exporter.Exporter
		for _, m := range modes {
			var trends status.Config
			trends.SetDefaults() // exact-above-records 1000
			trends.TimeLag.Mode = m
			e, err := exporter.New([]exporter.Source{c.Source(t, "sim")}, exporter.Options{Config: exporter.PollEvery(pollEvery, 0), Now: clk.Now,
				Trends: trends})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}

	type stat struct {
		maxErr  float64 // seconds
		maxRel  float64 // of the truth, where the truth > 0
		missing int     // polls with no value where the truth existed
		n       int
	}
	results := map[string]map[string]*stat{}
	created := map[string][]time.Time{}
	const ticks = 20
	for _, sc := range scenarios {
		results[sc.name] = map[string]*stat{}
		for _, m := range modes {
			results[sc.name][m] = &stat{}
		}
	}
	exps := newExporters()
	committed := make([]int, len(scenarios))
	for tick := 1; tick <= ticks; tick++ {
		from := clk.now
		clk.now = clk.now.Add(pollEvery)
		offsets := kadm.Offsets{}
		for si, sc := range scenarios {
			if sc.restartAt == tick {
				exps = newExporters()
			}
			var rs []*kgo.Record
			for _, ts := range sc.produce(tick, from, clk.now) {
				rs = append(rs, &kgo.Record{Topic: sc.name, Value: []byte("v"), Timestamp: ts})
				created[sc.name] = append(created[sc.name], ts)
			}
			c.ProduceRecords(t, rs...)
			if sc.stopAt < 0 || tick < sc.stopAt {
				done := 0
				for _, ts := range created[sc.name] {
					if !ts.After(clk.now.Add(-sc.delay)) {
						done++
					}
				}
				if sc.maxPerPoll > 0 {
					done = min(done, committed[si]+sc.maxPerPoll)
				}
				committed[si] = done
				offsets.Add(kadm.Offset{Topic: sc.name, Partition: 0, At: int64(done), LeaderEpoch: -1})
			}
		}
		if len(offsets) > 0 {
			c.CommitOffsets(t, "consumer", offsets)
		}
		r := make([]*result.Result, len(exps))
		for i, e := range exps {
			r[i] = e.PollAll(ctx)
		}
		if tick < 3 {
			continue // the consumer's first commits: nothing to compare yet
		}
		// Compare with the truth, partition by partition.
		for i, m := range modes {
			cr, _ := resulttest.Cluster(r[i], "sim")
			if !cr.Up {
				t.Fatalf("poll failed: %s", cr.LastError)
			}
			g, ok := resulttest.Group(cr, "consumer")
			if !ok {
				t.Fatal("group missing")
			}
			for _, gt := range g.Topics {
				for _, pl := range gt.Partitions {
					ts := created[gt.Topic]
					truth := 0.0
					if pl.Committed < int64(len(ts)) {
						truth = clk.now.Sub(ts[pl.Committed]).Seconds()
					}
					st := results[gt.Topic][m]
					st.n++
					if pl.LagSecondsSource == result.LagSourceNone {
						st.missing++
						continue
					}
					diff := math.Abs(pl.LagSeconds - truth)
					st.maxErr = math.Max(st.maxErr, diff)
					if truth > 0 {
						st.maxRel = math.Max(st.maxRel, diff/truth)
					}
				}
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n| scenario | mode | polls | no value | max error (s) | max error (%% of truth) |\n|---|---|---|---|---|---|\n")
	for _, sc := range scenarios {
		for _, m := range modes {
			st := results[sc.name][m]
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.1f | %.1f%% |\n", sc.name, m, st.n, st.missing, st.maxErr, 100*st.maxRel)
		}
	}
	t.Log(b.String())

	for _, sc := range scenarios {
		h := results[sc.name]["hybrid"]
		if h.missing > 0 {
			t.Errorf("%s: hybrid had no value in %d polls", sc.name, h.missing)
		}
		// Within 10% of the truth or one poll interval, in every poll.
		if h.maxErr > pollEvery.Seconds() && h.maxRel > 0.10 {
			t.Errorf("%s: hybrid off by %.1f s (%.0f%%)", sc.name, h.maxErr, 100*h.maxRel)
		}
		if e := results[sc.name]["exact"]; e.maxErr > 0.001 || e.missing > 0 {
			t.Errorf("%s: exact mode off by %.3f s, %d polls without value", sc.name, e.maxErr, e.missing)
		}
	}
}

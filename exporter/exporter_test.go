package exporter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// fakeSource returns scripted snapshots.
type fakeSource struct {
	name string
	mu   sync.Mutex
	snap *kafkaadmin.Snapshot
	err  error
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Snapshot(context.Context) (*kafkaadmin.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, f.err
}
func (f *fakeSource) set(s *kafkaadmin.Snapshot, err error) {
	f.mu.Lock()
	f.snap, f.err = s, err
	f.mu.Unlock()
}

func withGroup(s *kafkaadmin.Snapshot) *kafkaadmin.Snapshot {
	s.Groups = []kafkaadmin.Group{{Name: "g", Type: kafkaadmin.GroupSimple, State: "Empty",
		Offsets: []kafkaadmin.CommittedOffset{{Topic: "a", Partition: 0, Offset: 90}}}}
	s.Requests = map[string]int{"Metadata": 1, "OffsetFetch": 1}
	s.Brokers = []kafkaadmin.Broker{{ID: 1}}
	return s
}

func TestExporterUpDownRecover(t *testing.T) {
	src := &fakeSource{name: "c"}
	var results int
	e, err := New([]Source{src}, Options{Config: pollEvery(time.Second, 0), OnResult: func(*result.Result) { results++ }})
	if err != nil {
		t.Fatal(err)
	}
	if c := e.Latest().Clusters[0]; !c.LastSuccess.IsZero() || c.Polls != 0 {
		t.Fatalf("before any poll: %+v, want no success yet (not ready)", c)
	}
	ctx := context.Background()

	src.set(withGroup(testSnapshot()), nil)
	r := e.PollAll(ctx)
	c, _ := resulttest.Cluster(r, "c")
	if !c.Up || c.LastSuccess.IsZero() {
		t.Fatalf("after a good poll: up=%v last success %v", c.Up, c.LastSuccess)
	}
	g, ok := resulttest.Group(c, "g")
	if !ok || g.SumLag != 10 {
		t.Fatalf("group g = %+v, want lag 10", g)
	}

	src.set(nil, errors.New("dial tcp: connection refused"))
	r = e.PollAll(ctx)
	c, _ = resulttest.Cluster(r, "c")
	if c.Up || c.LastError == "" || c.PollErrors != 1 || c.Polls != 2 {
		t.Fatalf("after a failed poll: %+v", c)
	}
	if g, ok := resulttest.Group(c, "g"); !ok || g.SumLag != 10 {
		t.Errorf("last good data not kept while down: %+v", g)
	}

	partial := withGroup(testSnapshot())
	partial.Errors = []kafkaadmin.RequestError{{API: "ListOffsets", Broker: 2, Err: errors.New("timeout")}}
	src.set(partial, nil)
	c, _ = resulttest.Cluster(e.PollAll(ctx), "c")
	if c.Up || c.PollErrors != 2 {
		t.Errorf("partial snapshot reported up: %+v", c)
	}

	src.set(withGroup(testSnapshot()), nil)
	c, _ = resulttest.Cluster(e.PollAll(ctx), "c")
	if !c.Up || c.LastError != "" || c.Requests["Metadata"] != 3 {
		t.Errorf("after recovery: up=%v err=%q requests=%v", c.Up, c.LastError, c.Requests)
	}
	if results != 4 {
		t.Errorf("OnResult called %d times, want 4", results)
	}
}

func TestExporterRejectsDuplicateClusters(t *testing.T) {
	if _, err := New([]Source{&fakeSource{name: "a"}, &fakeSource{name: "a"}}, Options{}); err == nil {
		t.Error("duplicate cluster names accepted")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("no clusters accepted")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	src := &fakeSource{name: "c"}
	src.set(withGroup(testSnapshot()), nil)
	e, _ := New([]Source{src}, Options{Config: pollEvery(10*time.Millisecond, 0)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	for e.Latest().Clusters[0].LastSuccess.IsZero() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

// timedSource is a fakeSource that also reads record timestamps, counting
// the partitions it was asked for.
type timedSource struct {
	fakeSource
	asked int
}

func (s *timedSource) RecordTimes(_ context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int) {
	s.asked += len(reqs)
	out := make([]kafkaadmin.RecordTime, len(reqs))
	for i, r := range reqs {
		out[i] = kafkaadmin.RecordTime{RecordTimeRequest: r, Found: r.Offset, Timestamp: at(0)}
	}
	return out, map[string]int{"Fetch": 1}
}

// A consumer that stopped on a quiet topic: the record at its commit is
// read once, not on every poll.
func TestExactTimeLagCachedWhileCommitStands(t *testing.T) {
	src := &timedSource{fakeSource: fakeSource{name: "c"}}
	src.set(withGroup(testSnapshot()), nil)
	now := at(600)
	e, err := New([]Source{src}, Options{Config: pollEvery(time.Minute, 0), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		now = now.Add(time.Minute)
		src.set(withGroup(testSnapshot()), nil)
		c, _ := resulttest.Cluster(e.PollAll(context.Background()), "c")
		g, _ := resulttest.Group(c, "g")
		pl := g.Topics[0].Partitions[0]
		if pl.LagSecondsSource != result.LagSourceExact || pl.LagSeconds != now.Sub(at(0)).Seconds() {
			t.Fatalf("poll %d: time lag %v (%s), want %v exact", i, pl.LagSeconds, pl.LagSecondsSource, now.Sub(at(0)).Seconds())
		}
	}
	if src.asked != 1 {
		t.Errorf("record timestamp read %d times over 3 polls with the same commit, want once", src.asked)
	}
}

package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlag/offsetlag/worker/store"
)

// countingStore is a memStore that also counts how often each record was
// handed to Put (a redelivered record is stored once: Put is idempotent).
// hold makes every later Put wait until release, and counts the waiting
// Puts, so a test can know a batch is in flight.
type countingStore struct {
	*memStore
	mu      sync.Mutex
	seen    map[string]int
	gate    chan struct{} // nil: open
	waiting atomic.Int32
}

func (s *countingStore) Put(ctx context.Context, rs []store.Result) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		s.waiting.Add(1)
		<-gate
		s.waiting.Add(-1)
	}
	if err := s.memStore.Put(ctx, rs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.seen[r.MsgID]++
	}
	return nil
}

func (s *countingStore) hold() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *countingStore) release() {
	s.mu.Lock()
	close(s.gate)
	s.gate = nil
	s.mu.Unlock()
}

func (s *countingStore) redelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.seen {
		n += c - 1
	}
	return n
}

// describeGroup returns the group's state and member count as the
// coordinator sees them ("" and 0 if it cannot be described).
func (e *env) describeGroup(group string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := e.adm.DescribeGroups(ctx, group)
	if err != nil {
		return "", 0
	}
	d, ok := ds[group]
	if !ok || d.Err != nil {
		return "", 0
	}
	return d.State, len(d.Members)
}

// waitStable waits until the group is Stable with members members and every
// worker given is consuming in that generation, together holding parts
// partitions.
func (e *env) waitStable(group string, members, parts int, rs ...*running) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("group %s stable with %d members holding %d partitions", group, members, parts), func() bool {
		state, n := e.describeGroup(group)
		if state != "Stable" || n != members {
			return false
		}
		held, gen := 0, rs[0].w.Status().Generation
		for _, r := range rs {
			st := r.w.Status()
			if !st.Ready() || st.Generation != gen {
				return false
			}
			held += st.Partitions
		}
		return held == parts
	})
}

// TestReliabilityRebalanceAndOutage runs the worker through the faults of
// a real deployment while it is busy: a second instance joins the group
// while the first has batches in flight in the store (rebalance), every
// broker drops its connections and refuses new ones (a broker restart, as
// the clients see it), and leaders and coordinators move. Every good record
// ends up stored exactly once, every poison record is in the failure topic,
// and the committed offsets reach the end of every partition.
//
// Each step waits on an event (group state and membership from
// DescribeGroups, the workers' claims, a Put blocked in the store, requests
// refused during the outage), never on row counts or sleeps.
func TestReliabilityRebalanceAndOutage(t *testing.T) {
	const parts, perPart, poisonEvery = 4, 600, 50
	e := newEnv(t, 3, parts)
	var down atomic.Bool
	var refused atomic.Int64
	e.cluster.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		e.cluster.KeepControl()
		if down.Load() {
			refused.Add(1)
			return nil, errors.New("broker restarting"), true // closes the connection
		}
		return nil, nil, false
	})
	produce := func(round int) {
		for p := int32(0); p < parts; p++ {
			vals := numbers(round*perPart+1, perPart)
			for i := range vals {
				if (i+1)%poisonEvery == 0 {
					vals[i] = fmt.Sprintf("poison %d", i)
				}
			}
			e.produce(p, time.Time{}, vals...)
		}
	}
	produce(0)
	st := &countingStore{memStore: newMemStore(), seen: map[string]int{}}
	slow := func(c *Config) { c.BatchSize = 40; c.BatchWindow = 50 * time.Millisecond }
	a := e.start("g-rel", st, slow)
	e.waitStable("g-rel", 1, parts, a)
	waitFor(t, "a first batch stored by a", func() bool { return st.count() > 0 })

	// Batches of a are now held in the store while b joins.
	st.hold()
	waitFor(t, "a store write in flight", func() bool { return st.waiting.Load() > 0 })
	b := e.start("g-rel", st, slow)
	waitFor(t, "the group rebalancing after b's join", func() bool {
		state, _ := e.describeGroup("g-rel")
		return state == "PreparingRebalance" || state == "CompletingRebalance"
	})
	st.release()
	e.waitStable("g-rel", 2, parts, a, b)
	genAfterJoin := a.w.Status().Generation

	// Outage: every request refused and its connection closed until both
	// workers have seen it (requests refused), then the brokers are back
	// with leaders and coordinators moved.
	before := refused.Load()
	down.Store(true)
	waitFor(t, "requests refused during the outage", func() bool { return refused.Load()-before >= 20 })
	down.Store(false)
	refusedTotal := refused.Load() - before
	e.cluster.ShufflePartitionLeaders()
	e.cluster.RehashCoordinators()
	produce(1)

	total := 2 * parts * perPart
	good := total - 2*parts*(perPart/poisonEvery)
	waitFor(t, "every good record stored", func() bool { return st.count() == good })
	for p := int32(0); p < parts; p++ {
		waitFor(t, fmt.Sprintf("commit of partition %d at its end", p), func() bool { return e.committed("g-rel", p) == 2*perPart })
	}
	storedA := testutil.ToFloat64(a.m.Records.WithLabelValues("stored"))
	storedB := testutil.ToFloat64(b.m.Records.WithLabelValues("stored"))
	sessions := a.w.Status().Sessions + b.w.Status().Sessions
	a.stop(t)
	b.stop(t)
	if n := st.count(); n != good {
		t.Fatalf("%d rows, want %d", n, good)
	}
	if storedB == 0 {
		t.Fatal("the second instance stored nothing: no rebalance was exercised")
	}
	if storedA+storedB < float64(good) {
		t.Fatalf("stored counters %v + %v < %d good records", storedA, storedB, good)
	}

	// The failure topic: every poison record, by source position.
	want := map[string]bool{}
	for p := 0; p < parts; p++ {
		for off := poisonEvery - 1; off < 2*perPart; off += poisonEvery {
			want[fmt.Sprintf("%d/%d", p, off)] = true
		}
	}
	got, dups := e.readFailures(len(want))
	for k := range want {
		if got[k] == 0 {
			t.Errorf("poison record %s missing from the failure topic", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("record %s in the failure topic is not poison", k)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("RELIABILITY | worker: a second instance joins while the first has store writes in flight (rebalance to generation %d), all brokers refuse and drop connections (%d requests refused), leaders and coordinators move; %d records, %d poison | no loss, no duplicate rows, failure topic complete, offsets committed to the end | %d rows of %d good (each once; %d records redelivered and stored idempotently; %d stored by the joiner; %d group sessions), %d/%d poison records in the failure topic (%d duplicate dead letters), committed at the end of all %d partitions |",
		genAfterJoin, refusedTotal, total, total-good, st.count(), good, st.redelivered(), int(storedB), sessions,
		len(want)-len(missing(want, got)), len(want), dups, parts)
}

func missing(want map[string]bool, got map[string]int) []string {
	var out []string
	for k := range want {
		if got[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// readFailures reads the failure topic until want distinct source records
// are seen and nothing more arrives for a moment; it returns each source
// position's count and the number of duplicates.
func (e *env) readFailures(want int) (map[string]int, int) {
	e.t.Helper()
	cl := e.failureReader()
	defer cl.Close()
	got := map[string]int{}
	dups := 0
	deadline := time.Now().Add(2 * time.Minute)
	var quietUntil time.Time
	for time.Now().Before(deadline) {
		if len(got) >= want && quietUntil.IsZero() {
			quietUntil = time.Now().Add(500 * time.Millisecond)
		}
		if !quietUntil.IsZero() && time.Now().After(quietUntil) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		for _, r := range fs.Records() {
			k := header(r, HeaderSourcePartition) + "/" + header(r, HeaderSourceOffset)
			if got[k]++; got[k] > 1 {
				dups++
			}
		}
	}
	return got, dups
}

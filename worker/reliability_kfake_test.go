package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlag/offsetlag/worker/store"
)

// countingStore is a memStore that also counts how often each record was
// handed to Put (a redelivered record is stored once: Put is idempotent).
type countingStore struct {
	*memStore
	mu    sync.Mutex
	seen  map[string]int
	parts map[int32]int
}

func (s *countingStore) Put(ctx context.Context, rs []store.Result) error {
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

func (s *countingStore) redelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.seen {
		n += c - 1
	}
	return n
}

// TestReliabilityRebalanceAndOutage runs the worker through the faults of
// a real deployment while it is busy: a second instance joins the group in
// the middle of the batches (rebalance), every broker drops its
// connections for a second (a broker restart, as the clients see it), and
// leaders and coordinators move. Every good record ends up stored exactly
// once, every poison record is in the failure topic, and the committed
// offsets reach the end of every partition.
func TestReliabilityRebalanceAndOutage(t *testing.T) {
	const parts, perPart, poisonEvery = 4, 600, 50
	e := newEnv(t, 3, parts)
	var down atomic.Bool
	e.cluster.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		e.cluster.KeepControl()
		if down.Load() {
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
	waitFor(t, "first rows", func() bool { return st.count() >= 200 })

	b := e.start("g-rel", st, slow) // joins mid-batch: rebalance
	waitFor(t, "more rows after the join", func() bool { return st.count() >= 800 })

	down.Store(true) // every connection dropped, new ones refused, for a second
	time.Sleep(time.Second)
	down.Store(false)
	e.cluster.ShufflePartitionLeaders()
	e.cluster.RehashCoordinators()
	produce(1)

	total := 2 * parts * perPart
	good := total - 2*parts*(perPart/poisonEvery)
	waitFor(t, "every good record stored", func() bool { return st.count() == good })
	for p := int32(0); p < parts; p++ {
		waitFor(t, fmt.Sprintf("commit of partition %d at its end", p), func() bool { return e.committed("g-rel", p) == 2*perPart })
	}
	a.stop(t)
	b.stop(t)
	if n := st.count(); n != good {
		t.Fatalf("%d rows, want %d", n, good)
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
	t.Logf("RELIABILITY | worker: a second instance joins mid-batch (rebalance), all brokers drop connections for 1 s, leaders and coordinators move; %d records, %d poison | no loss, no duplicate rows, failure topic complete, offsets committed to the end | %d rows (each once; %d records redelivered and stored idempotently), %d/%d poison records in the failure topic (%d duplicate dead letters: at least once without a transactional id), committed at the end of all %d partitions |",
		total, total-good, st.count(), st.redelivered(), len(want)-len(missing(want, got)), len(want), dups, parts)
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addrs...), kgo.ConsumeTopics(failTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	dups := 0
	deadline := time.Now().Add(15 * time.Second)
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

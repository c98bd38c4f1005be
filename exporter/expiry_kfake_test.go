package exporter_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestExpiryKfake runs the tracker end to end through the exporter's poll against
// an in-process cluster that expires offsets after 1.5 s: a classic
// consumer that leaves (expires, predicted from when it became Empty), a
// simple group (predicted from its commit), a group deleted on purpose
// before its expiry (not expired), an expected group never seen (expired at
// once, missing), and a commit below the log start (logged once). The state
// directory is reused by a second exporter half-way, as after a restart.
func TestExpiryKfake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "t"), kfaketest.ExpiringOffsets(1500*time.Millisecond))
	for p := int32(0); p < 2; p++ {
		c.Produce(t, "t", p, 10)
	}

	const (
		interval = 100 * time.Millisecond
		// EmptySinceExact needs the poll that saw the member to be at most
		// tolerance before the one that saw Empty, and a prediction from
		// it may then be early by as much (the group became Empty somewhere
		// between the two polls, after the first one's reads). 2 intervals
		// (the default) failed 1 run in 3 under -race on a loaded machine.
		tolerance = 5 * interval
	)
	logs := &testenv.LockedBuffer{}
	dir := t.TempDir()
	newExporter := func() (*exporter.Exporter, func()) {
		ac := c.Source(t, "c")
		var cfg expiry.Config
		cfg.Expiry.Tolerance = tolerance
		cfg.Expiry.ExpectedGroups = []expiry.ExpectedGroup{{Group: "esm", StartingPosition: "earliest", Topics: []string{"t"}}}
		cfg.State.Dir = dir
		tracker, err := expiry.NewTracker(cfg, expiry.Options{Clusters: map[string]time.Duration{"c": 1500 * time.Millisecond},
			Interval: interval})
		if err != nil {
			t.Fatal(err)
		}
		e, err := exporter.New([]exporter.Source{ac}, exporter.Options{
			Config: exporter.PollEvery(interval, 0), Logger: slog.New(slog.NewTextHandler(logs, nil)), Expiry: tracker,
		})
		if err != nil {
			t.Fatal(err)
		}
		return e, func() { _ = ac.Close() }
	}
	e, closeFirst := newExporter()

	// A classic consumer reads everything, commits and leaves: Empty.
	cons := c.Member(t, "classic", 20, "t")
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	// A 100 ms poll can be cut short on a loaded machine: poll until one
	// is complete, on each side of the consumer's leave.
	pollComplete := func() *result.Result {
		var r *result.Result
		for i := 0; i < 20; i++ {
			r = e.PollAll(ctx)
			if c, _ := resulttest.Cluster(r, "c"); c.Up {
				break
			}
		}
		return r
	}
	pollComplete() // sees it with its member
	cons.Close()   // LeaveGroup: Empty at once
	pollComplete() // sees it Empty: the prediction counts from here

	c.Commit(t, "simple", "t", map[int32]int64{0: 4})
	c.Commit(t, "doomed", "t", map[int32]int64{0: 4})
	c.Commit(t, "behind", "t", map[int32]int64{0: 2})
	c.DeleteRecords(t, "t", 0, 3)
	committedAt := time.Now()

	r := pollComplete()
	firstSeen := time.Now() // the simple group's commit was seen by now
	g := resulttest.GroupExpiry(r, "c", "classic")
	if g == nil || g.EmptySince.IsZero() || !g.EmptySinceExact || g.ExpiresAt.IsZero() {
		t.Fatalf("classic after leaving: %+v", g)
	}
	classicExpires := g.ExpiresAt
	if d := g.ExpiresAt.Sub(g.EmptySince); d != 1500*time.Millisecond {
		t.Errorf("classic expires %s after Empty, want the retention", d)
	}
	s := resulttest.GroupExpiry(r, "c", "simple")
	// Predicted from the first poll that saw the commit: between the
	// commit and that poll's end, plus the retention.
	if s == nil || s.ExpiresAt.Before(committedAt.Add(1500*time.Millisecond)) || s.ExpiresAt.After(firstSeen.Add(1500*time.Millisecond)) {
		t.Fatalf("simple: %+v (committed at %s, seen by %s)", s, committedAt, firstSeen)
	}
	esm := resulttest.GroupExpiry(r, "c", "esm")
	if esm == nil || !esm.Missing || len(esm.Topics) != 1 || !esm.Topics[0].Expired {
		t.Fatalf("expected group never seen: %+v", esm)
	}
	if rr := esm.Topics[0].RecordsAtRisk; len(rr) != 1 || rr[0].StartingPosition != "earliest" || rr[0].Records != 20-3 {
		t.Errorf("esm records at risk %+v, want earliest 17 (log 3..10 and 0..10)", rr)
	}
	// Deleted on purpose, long before its predicted expiry.
	if _, err := c.Admin.DeleteGroup(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}

	// Restart half-way: a new exporter on the same state directory.
	e.PollAll(ctx)
	closeFirst()
	e, closeSecond := newExporter()
	defer closeSecond()
	r = e.PollAll(ctx)
	if g := resulttest.GroupExpiry(r, "c", "classic"); g == nil || !g.ExpiresAt.Equal(classicExpires) {
		t.Fatalf("classic after restart: %+v, want expiry %s", g, classicExpires)
	}

	// Poll until both groups expired; each flag must appear no earlier
	// than the prediction minus the tolerance (the group became Empty
	// between the poll that saw its member and the one that saw it Empty,
	// at most tolerance apart), and soon after it.
	deadline := time.Now().Add(15 * time.Second)
	seen := map[string]time.Time{}
	// "behind" was committed with "simple" but the broker's retention
	// check may delete it one check (250 ms) later: wait for all three.
	for len(seen) < 3 && time.Now().Before(deadline) {
		time.Sleep(interval)
		r = e.PollAll(ctx)
		for _, name := range []string{"classic", "simple", "behind"} {
			if g := resulttest.GroupExpiry(r, "c", name); g != nil && len(g.Topics) > 0 && g.Topics[0].Expired && seen[name].IsZero() {
				seen[name] = g.Topics[0].ExpiredAt
			}
		}
	}
	if d := seen["classic"].Sub(classicExpires); seen["classic"].IsZero() || d < -tolerance || d > time.Second {
		t.Errorf("classic expired at %s, %s after its prediction %s", seen["classic"], d, classicExpires)
	}
	if seen["simple"].IsZero() || seen["behind"].IsZero() {
		t.Errorf("simple and behind groups expired at %s and %s (zero: never)", seen["simple"], seen["behind"])
	}
	if g := resulttest.GroupExpiry(r, "c", "doomed"); g != nil {
		t.Errorf("group deleted on purpose is tracked: %+v", g)
	}
	// Expired stays expired, poll after poll.
	for i := 0; i < 3; i++ {
		r = e.PollAll(ctx)
	}
	if g := resulttest.GroupExpiry(r, "c", "classic"); g == nil || !g.Topics[0].Expired {
		t.Errorf("classic expired flag flapped: %+v", g)
	}
	if n := logs.Count(`msg="committed offsets expired`); n != 4 { // classic (2 partitions on one topic: 1), simple, behind, esm
		t.Errorf("%d expired lines, want 4 (one per group and topic):\n%s", n, logs.String())
	}
	if n := logs.Count(`msg="committed offset is below the log start`); n != 1 {
		t.Errorf("%d out-of-range lines, want 1", n)
	}
	if n := logs.Count(`msg="committed offsets deleted before`); n != 1 {
		t.Errorf("%d deleted lines, want 1", n)
	}
}

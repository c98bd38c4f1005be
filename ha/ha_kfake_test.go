package ha_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/ha"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

const (
	testTopic      = "ha-state"
	testShards     = 8
	pollInterval   = 100 * time.Millisecond
	sessionTimeout = 1500 * time.Millisecond
)

// replica is one exporter + membership, as cmd/offsetlag-exporter wires them.
type replica struct {
	t      *testing.T
	name   string
	m      *ha.Member
	e      *exporter.Exporter
	cancel context.CancelFunc
	done   chan struct{}
	ac     *kafkaadmin.Client
}

func startReplica(t *testing.T, name string, brokers []string) *replica {
	t.Helper()
	m, err := ha.New(ha.Options{Brokers: brokers, Topic: testTopic, Group: "replicas", Partitions: testShards,
		SessionTimeout: sessionTimeout, Logger: testLogger(t).With("replica", name)})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: "c", Brokers: brokers,
		IncludeGroup: func(g string) bool { return m.OwnsGroup("c", g) }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := expiry.NewTracker(expiry.Config{}, expiry.Options{Clusters: map[string]time.Duration{"c": time.Hour},
		Interval: pollInterval, Include: m.OwnsGroup, Share: m.ObserveExpiry})
	if err != nil {
		t.Fatal(err)
	}
	opts := exporter.Options{Owner: m, Expiry: tr}
	opts.Poll.Interval = pollInterval
	e, err := exporter.New([]exporter.Source{ac}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx, tr); err != nil {
		t.Fatal(err)
	}
	r := &replica{t: t, name: name, m: m, e: e, cancel: cancel, done: make(chan struct{}), ac: ac}
	go func() { e.Run(ctx); close(r.done) }()
	return r
}

// stop is the SIGTERM path: polls stop, then the member leaves the group.
func (r *replica) stop() {
	r.cancel()
	t0 := time.Now()
	<-r.done
	r.t.Logf("%s: polls stopped in %s", r.name, time.Since(t0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.m.Stop(ctx)
	r.t.Logf("%s: left in %s", r.name, time.Since(t0))
	_ = r.ac.Close()
}

func (r *replica) groups() []string {
	c, _ := resulttest.Cluster(r.e.Latest(), "c")
	var out []string
	for _, g := range c.Groups {
		out = append(out, g.Name)
	}
	return out
}

func (r *replica) expiry(group string) *result.GroupExpiry {
	return resulttest.GroupExpiry(r.e.Latest(), "c", group)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

// newCluster starts a cluster of n brokers (group sessions may be as short
// as 100 ms) with topic t (2 partitions, a record on each) and the given
// number of simple groups committed on it, and returns the groups' names.
func newCluster(t *testing.T, brokers, groups int) (*kfaketest.Cluster, []string) {
	t.Helper()
	c := kfaketest.New(t, kfake.NumBrokers(brokers), kfake.SeedTopics(2, "t"), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	for p := int32(0); p < 2; p++ {
		c.Produce(t, "t", p, 1)
	}
	var names []string
	for i := range groups {
		g := fmt.Sprintf("g%02d", i)
		c.Commit(t, g, "t", map[int32]int64{0: 1})
		names = append(names, g)
	}
	return c, names
}

// coverage checks that the replicas export every group exactly once and
// that their owned shards are disjoint and complete.
func coverage(rs []*replica, want []string) (bool, string) {
	seen := map[string]string{}
	var dup []string
	for _, r := range rs {
		for _, g := range r.groups() {
			if o, ok := seen[g]; ok {
				dup = append(dup, g+" by "+o+" and "+r.name)
			}
			seen[g] = r.name
		}
	}
	var missing []string
	for _, g := range want {
		if seen[g] == "" {
			missing = append(missing, g)
		}
	}
	owned := 0
	for _, r := range rs {
		owned += len(r.m.Stats().Owned)
	}
	return len(dup) == 0 && len(missing) == 0 && owned == testShards,
		fmt.Sprintf("missing %v duplicate %v owned shards %d of %d", missing, dup, owned, testShards)
}

// liveSet is the replicas running at the moment, watched until the test
// ends: the test fails if two of them own one shard at the same time.
type liveSet struct {
	mu sync.Mutex
	rs []*replica
}

func watchLive(t *testing.T) *liveSet {
	l := &liveSet{}
	testenv.Go(t, func(ctx context.Context) {
		for ctx.Err() == nil {
			owner := map[int32]string{}
			for _, r := range l.current() {
				for _, p := range r.m.Stats().Owned {
					if o, ok := owner[p]; ok {
						t.Errorf("shard %d owned by %s and %s at once", p, o, r.name)
						return
					}
					owner[p] = r.name
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return l
}

func (l *liveSet) current() []*replica {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.rs)
}

func (l *liveSet) set(rs ...*replica) { l.mu.Lock(); l.rs = rs; l.mu.Unlock() }
func (l *liveSet) add(rs ...*replica) { l.mu.Lock(); l.rs = append(l.rs, rs...); l.mu.Unlock() }
func (l *liveSet) remove(r *replica) {
	l.mu.Lock()
	l.rs = slices.DeleteFunc(l.rs, func(x *replica) bool { return x == r })
	l.mu.Unlock()
}

// TestReplicasShareAndHandOver: two replicas cover every group exactly once;
// a third joins (shards move, cooperative-sticky) and one leaves (SIGTERM
// path: leave group), and coverage is complete again each time; no shard is
// ever owned by two replicas at once.
func TestReplicasShareAndHandOver(t *testing.T) {
	c, groups := newCluster(t, 3, 24)
	brokers := c.ListenAddrs()
	live := watchLive(t)
	current := live.current

	a := startReplica(t, "a", brokers)
	live.add(a)
	b := startReplica(t, "b", brokers)
	live.add(b)
	waitFor(t, "two replicas to share the shards and cover every group once", time.Minute, func() (bool, string) {
		ok, msg := coverage(current(), groups)
		return ok && len(a.m.Stats().Owned) > 0 && len(b.m.Stats().Owned) > 0, msg
	})

	cr := startReplica(t, "c", brokers)
	live.add(cr)
	waitFor(t, "three replicas to cover every group once", time.Minute, func() (bool, string) {
		ok, msg := coverage(current(), groups)
		return ok && len(cr.m.Stats().Owned) > 0, msg
	})

	a.stop()
	live.remove(a)
	waitFor(t, "b and c to take a's shards", time.Minute, func() (bool, string) { return coverage(current(), groups) })
	b.stop()
	cr.stop()
}

// TestRestoreKeepsCountdown: a group that went Empty under one replica keeps
// its expiry countdown (same expires_at) under a replica started afterwards
// with no local state: the state came through the coordination topic.
func TestRestoreKeepsCountdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, _ := newCluster(t, 1, 1)
	brokers := c.ListenAddrs()

	a := startReplica(t, "a", brokers)
	waitFor(t, "a to own every shard", time.Minute, func() (bool, string) {
		st := a.m.Stats()
		return len(st.Owned) == testShards, fmt.Sprintf("owned %v", st.Owned)
	})
	// A classic consumer commits and leaves: the group is Empty.
	cons := c.Member(t, "classic", 2, "t")
	waitFor(t, "a to see the consumer", time.Minute, func() (bool, string) {
		g := a.expiry("classic")
		return g != nil && g.State == "Stable", fmt.Sprintf("%+v", g)
	})
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	var before time.Time
	waitFor(t, "a to predict the Empty group's expiry", time.Minute, func() (bool, string) {
		g := a.expiry("classic")
		if g == nil || g.ExpiresAt.IsZero() {
			return false, fmt.Sprintf("%+v", g)
		}
		before = g.ExpiresAt
		return true, ""
	})
	a.stop()

	b := startReplica(t, "b", brokers)
	defer b.stop()
	waitFor(t, "b to export the group with a prediction", time.Minute, func() (bool, string) {
		g := b.expiry("classic")
		return g != nil && !g.ExpiresAt.IsZero(), fmt.Sprintf("%+v", g)
	})
	g := b.expiry("classic")
	if !g.ExpiresAt.Equal(before) {
		t.Fatalf("expires_at after the takeover %s, before %s: the countdown restarted", g.ExpiresAt, before)
	}
	if st := b.m.Stats(); st.Restores != testShards {
		t.Errorf("b restored %d shards, want %d", st.Restores, testShards)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// ownerOf returns the replica exporting group, or nil.
func ownerOf(rs []*replica, group string) *replica {
	for _, r := range rs {
		if slices.Contains(r.groups(), group) {
			return r
		}
	}
	return nil
}

// TestRebalanceStormAndCoordinatorMove: two stable replicas; three times,
// three more join at once while the group coordinator moves to another
// broker, and leave at once as soon as all five own shards. No shard is ever
// owned twice, every group ends exported exactly once, and an Empty group's
// expires_at survives every move of its shard.
func TestRebalanceStormAndCoordinatorMove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, groups := newCluster(t, 3, 24)
	brokers := c.ListenAddrs()
	live := watchLive(t)
	current := live.current

	a, b := startReplica(t, "a", brokers), startReplica(t, "b", brokers)
	live.set(a, b)
	defer a.stop()
	defer b.stop()
	waitFor(t, "a and b to cover every group once", time.Minute, func() (bool, string) {
		ok, msg := coverage(current(), groups)
		return ok && len(a.m.Stats().Owned) > 0 && len(b.m.Stats().Owned) > 0, msg
	})

	// An Empty classic group with a running countdown.
	cons := c.Member(t, "classic", 2, "t")
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	groups = append(groups, "classic")
	var expires time.Time
	waitFor(t, "the Empty group's prediction", time.Minute, func() (bool, string) {
		o := ownerOf(current(), "classic")
		if o == nil {
			return false, "not exported"
		}
		g := o.expiry("classic")
		if g == nil || g.ExpiresAt.IsZero() || g.State != "Empty" {
			return false, fmt.Sprintf("%+v", g)
		}
		expires = g.ExpiresAt
		return true, ""
	})

	moves := 0
	for round := range 3 {
		coord := c.CoordinatorFor("replicas")
		var joiners []*replica
		var jwg sync.WaitGroup
		var jmu sync.Mutex
		for i := range 3 {
			jwg.Add(1)
			go func() {
				defer jwg.Done()
				r := startReplica(t, fmt.Sprintf("storm%d-%d", round, i), brokers)
				jmu.Lock()
				joiners = append(joiners, r)
				jmu.Unlock()
			}()
		}
		// The coordinator moves while they join.
		for c.CoordinatorFor("replicas") == coord {
			c.RehashCoordinators()
		}
		moves++
		jwg.Wait()
		live.add(joiners...)
		waitFor(t, fmt.Sprintf("round %d: five replicas to own shards", round), time.Minute, func() (bool, string) {
			ok, msg := coverage(current(), groups)
			for _, r := range current() {
				if len(r.m.Stats().Owned) == 0 {
					return false, r.name + " owns nothing; " + msg
				}
			}
			return ok, msg
		})
		live.set(a, b)
		var swg sync.WaitGroup
		for _, r := range joiners {
			swg.Add(1)
			go func() { defer swg.Done(); r.stop() }()
		}
		swg.Wait()
		waitFor(t, fmt.Sprintf("round %d: a and b to cover every group once", round), time.Minute, func() (bool, string) {
			return coverage(current(), groups)
		})
		o := ownerOf(current(), "classic")
		waitFor(t, "the Empty group's prediction after the storm", time.Minute, func() (bool, string) {
			g := o.expiry("classic")
			return g != nil && !g.ExpiresAt.IsZero(), fmt.Sprintf("%+v", g)
		})
		if g := o.expiry("classic"); !g.ExpiresAt.Equal(expires) {
			t.Fatalf("round %d: expires_at %s, before the storm %s", round, g.ExpiresAt, expires)
		}
	}
	st := a.m.Stats()
	t.Logf("3 storms, %d coordinator moves: a took part in %d rebalances, b in %d; expires_at kept", moves, st.Rebalances, b.m.Stats().Rebalances)
}

// A coordination topic created by hand with the delete policy is used (its
// partition count is the shard count) and named in a warning.
func TestExistingTopicNotCompacted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	del := "delete"
	if _, err := c.Admin.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": &del}, testTopic); err != nil {
		t.Fatal(err)
	}
	var logs testenv.LockedBuffer
	m, err := ha.New(ha.Options{Brokers: c.ListenAddrs(), Topic: testTopic, Partitions: testShards, SessionTimeout: sessionTimeout,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	defer m.Stop(ctx)
	if m.Partitions() != 3 {
		t.Errorf("shards %d, want the existing topic's 3", m.Partitions())
	}
	for _, want := range []string{"another partition count", "not compacted"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning %q in:\n%s", want, logs.String())
		}
	}
	waitFor(t, "the only replica to own the 3 shards", time.Minute, func() (bool, string) {
		return len(m.Stats().Owned) == 3, fmt.Sprint(m.Stats().Owned)
	})
}

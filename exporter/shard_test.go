package exporter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// The hash is part of the deployment contract: replicas of different
// versions must agree, so these values must never change.
func TestShardOfStable(t *testing.T) {
	for _, c := range []struct {
		group string
		count int
		want  int
	}{
		{"", 7, int(0xcbf29ce484222325 % 7)}, // FNV-1a 64 offset basis
		{"a", 1 << 30, int(0xaf63dc4c8601ec8c % (1 << 30))},
		{"orders-consumer", 1, 0},
	} {
		if got := shardOf(c.group, c.count); got != c.want {
			t.Errorf("shardOf(%q, %d) = %d, want %d", c.group, c.count, got, c.want)
		}
	}
	// Same answer every time, and exactly one replica matches each group.
	for i := 0; i < 1000; i++ {
		g := fmt.Sprintf("group-%d", i)
		n := 0
		for idx := 0; idx < 4; idx++ {
			if sc := shardConfig(idx, 4); sc.InShard(g) {
				n++
				if shardOf(g, 4) != idx {
					t.Fatalf("%s: Match on shard %d but shardOf %d", g, idx, shardOf(g, 4))
				}
			}
		}
		if n != 1 {
			t.Fatalf("%s matched %d of 4 shards", g, n)
		}
	}
}

func TestShardDistribution(t *testing.T) {
	const groups = 100000
	for _, count := range []int{2, 3, 8, 16} {
		hits := make([]int, count)
		for i := 0; i < groups; i++ {
			hits[shardOf(fmt.Sprintf("svc-%d-consumer", i), count)]++
		}
		want := groups / count
		for idx, n := range hits {
			// Well within 5% of an even split for 100,000 names.
			if d := n - want; d > want/20 || d < -want/20 {
				t.Errorf("count %d: shard %d has %d groups, want about %d (%v)", count, idx, n, want, hits)
			}
		}
	}
}

// TestShardValidate: Config.Validate checks the shard.* section.
func TestShardValidate(t *testing.T) {
	validate := func(s [2]int) error {
		c := shardConfig(s[0], s[1])
		c.Poll.Interval = defaultInterval
		return c.Validate()
	}
	for _, s := range [][2]int{{0, 0}, {0, 1}, {2, 3}} {
		if err := validate(s); err != nil {
			t.Errorf("index, count %v: %v", s, err)
		}
	}
	for _, s := range [][2]int{{-1, 2}, {2, 2}, {1, 0}, {0, -1}} {
		if err := validate(s); err == nil {
			t.Errorf("index, count %v: no error", s)
		}
	}
	var zero Config
	if !zero.InShard("anything") {
		t.Error("a zero Config's shard must hold every group")
	}
}

// gateSource is a Source whose Snapshot reports that it started on entered
// and returns when release is closed (or its context ends); inside counts
// the Snapshots inside at once.
type gateSource struct {
	name    string
	inside  *testenv.Concurrency
	entered chan<- string
	release <-chan struct{}
}

func (s gateSource) Name() string { return s.name }

func (s gateSource) Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error) {
	defer s.inside.Enter()()
	s.entered <- s.name
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &kafkaadmin.Snapshot{Cluster: s.name}, nil
}

// TestLimitPolls drives the sources with channels, no sleeps: each poll
// holds its slot until the test releases it, so what runs at once is
// decided by the limit alone.
func TestLimitPolls(t *testing.T) {
	const sources, limit = 6, 2
	var polls testenv.Concurrency
	entered := make(chan string, sources)
	releases := make([]chan struct{}, sources)
	var srcs []Source
	for i := range sources {
		releases[i] = make(chan struct{})
		srcs = append(srcs, gateSource{fmt.Sprintf("c%d", i), &polls, entered, releases[i]})
	}
	limited := limitPolls(srcs, limit)
	var wg sync.WaitGroup
	for _, s := range limited {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = s.Snapshot(context.Background()) }()
	}
	// Release the polls one at a time as they enter: at every step exactly
	// limit are inside (the others wait for a slot), until fewer are left.
	idx := map[string]int{}
	for i := range sources {
		idx[fmt.Sprintf("c%d", i)] = i
	}
	inside := []string{<-entered, <-entered}
	for done := 0; done < sources; done++ {
		// Once a waiting poll entered, the one released before it has
		// left its slot: exactly limit run.
		if r := polls.Inside(); done <= sources-limit && r != limit {
			t.Fatalf("after %d polls ended: %d running, want %d", done, r, limit)
		}
		close(releases[idx[inside[0]]])
		inside = inside[1:]
		if done+limit < sources {
			inside = append(inside, <-entered)
		}
	}
	wg.Wait()
	if p := polls.Peak(); p != limit {
		t.Errorf("peak concurrent polls = %d, want %d", p, limit)
	}
	if got := limitPolls(srcs, 0); &got[0] != &srcs[0] {
		t.Error("limit 0 must return the sources unchanged")
	}

	// A poll waiting for a slot ends with its context: the only slot is
	// held by a poll that is known to be inside.
	release := make(chan struct{})
	entered1 := make(chan string, 1)
	var inside1 testenv.Concurrency
	one := limitPolls([]Source{
		gateSource{"a", &inside1, entered1, release},
		gateSource{"b", &inside1, entered1, release},
	}, 1)
	held := make(chan struct{})
	go func() { _, _ = one[0].Snapshot(context.Background()); close(held) }()
	<-entered1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := one[1].Snapshot(ctx); err == nil || !strings.Contains(err.Error(), "poll slot") {
		t.Errorf("a poll waiting for a slot must end with its context, got %v", err)
	}
	close(release)
	<-held
}

package exporter

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
		if got := ShardOf(c.group, c.count); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.group, c.count, got, c.want)
		}
	}
	// Same answer every time, and exactly one replica matches each group.
	for i := 0; i < 1000; i++ {
		g := fmt.Sprintf("group-%d", i)
		n := 0
		for idx := 0; idx < 4; idx++ {
			if (Shard{Index: idx, Count: 4}).Match(g) {
				n++
				if ShardOf(g, 4) != idx {
					t.Fatalf("%s: Match on shard %d but ShardOf %d", g, idx, ShardOf(g, 4))
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
			hits[ShardOf(fmt.Sprintf("svc-%d-consumer", i), count)]++
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

func TestShardValidate(t *testing.T) {
	for _, s := range []Shard{{0, 0}, {0, 1}, {2, 3}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	for _, s := range []Shard{{-1, 2}, {2, 2}, {1, 0}, {0, -1}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	if !(Shard{}).Match("anything") || (Shard{}).Enabled() {
		t.Error("zero Shard must match everything and not be enabled")
	}
}

type slowSource struct {
	name          string
	running, peak *atomic.Int32
}

func (s slowSource) Name() string { return s.name }

func (s slowSource) Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	return &kafkaadmin.Snapshot{Cluster: s.name}, nil
}

func TestLimitPolls(t *testing.T) {
	var running, peak atomic.Int32
	var srcs []Source
	for i := 0; i < 6; i++ {
		srcs = append(srcs, slowSource{fmt.Sprintf("c%d", i), &running, &peak})
	}
	limited := LimitPolls(srcs, 2)
	var wg sync.WaitGroup
	for _, s := range limited {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = s.Snapshot(context.Background()) }()
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrent polls = %d, want 2", p)
	}
	if got := LimitPolls(srcs, 0); &got[0] != &srcs[0] {
		t.Error("limit 0 must return the sources unchanged")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	one := LimitPolls(srcs[:2], 1)
	block := make(chan struct{})
	go func() { _, _ = one[0].Snapshot(context.Background()); close(block) }()
	time.Sleep(5 * time.Millisecond)
	if _, err := one[1].Snapshot(ctx); err == nil {
		t.Error("a poll waiting for a slot must end with its context")
	}
	<-block
}

package exporter

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// InShard reports whether group belongs to this replica's shard
// (Config.Shard, the shard.* options). Sharding splits the groups of every
// cluster across exporter replicas: the replica with Shard.Index i of
// Shard.Count exports the groups whose stable hash (FNV-1a 64 of the group
// name) is i modulo Count. The hash depends on the name alone, so every
// replica agrees without talking to the others, and a restart or a new
// group never moves other groups. A Count of 0 or 1 (a zero Config
// included) is one shard that holds every group.
//
// Each replica still reads every partition's offsets (one ListOffsets per
// leader, cheap) but describes and fetches only its own groups, and
// exports only their series: the per-group work and the /metrics size are
// divided by Count. Topic-level series (log start and end offsets) are
// exported by every replica. The exporter's caller applies InShard when it
// chooses the groups to poll (internal/app).
func (c *Config) InShard(group string) bool {
	if c.Shard.Count <= 1 {
		return true
	}
	return shardOf(group, c.Shard.Count) == c.Shard.Index
}

// shardOf is the shard (0 to count-1) of group: FNV-1a 64 of the name,
// modulo count. It never changes for a name.
func shardOf(group string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(group))
	return int(h.Sum64() % uint64(count))
}

// limitPolls returns sources that share a limit of n polls at a time (for
// fleets of many clusters in one process): a poll waits for a free slot
// before its Snapshot (and before its exact time-lag reads), and its deadline keeps running while it waits. n <= 0
// returns the sources unchanged. The wrappers keep the recordTimer of the
// source (exact time lag).
func limitPolls(sources []Source, n int) []Source {
	if n <= 0 || n >= len(sources) {
		return sources
	}
	sem := make(chan struct{}, n)
	out := make([]Source, len(sources))
	for i, s := range sources {
		ls := limitedSource{Source: s, sem: sem}
		if rt, ok := s.(recordTimer); ok {
			out[i] = limitedTimer{ls, rt}
		} else {
			out[i] = ls
		}
	}
	return out
}

type limitedSource struct {
	Source
	sem chan struct{}
}

func (l limitedSource) Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a poll slot (poll.max-concurrent-clusters): %w", ctx.Err())
	}
	defer func() { <-l.sem }()
	return l.Source.Snapshot(ctx)
}

type limitedTimer struct {
	limitedSource
	rt recordTimer
}

// RecordTimes takes a slot too: it is the poll's other burst of requests.
func (l limitedTimer) RecordTimes(ctx context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		out := make([]kafkaadmin.RecordTime, len(reqs))
		for i := range out {
			out[i].RecordTimeRequest, out[i].Found, out[i].Err = reqs[i], -1, ctx.Err()
		}
		return out, nil
	}
	defer func() { <-l.sem }()
	return l.rt.RecordTimes(ctx, reqs)
}

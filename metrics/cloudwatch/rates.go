package cloudwatch

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// DefaultRateWindow is the shortest interval a consume rate is measured
// over.
const DefaultRateWindow = time.Minute

// rateKey names one committed partition of a group.
type rateKey struct {
	cluster, group, topic string
	partition             int32
}

type rateState struct {
	base     int64     // committed offset at baseTime
	baseTime time.Time // poll time of base
	rate     float64   // records/s over the last complete window
	hasRate  bool
	seen     time.Time // last poll that listed the partition
}

// rateTracker derives each committed partition's recent consume rate from
// successive Results: the committed offset's advance over at least window
// (the Result has no per-partition rate). A rewind or a vanished commit
// forgets the partition.
type rateTracker struct {
	window time.Duration
	m      map[rateKey]*rateState
}

func newRateTracker(window time.Duration) *rateTracker {
	if window <= 0 {
		window = DefaultRateWindow
	}
	return &rateTracker{window: window, m: map[rateKey]*rateState{}}
}

// observe records one cluster's successful poll.
func (rt *rateTracker) observe(cr *result.ClusterResult) {
	ts := cr.LastSuccess
	for gi := range cr.Groups {
		g := &cr.Groups[gi]
		// A group's data carried from an earlier poll (ReadAt before the
		// poll) is sampled at the time it was read.
		at := ts
		if !g.ReadAt.IsZero() && g.ReadAt.Before(ts) {
			at = g.ReadAt
		}
		for ti := range g.Topics {
			t := &g.Topics[ti]
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				k := rateKey{cr.Name, g.Name, t.Topic, p.Partition}
				s := rt.m[k]
				switch {
				case s == nil || p.Committed < s.base:
					rt.m[k] = &rateState{base: p.Committed, baseTime: at, seen: ts}
					continue
				case at.Sub(s.baseTime) >= rt.window:
					s.rate = float64(p.Committed-s.base) / at.Sub(s.baseTime).Seconds()
					s.hasRate = true
					s.base, s.baseTime = p.Committed, at
				}
				s.seen = ts
			}
		}
	}
	for k, s := range rt.m {
		if k.cluster == cr.Name && s.seen.Before(ts) {
			delete(rt.m, k)
		}
	}
}

// rate is the ConsumeRate of BuildOptions for one cluster.
func (rt *rateTracker) rate(cluster string) func(group, topic string, partition int32) (float64, bool) {
	return func(group, topic string, partition int32) (float64, bool) {
		s := rt.m[rateKey{cluster, group, topic, partition}]
		if s == nil || !s.hasRate {
			return 0, false
		}
		return s.rate, true
	}
}

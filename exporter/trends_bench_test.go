package exporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// benchSnapshot is the bench suite's size M: topics x 100 partitions,
// groups each committed on 2 topics (200 offsets per group).
func benchSnapshot(topics, groups int) *kafkaadmin.Snapshot {
	s := &kafkaadmin.Snapshot{Cluster: "bench"}
	for ti := 0; ti < topics; ti++ {
		t := kafkaadmin.Topic{Name: fmt.Sprintf("topic-%04d", ti)}
		for p := int32(0); p < 100; p++ {
			t.Partitions = append(t.Partitions, kafkaadmin.Partition{ID: p, Leader: p % 3, Start: 0, End: 1000 + int64(p)})
		}
		s.Topics = append(s.Topics, t)
	}
	for g := 0; g < groups; g++ {
		gr := kafkaadmin.Group{Name: fmt.Sprintf("group-%05d", g), Type: kafkaadmin.GroupClassic, State: "Empty",
			ProtocolType: "consumer"}
		for k := 0; k < 2; k++ {
			ti := (g + k*37) % topics
			for p := int32(0); p < 100; p++ {
				gr.Offsets = append(gr.Offsets, kafkaadmin.CommittedOffset{Topic: s.Topics[ti].Name, Partition: p,
					Offset: 990 + int64(p%20)})
			}
		}
		s.Groups = append(s.Groups, gr)
	}
	return s
}

// BenchmarkTrendsApply is one poll's trends (end histories, time lag by
// interpolation, status windows, rates) at size M: 10,000 partitions, 500
// groups, 100,000 committed offsets. It justified keying the per-poll sweep
// of histories and windows on a generation number instead of building
// "seen" maps of 100,000 entries every poll (bench/results.md, exporter CPU).
func BenchmarkTrendsApply(b *testing.B) {
	snap := benchSnapshot(100, 500)
	tr := newTrends(TrendOptions{Mode: TimeLagInterpolate, Window: DefaultStatusWindow})
	now := time.Unix(1e9, 0)
	for i := 0; i < 3; i++ { // steady state: histories and windows exist
		tr.apply(context.Background(), snap, ComputeGroups(snap), now, nil)
		now = now.Add(30 * time.Second)
	}
	groups := ComputeGroups(snap)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for gi := range groups { // apply writes into groups; start from fresh ones
			groups[gi] = ComputeGroup(snap, &snap.Groups[gi])
		}
		now = now.Add(30 * time.Second)
		b.StartTimer()
		tr.apply(context.Background(), snap, groups, now, nil)
	}
}

package exporter

import (
	"fmt"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// BenchmarkCarryPatch: one complete poll of 10,000 partitions and 500
// groups with 100,000 committed offsets through carry.patch (the steady
// state: nothing to carry, every read recorded).
func BenchmarkCarryPatch(b *testing.B) {
	snap := &kafkaadmin.Snapshot{Brokers: []kafkaadmin.Broker{{ID: 1}}}
	for ti := 0; ti < 50; ti++ {
		t := kafkaadmin.Topic{Name: fmt.Sprintf("topic-%03d", ti)}
		for p := int32(0); p < 200; p++ {
			t.Partitions = append(t.Partitions, kafkaadmin.Partition{ID: p, Leader: 1, Start: 0, End: 1000})
		}
		snap.Topics = append(snap.Topics, t)
	}
	for gi := 0; gi < 500; gi++ {
		g := kafkaadmin.Group{Name: fmt.Sprintf("group-%03d", gi), Type: kafkaadmin.GroupClassic, State: "Stable", Coordinator: 1}
		t := snap.Topics[gi%50]
		for p := int32(0); p < 200; p++ {
			g.Offsets = append(g.Offsets, kafkaadmin.CommittedOffset{Topic: t.Name, Partition: p, Offset: 500})
		}
		snap.Groups = append(snap.Groups, g)
	}
	c := newCarry(time.Minute)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second)
		c.patch(snap, now)
	}
}

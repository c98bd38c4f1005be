package lag

import (
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

var testSnapshot = resulttest.Snapshot

func TestComputeGroup(t *testing.T) {
	s := testSnapshot()
	g := kafkaadmin.Group{Name: "g", Type: kafkaadmin.GroupClassic, State: "Stable",
		Members: []kafkaadmin.Member{{ID: "m", Assignment: map[string][]int32{"a": {0, 1, 2}, "c": {0, 1}, "gone": {0}}}},
		Offsets: []kafkaadmin.CommittedOffset{
			{Topic: "a", Partition: 0, Offset: 40},      // lag 60
			{Topic: "a", Partition: 1, Offset: 20},      // below start 50: out of range, 30 lost, lag 60
			{Topic: "a", Partition: 2, Offset: 5},       // end unknown: no lag
			{Topic: "b", Partition: 0, Offset: 99},      // beyond end: lag 0
			{Topic: "b", Partition: 7, Offset: 1},       // partition unknown: ignored
			{Topic: "deleted", Partition: 0, Offset: 1}, // topic unknown: ignored
			{Topic: "a", Partition: 9, Offset: -1, Err: kafkaadmin.OffsetError(3)},
		}}
	gr := computeGroup(s, &g)
	if gr.SumLag != 120 || gr.MaxLag != 60 {
		t.Errorf("group sum/max = %d/%d, want 120/60", gr.SumLag, gr.MaxLag)
	}
	if gr.OutOfRange != 1 || gr.RecordsLost != 30 {
		t.Errorf("out of range = %d lost %d, want 1 and 30", gr.OutOfRange, gr.RecordsLost)
	}
	if gr.Members != 1 || gr.State != "Stable" || gr.Type != "classic" {
		t.Errorf("members/state/type = %d/%s/%s", gr.Members, gr.State, gr.Type)
	}
	if len(gr.Topics) != 3 {
		t.Fatalf("topics = %+v, want a, b and c (assigned, no commit)", gr.Topics)
	}
	a, b, c := gr.Topics[0], gr.Topics[1], gr.Topics[2]
	if a.Topic != "a" || len(a.Partitions) != 3 || a.SumLag != 120 || a.PartitionsWithoutCommit != 0 {
		t.Errorf("topic a = %+v", a)
	}
	if a.Partitions[2].HasLag {
		t.Errorf("partition with unknown end has lag: %+v", a.Partitions[2])
	}
	if !a.Partitions[1].OutOfRange || a.Partitions[1].Lag != 60 {
		t.Errorf("a/1 = %+v", a.Partitions[1])
	}
	if b.Topic != "b" || b.SumLag != 0 || !b.Partitions[0].HasLag || len(b.Partitions) != 1 {
		t.Errorf("topic b = %+v", b)
	}
	if c.Topic != "c" || len(c.Partitions) != 0 || c.PartitionsWithoutCommit != 2 {
		t.Errorf("topic c = %+v", c)
	}
	if gr.PartitionsWithoutCommit != 2 {
		t.Errorf("group partitions without commit = %d, want 2", gr.PartitionsWithoutCommit)
	}
}

func TestComputeTopics(t *testing.T) {
	ts := computeTopics(testSnapshot())
	if len(ts) != 3 || len(ts[0].Partitions) != 3 {
		t.Fatalf("topics = %+v", ts)
	}
	p := ts[0].Partitions
	if !p[0].HasEnd || p[0].End != 100 || !p[1].HasStart || p[1].Start != 50 || p[2].HasEnd {
		t.Errorf("partitions = %+v", p)
	}
}

package kfaketest

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestFixture(t *testing.T) {
	c := New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	c.Produce(t, "t", 1, 5)
	c.Commit(t, "g", "t", map[int32]int64{1: 3})
	c.DeleteRecords(t, "t", 1, 2)

	ctx := context.Background()
	ends, err := c.Admin.ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("t", 1); o.Offset != 5 {
		t.Errorf("end of t/1 = %d, want 5", o.Offset)
	}
	if o, _ := ends.Lookup("t", 0); o.Offset != 0 {
		t.Errorf("end of t/0 = %d, want 0 (Produce wrote to the partition it names)", o.Offset)
	}
	starts, err := c.Admin.ListStartOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("t", 1); o.Offset != 2 {
		t.Errorf("start of t/1 = %d, want 2", o.Offset)
	}
	committed, err := c.Admin.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := committed.Lookup("t", 1); !ok || o.At != 3 {
		t.Errorf("committed t/1 = %+v, want 3", o)
	}
}

package kfaketest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
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

// Source reads the cluster under its name; Reconnect's clients work; with
// ExpiringOffsets a group's commit is gone soon after the retention.
func TestSourceReconnectExpiry(t *testing.T) {
	c := New(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), ExpiringOffsets(500*time.Millisecond))
	old := c.Client
	c.Reconnect(t)
	if c.Client == old {
		t.Fatal("Reconnect kept the client")
	}
	c.Produce(t, "t", 0, 3)
	c.Commit(t, "g", "t", map[int32]int64{0: 2})

	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	s, err := c.Source(t, "k").Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster != "k" || len(s.Topics) != 1 || s.Topics[0].Name != "t" || s.Topics[0].Partitions[0].End != 3 {
		t.Fatalf("snapshot %+v, want cluster k with t/0 ending at 3", s)
	}
	for {
		committed, err := c.Admin.FetchOffsets(ctx, "g")
		if errors.Is(err, kerr.GroupIDNotFound) {
			return // expired: the group went with its last offset
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := committed.Lookup("t", 0); !ok {
			return // expired
		}
		if ctx.Err() != nil {
			t.Fatal("the commit did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package kfaketest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
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

// KeepUp's member follows its producer: the group's commits reach the log
// end while records keep coming; after stop nothing is produced.
func TestKeepUp(t *testing.T) {
	c := New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	stop := c.KeepUp(t, "live", []string{"t"}, 10*time.Millisecond, func(i int) []*kgo.Record {
		return []*kgo.Record{{Topic: "t", Partition: int32(i % 2), Value: []byte("x")}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for {
		ends, err := c.Admin.ListEndOffsets(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		committed, err := c.Admin.FetchOffsets(ctx, "live")
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			t.Fatal(err)
		}
		caughtUp := 0
		ends.Each(func(e kadm.ListedOffset) {
			if o, ok := committed.Lookup("t", e.Partition); ok && e.Offset >= 5 && o.At >= 5 {
				caughtUp++
			}
		})
		if caughtUp == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the member did not commit 5 records on each partition: ends %v, committed %v", ends, committed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	stop() // idempotent
	before, err := c.Admin.ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // 10 intervals: nothing may come
	after, err := c.Admin.ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		b, _ := before.Lookup("t", p)
		a, _ := after.Lookup("t", p)
		if a.Offset != b.Offset {
			t.Errorf("t/%d grew from %d to %d after stop", p, b.Offset, a.Offset)
		}
	}
}

package kafkaadmin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

func TestRecordTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(2), kfake.SeedTopics(2, "ts"))
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Partition p: 20 records, record i created at base + i minutes, with
	// a 40 KiB value every 5th record so some batches exceed the small fetch.
	for p := int32(0); p < 2; p++ {
		for i := 0; i < 20; i++ {
			v := []byte("x")
			if i%5 == 4 {
				v = make([]byte, 40<<10)
			}
			r := &kgo.Record{Topic: "ts", Partition: p, Value: v, Timestamp: base.Add(time.Duration(i) * time.Minute)}
			c.ProduceRecords(t, r) // one record a batch
		}
	}
	c.DeleteRecords(t, "ts", 1, 6)

	ac := c.Source(t, "t")
	s, err := ac.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := s.TopicByName("ts")
	req := func(p int32, off int64) kafkaadmin.RecordTimeRequest {
		return kafkaadmin.RecordTimeRequest{Topic: "ts", Partition: p, Offset: off,
			Leader: tp.Partitions[p].Leader, Start: tp.Partitions[p].Start}
	}
	got, reqs := ac.RecordTimes(ctx, []kafkaadmin.RecordTimeRequest{req(0, 0), req(0, 4), req(0, 13), req(1, 2), req(1, 20)})
	tests := []struct {
		name  string
		found int64
	}{
		{"first record", 0},
		{"large record (second fetch)", 4},
		{"middle", 13},
		{"below log start reads the first kept record", 6},
		{"at the log end: nothing yet", -1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := got[i]
			if r.Err != nil {
				t.Fatalf("err %v", r.Err)
			}
			if r.Found != tt.found {
				t.Fatalf("found %d, want %d", r.Found, tt.found)
			}
			if tt.found >= 0 && !r.Timestamp.Equal(base.Add(time.Duration(tt.found)*time.Minute)) {
				t.Errorf("timestamp %s, want %s", r.Timestamp, base.Add(time.Duration(tt.found)*time.Minute))
			}
		})
	}
	// One Fetch per leader, plus at most one more per leader (partition
	// 0's first Fetch, from offset 0 with 32 KiB, may stop before the 40
	// KiB record 4; then 4 and 13 are read by the second).
	leaders := map[int32]bool{}
	for _, p := range tp.Partitions {
		leaders[p.Leader] = true
	}
	if n := reqs["Fetch"]; n < len(leaders) || n > 2*len(leaders) {
		t.Errorf("Fetch requests = %d, want %d to %d (one per leader, at most one more each)", n, len(leaders), 2*len(leaders))
	}

	// Ten groups committed at ten offsets of one partition, small records:
	// one Fetch reads them all.
	var many []kafkaadmin.RecordTimeRequest
	for off := int64(10); off < 14; off++ {
		many = append(many, req(1, off), req(1, off))
	}
	many = append(many, req(1, 20), req(1, 11))
	got, reqs = ac.RecordTimes(ctx, many)
	if reqs["Fetch"] != 1 {
		t.Errorf("%d offsets on one partition: %d Fetch requests, want 1", len(many), reqs["Fetch"])
	}
	for i, r := range got {
		want := many[i].Offset
		if want == 20 {
			want = -1 // the log end
		}
		if r.Err != nil || r.Found != want {
			t.Errorf("offset %d: found %d, err %v; want %d", many[i].Offset, r.Found, r.Err, want)
		}
	}

	// Offsets beyond what one Fetch returns (the 32 KiB and 1 MiB limits
	// stop at the 40 KiB records) are left for a later poll, with an
	// error, not answered wrongly.
	got, reqs = ac.RecordTimes(ctx, []kafkaadmin.RecordTimeRequest{req(0, 0), req(0, 19)})
	if got[0].Err != nil || got[0].Found != 0 {
		t.Errorf("offset 0: found %d, err %v", got[0].Found, got[0].Err)
	}
	if r := got[1]; !(r.Err == nil && r.Found == 19) && !errors.Is(r.Err, kafkaadmin.ErrRecordNotReached) {
		t.Errorf("offset 19: found %d, err %v; want 19 or ErrRecordNotReached", r.Found, r.Err)
	}
	if reqs["Fetch"] > 2 {
		t.Errorf("Fetch requests = %d, want at most 2 for one partition", reqs["Fetch"])
	}
}

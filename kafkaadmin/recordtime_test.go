package kafkaadmin_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

func TestRecordTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(2, "ts"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
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
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "ts", Partition: 1, At: 6, LeaderEpoch: -1})
	if _, err := kadm.NewClient(cl).DeleteRecords(ctx, del); err != nil {
		t.Fatal(err)
	}

	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: "t", Brokers: c.ListenAddrs()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
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
	// Partition 0 is asked for 3 offsets, partition 1 for 2: a Fetch names
	// a partition once, so at most 5 waves, each with at most one retry for
	// batches that did not fit.
	if reqs["Fetch"] > 10 || reqs["Fetch"] < 3 {
		t.Errorf("Fetch requests = %d, want 3 to 10", reqs["Fetch"])
	}
}

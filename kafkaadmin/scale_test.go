package kafkaadmin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/exporter/lag"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestScaleRequestsAndLag is the acceptance size: 3 brokers, 10,000
// partitions (100 topics x 100), 500 groups with 200 commits each (100,000
// committed offsets). After warm-up a poll sends at most 3 x brokers + 3 x
// coordinators requests and every lag equals log end - committed.
func TestScaleRequestsAndLag(t *testing.T) {
	testenv.SkipShort(t, "scale test")
	const topics, parts, groups, perGroup = 100, 100, 500, 200
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("topic-%03d", i)
	}
	c := kfaketest.New(t, kfake.NumBrokers(3), kfake.SeedTopics(parts, names...))
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Partition p of topic i holds (i+p)%7+1 records.
	end := func(ti, p int) int64 { return int64((ti+p)%7 + 1) }
	var rs []*kgo.Record
	for ti, name := range names {
		for p := 0; p < parts; p++ {
			for k := int64(0); k < end(ti, p); k++ {
				rs = append(rs, &kgo.Record{Topic: name, Partition: int32(p)})
			}
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Group g commits on 2 topics x 100 partitions, at offset (g+p)%end.
	committed := map[string]int64{}
	for g := 0; g < groups; g++ {
		os := kadm.Offsets{}
		group := fmt.Sprintf("group-%03d", g)
		for k := 0; k < perGroup/parts; k++ {
			ti := (g + k*37) % topics
			for p := 0; p < parts; p++ {
				at := int64(g+p) % (end(ti, p) + 1)
				os.Add(kadm.Offset{Topic: names[ti], Partition: int32(p), At: at, LeaderEpoch: -1})
				committed[fmt.Sprintf("%s/%s/%d", group, names[ti], p)] = at
			}
		}
		c.CommitOffsets(t, group, os)
	}

	ac := c.Source(t, "scale")
	if _, err := ac.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := ac.Snapshot(ctx)
	if err != nil || !s.Complete() {
		t.Fatalf("snapshot: %v %v", err, s.Errors)
	}
	coords := map[int32]bool{}
	for _, g := range s.Groups {
		coords[g.Coordinator] = true
	}
	if limit := 3*len(s.Brokers) + 3*len(coords); s.TotalRequests() > limit {
		t.Errorf("requests = %d %v, want <= %d", s.TotalRequests(), s.Requests, limit)
	}
	checked := 0
	_, computed := lag.Compute(s)
	for _, gr := range computed {
		for _, gt := range gr.Topics {
			ti := 0
			fmt.Sscanf(gt.Topic, "topic-%d", &ti)
			for _, pl := range gt.Partitions {
				key := fmt.Sprintf("%s/%s/%d", gr.Name, gt.Topic, pl.Partition)
				want := end(ti, int(pl.Partition)) - committed[key]
				if !pl.HasLag || pl.Lag != want || pl.Committed != committed[key] {
					t.Fatalf("%s: lag %d (has %v) committed %d, want lag %d committed %d", key, pl.Lag, pl.HasLag,
						pl.Committed, want, committed[key])
				}
				checked++
			}
		}
	}
	if checked != len(committed) {
		t.Errorf("checked %d lags, want %d", checked, len(committed))
	}
	t.Logf("%d partitions, %d groups, %d lags checked; requests per poll %d %v; poll took %s",
		topics*parts, len(s.Groups), checked, s.TotalRequests(), s.Requests, s.Finished.Sub(s.Started))
}

package kafkatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// TestCluster starts a 3-node cluster and exercises every helper of the rig: a topic and
// __consumer_offsets replicated 3 times, a controlled shutdown of the group's coordinator (the
// coordinator moves, the commits stay), WaitISR failing while a node is down and passing once it
// is back, and a node frozen with SIGSTOP (its leaderships move once it is fenced) then thawed.
func TestCluster(t *testing.T) {
	c := kafkatest.StartCluster(t, kafkatest.ClusterOptions{})
	if len(c.Brokers) != 3 {
		t.Fatalf("%d nodes, want 3", len(c.Brokers))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cfg := saramaConfig()
	admin, err := sarama.NewClusterAdmin(c.Bootstrap(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	const topic, group = "ct", "cg"
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 3}, false); err != nil {
		t.Fatal(err)
	}
	prod, err := sarama.NewSyncProducer(c.Bootstrap(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 3; p++ {
		for i := 0; i <= int(p); i++ {
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder("x")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	prod.Close()
	// A standalone commit (no membership) through the coordinator.
	om, err := sarama.NewOffsetManagerFromClient(group, mustClient(t, c.Bootstrap(), cfg))
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 3; p++ {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			t.Fatal(err)
		}
		pom.MarkOffset(int64(p+1), "")
	}
	om.Commit()
	if err := om.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitISR(ctx); err != nil {
		t.Fatal(err)
	}
	// Kafka's CLI at the start and the end, a plain OffsetFetch in between (a JVM start is slow).
	wantCommits := func(when string, cli bool) {
		t.Helper()
		got := map[int32]int64{}
		if cli {
			rows, err := c.Live().DescribeConsumerGroups(ctx, "--group", group)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			for _, r := range rows {
				if r.Topic == topic {
					got[r.Partition] = r.CurrentOffset
					if r.LogEndOffset != int64(r.Partition+1) {
						t.Errorf("%s: %+v, want end %d", when, r, r.Partition+1)
					}
				}
			}
		} else {
			// A fresh client each try: a cached connection to a frozen
			// coordinator only times out.
			waitCond(t, ctx, when+": OffsetFetch", func() error {
				adm, err := sarama.NewClusterAdmin(c.Bootstrap(), cfg)
				if err != nil {
					return err
				}
				defer adm.Close()
				resp, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
				if err != nil {
					return err
				}
				for p, blk := range resp.Blocks[topic] {
					if blk.Err == sarama.ErrNoError && blk.Offset >= 0 {
						got[p] = blk.Offset
					}
				}
				return nil
			})
		}
		if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Fatalf("%s: committed %v, want map[0:1 1:2 2:3]", when, got)
		}
	}
	wantCommits("before", true)

	// Controlled shutdown of the coordinator: it moves, the commits stay.
	coord, err := c.Coordinator(group)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := c.StopBroker(coord); err != nil {
		t.Fatal(err)
	}
	t.Logf("controlled shutdown of node %d: %s", coord+1, time.Since(t0).Round(time.Millisecond))
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	err = c.WaitISR(short)
	cancelShort()
	if err == nil {
		t.Fatal("WaitISR passed with a node down")
	}
	waitCond(t, ctx, "the coordinator moves", func() error {
		now, err := c.Coordinator(group)
		if err == nil && now == coord {
			err = fmt.Errorf("still node %d", now+1)
		}
		return err
	})
	wantCommits("node down", false)
	t0 = time.Now()
	if err := c.StartBroker(coord); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitISR(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("node %d back with full ISR after %s", coord+1, time.Since(t0).Round(time.Millisecond))

	// Freeze the leader of partition 0: once fenced, its leaderships move; thawed, it rejoins.
	leaders, err := c.Leaders(topic)
	if err != nil {
		t.Fatal(err)
	}
	frozen := leaders[topic][0]
	if err := c.Freeze(frozen); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	waitCond(t, ctx, "the leadership of ct/0 moves off the frozen node", func() error {
		l, err := c.Leaders(topic)
		if err == nil && (l[topic][0] == frozen || l[topic][0] < 0) {
			err = fmt.Errorf("leader %d", l[topic][0]+1)
		}
		return err
	})
	waitCond(t, ctx, "the coordinator moves off the frozen node", func() error {
		now, err := c.Coordinator(group)
		if err == nil && now == frozen {
			err = fmt.Errorf("still node %d", now+1)
		}
		return err
	})
	t.Logf("node %d frozen: leadership moved after %s", frozen+1, time.Since(t0).Round(time.Millisecond))
	wantCommits("node frozen", false)
	if err := c.Thaw(frozen); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	if err := c.WaitISR(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("node %d thawed: full ISR after %s", frozen+1, time.Since(t0).Round(time.Millisecond))
	wantCommits("after", true)
}

func mustClient(t *testing.T, addrs []string, cfg *sarama.Config) sarama.Client {
	t.Helper()
	cl, err := sarama.NewClient(addrs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func waitCond(t *testing.T, ctx context.Context, what string, cond func() error) {
	t.Helper()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

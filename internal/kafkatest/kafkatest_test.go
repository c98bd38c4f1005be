package kafkatest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/kafkatest"
)

func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_7_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	return cfg
}

// exercise: topic with 2 partitions, 10 records on p0 and 3 on p1, a classic group that commits
// 6 records of p0 and 2 of p1, then leaves; Kafka's CLI must show exactly that.
func exercise(t *testing.T, b *kafkatest.Broker, topic, group string) {
	t.Helper()
	cfg := saramaConfig()
	admin, err := sarama.NewClusterAdmin(b.Bootstrap(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	prod, err := sarama.NewSyncProducer(b.Bootstrap(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range map[int32]int{0: 10, 1: 3} {
		for i := 0; i < n; i++ {
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	prod.Close()

	// Partition 0: commit 6 of 10; partition 1: commit 2 of 3 (one member owns both partitions).
	cg, err := sarama.NewConsumerGroup(b.Bootstrap(), group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h := &markHandler{marks: map[int32]int{0: 6, 1: 2}, done: make(chan struct{})}
	go func() {
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil {
				return
			}
		}
	}()
	select {
	case <-h.done:
	case <-ctx.Done():
		t.Fatal("consumer group did not commit in time")
	}
	cancel()
	if err := cg.Close(); err != nil {
		t.Fatal(err)
	}

	rows := b.ConsumerGroups(t)
	want := map[int32]kafkatest.GroupOffset{
		0: {Group: group, Topic: topic, Partition: 0, CurrentOffset: 6, LogEndOffset: 10, Lag: 4, ConsumerID: "-"},
		1: {Group: group, Topic: topic, Partition: 1, CurrentOffset: 2, LogEndOffset: 3, Lag: 1, ConsumerID: "-"},
	}
	seen := 0
	for _, r := range rows {
		if r.Group != group {
			continue
		}
		seen++
		w, ok := want[r.Partition]
		r.Host, r.ClientID = "", ""
		if !ok || r != w {
			t.Errorf("row %+v, want %+v", r, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("saw %d rows of group %s, want %d; all rows: %+v", seen, group, len(want), rows)
	}
}

type markHandler struct {
	marks map[int32]int
	done  chan struct{}
	left  int
}

func (h *markHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *markHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *markHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	want := h.marks[c.Partition()]
	n := 0
	for msg := range c.Messages() {
		n++
		if n <= want {
			s.MarkMessage(msg, "")
		}
		if n == want {
			s.Commit()
			h.finish(s)
		}
	}
	return nil
}

var finishMu = make(chan struct{}, 1)

func (h *markHandler) finish(s sarama.ConsumerGroupSession) {
	finishMu <- struct{}{}
	defer func() { <-finishMu }()
	h.left++
	if h.left == len(h.marks) {
		close(h.done)
	}
}

func testVersion(t *testing.T, version string) {
	b := kafkatest.Start(t, kafkatest.Options{Version: version})
	if want := version + "."; len(b.Version) < len(want) || b.Version[:len(want)] != want {
		t.Fatalf("Version = %q, want %s.x", b.Version, version)
	}
	exercise(t, b, "t1", "g1")

	addr := b.Addr
	t0 := time.Now()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart took %s", time.Since(t0).Round(time.Millisecond))
	if b.Addr != addr {
		t.Fatalf("address changed across restart: %s -> %s", addr, b.Addr)
	}
	// Offsets survive the restart.
	found := 0
	for _, r := range b.ConsumerGroups(t) {
		if r.Group == "g1" && r.Topic == "t1" {
			found++
			if (r.Partition == 0 && (r.CurrentOffset != 6 || r.LogEndOffset != 10)) ||
				(r.Partition == 1 && (r.CurrentOffset != 2 || r.LogEndOffset != 3)) {
				t.Errorf("after restart: %+v", r)
			}
		}
	}
	if found != 2 {
		t.Fatalf("after restart: %d rows of g1/t1, want 2", found)
	}
}

func TestKafka41(t *testing.T) { testVersion(t, "4.1") }

func TestKafka39(t *testing.T) { testVersion(t, "3.9") }

package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// saramaConfig is the clients' configuration: protocol 3.7 (served by 3.9
// and 4.1 alike).
func saramaConfig(clientID string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_7_0_0
	cfg.ClientID = clientID
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = false
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	return cfg
}

func newAdmin(t *testing.T, b *kafkatest.Broker) sarama.ClusterAdmin {
	t.Helper()
	adm, err := sarama.NewClusterAdmin(b.Bootstrap(), saramaConfig("e2e-admin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = adm.Close() })
	return adm
}

// createTopic creates topic with len(counts) partitions and writes
// counts[p] records to partition p.
func createTopic(t *testing.T, b *kafkatest.Broker, adm sarama.ClusterAdmin, topic string, counts ...int) {
	t.Helper()
	err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: int32(len(counts)), ReplicationFactor: 1}, false)
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	waitLeaders(t, b, topic, len(counts))
	prod, err := sarama.NewSyncProducer(b.Bootstrap(), saramaConfig("e2e-producer"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p, n := range counts {
		msgs := make([]*sarama.ProducerMessage, n)
		for i := range msgs {
			msgs[i] = &sarama.ProducerMessage{
				Topic: topic, Partition: int32(p),
				Value: sarama.StringEncoder(fmt.Sprintf(`{"number": %d}`, i)),
			}
		}
		if err := sendRetry(prod, msgs); err != nil {
			t.Fatalf("produce %d records to %s/%d: %v", n, topic, p, err)
		}
	}
}

// sendRetry sends msgs once the topic's leaders are known (a fresh topic
// has none for a moment); the batch is sent once, so counts stay exact.
func sendRetry(prod sarama.SyncProducer, msgs []*sarama.ProducerMessage) error {
	return prod.SendMessages(msgs)
}

// waitLeaders waits until every partition of topic has a leader.
func waitLeaders(t *testing.T, b *kafkatest.Broker, topic string, parts int) {
	t.Helper()
	client, err := sarama.NewClient(b.Bootstrap(), saramaConfig("e2e-meta"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = client.RefreshMetadata(topic)
		if err == nil {
			for p := 0; p < parts && err == nil; p++ {
				_, err = client.Leader(topic, int32(p))
			}
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has no leaders: %v", topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tp is a topic-partition.
type tp struct {
	topic     string
	partition int32
}

// classicGroup is a sarama consumer group (classic protocol) whose members
// consume until the committed offset of each partition reaches its target
// (no commit where the target is 0 or absent), then keep their membership
// until stopped.
type classicGroup struct {
	name    string
	targets map[tp]int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	members []sarama.ConsumerGroup
}

// startClassicGroup starts members consumers of group on topics. t's cleanup
// stops whatever is still running.
func startClassicGroup(t *testing.T, b *kafkatest.Broker, group string, members int, topics []string, targets map[tp]int64, isolation sarama.IsolationLevel) *classicGroup {
	t.Helper()
	return startClassicGroupOn(t, b.Bootstrap(), group, members, topics, targets, isolation)
}

// startClassicGroupOn is startClassicGroup with the members bootstrapping
// from addrs (every node of a cluster).
func startClassicGroupOn(t *testing.T, addrs []string, group string, members int, topics []string, targets map[tp]int64, isolation sarama.IsolationLevel) *classicGroup {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &classicGroup{name: group, targets: targets, cancel: cancel}
	for i := 0; i < members; i++ {
		cfg := saramaConfig(fmt.Sprintf("%s-%d", group, i))
		cfg.Consumer.IsolationLevel = isolation
		// Marked offsets are committed every 100ms and on Close; a
		// synchronous commit per message costs tens of milliseconds each.
		cfg.Consumer.Offsets.AutoCommit.Enable = true
		cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
		cg, err := sarama.NewConsumerGroup(addrs, group, cfg)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		g.members = append(g.members, cg)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			h := &targetHandler{targets: targets}
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, topics, h); err != nil && ctx.Err() == nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	t.Cleanup(g.stop)
	return g
}

// stop makes every member leave the group (the group becomes Empty).
func (g *classicGroup) stop() {
	g.cancel()
	g.wg.Wait()
	for _, cg := range g.members {
		_ = cg.Close()
	}
	g.members = nil
}

// targetHandler marks every message below its partition's target (the
// auto-commit sends the marks); later messages are drained without marking.
type targetHandler struct {
	targets map[tp]int64 // nil: mark everything delivered
}

func (h *targetHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *targetHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *targetHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	target, all := int64(-1), h.targets == nil
	if !all {
		target = h.targets[tp{claim.Topic(), claim.Partition()}]
	}
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if all || msg.Offset < target {
				sess.MarkMessage(msg, "")
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

// waitCommitted waits until group's committed offsets are exactly want
// (partitions not in want must have no commit).
func waitCommitted(t *testing.T, adm sarama.ClusterAdmin, group string, topics map[string][]int32, want map[tp]int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var (
		got map[tp]int64
		err error
	)
	for time.Now().Before(deadline) {
		// A fresh broker's coordinator may still be loading its offsets.
		got, err = committed(adm, group, topics)
		if err == nil && equalOffsets(got, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s: committed offsets %v (err %v), want %v", group, sortedOffsets(got), err, sortedOffsets(want))
}

func committed(adm sarama.ClusterAdmin, group string, topics map[string][]int32) (map[tp]int64, error) {
	resp, err := adm.ListConsumerGroupOffsets(group, topics)
	if err != nil {
		return nil, fmt.Errorf("offset fetch %s: %w", group, err)
	}
	if resp.Err != sarama.ErrNoError {
		return nil, fmt.Errorf("offset fetch %s: %w", group, resp.Err)
	}
	got := map[tp]int64{}
	for topic, parts := range resp.Blocks {
		for p, blk := range parts {
			if blk != nil && blk.Err == sarama.ErrNoError && blk.Offset >= 0 {
				got[tp{topic, p}] = blk.Offset
			}
		}
	}
	return got, nil
}

func equalOffsets(a, b map[tp]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sortedOffsets(m map[tp]int64) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s/%d=%d", k.topic, k.partition, v))
	}
	sort.Strings(out)
	return out
}

// nonZero drops the zero targets (partitions that get no commit).
func nonZero(m map[tp]int64) map[tp]int64 {
	out := map[tp]int64{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

// endOffsets returns the high watermark (read_uncommitted) or LSO
// (read_committed) of topic's partitions, read with ListOffsets.
func endOffsets(t *testing.T, b *kafkatest.Broker, topic string, parts int32, iso sarama.IsolationLevel) []int64 {
	t.Helper()
	client, err := sarama.NewClient(b.Bootstrap(), saramaConfig("e2e-offsets"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	out := make([]int64, parts)
	for p := int32(0); p < parts; p++ {
		leader, err := client.Leader(topic, p)
		if err != nil {
			t.Fatal(err)
		}
		req := sarama.NewOffsetRequest(sarama.V3_7_0_0)
		req.IsolationLevel = iso
		req.AddBlock(topic, p, sarama.OffsetNewest, 1)
		resp, err := leader.GetAvailableOffsets(req)
		if err != nil {
			t.Fatal(err)
		}
		blk := resp.GetBlock(topic, p)
		if blk == nil || blk.Err != sarama.ErrNoError {
			t.Fatalf("list offsets %s/%d: %v", topic, p, blk)
		}
		out[p] = blk.Offset
	}
	return out
}

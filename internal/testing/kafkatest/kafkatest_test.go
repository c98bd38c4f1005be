package kafkatest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
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

// waitFor polls cond every 500 ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, timeout, 500*time.Millisecond, cond)
}

func checkOffsetsKept(t *testing.T, b *kafkatest.Broker, topic, group string) {
	t.Helper()
	// The restarted broker answers before its group coordinator has
	// loaded __consumer_offsets (asynchronously): until then the CLI shows
	// no rows of the group. Wait for the rows, then check their offsets.
	var rows []kafkatest.GroupOffset
	deadline := time.Now().Add(time.Minute)
	for {
		rows = rows[:0]
		for _, r := range b.ConsumerGroups(t) {
			if r.Group == group && r.Topic == topic {
				rows = append(rows, r)
			}
		}
		if len(rows) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(rows) != 2 {
		t.Fatalf("after restart: %d rows of %s/%s, want 2", len(rows), group, topic)
	}
	for _, r := range rows {
		if (r.Partition == 0 && (r.CurrentOffset != 6 || r.LogEndOffset != 10)) ||
			(r.Partition == 1 && (r.CurrentOffset != 2 || r.LogEndOffset != 3)) {
			t.Errorf("after restart: %+v", r)
		}
	}
}

func wantVersion(t *testing.T, b *kafkatest.Broker, line string) {
	t.Helper()
	if !strings.HasPrefix(b.Version, line+".") {
		t.Fatalf("Version = %q, want %s.x", b.Version, line)
	}
}

var opts41 = kafkatest.Options{Version: "4.1"}

// TestKafka41 uses the package's shared 4.1 broker: a classic group checked against Kafka's CLI,
// then a KIP-848 group (Kafka's console consumer with group.protocol=consumer).
func TestKafka41(t *testing.T) {
	b := kafkatest.Shared(t, opts41)
	wantVersion(t, b, "4.1")
	// Names of this run's own: the shared broker outlives a run (-count).
	run := time.Now().UnixNano()
	topic, g848 := fmt.Sprintf("t41-%d", run), fmt.Sprintf("g848-%d", run)
	exercise(t, b, topic, fmt.Sprintf("g41-%d", run))

	cmd := b.Command(t, kafkatest.MainConsoleConsumer, "--bootstrap-server", b.Addr, "--topic", topic,
		"--group", g848, "--from-beginning",
		"--consumer-property", "group.protocol=consumer",
		"--consumer-property", "auto.commit.interval.ms=200")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	for n := 0; n < 13 && sc.Scan(); n++ {
	}
	waitFor(t, 30*time.Second, "g848 commits 10+3", func() bool {
		sum := int64(0)
		for _, r := range b.ConsumerGroups(t) {
			if r.Group == g848 && r.ConsumerID != "-" && r.Lag == 0 {
				sum += r.CurrentOffset
			}
		}
		return sum == 13
	})
	var got kafkatest.GroupListing
	for _, g := range b.Groups(t) {
		if g.Group == g848 {
			got = g
		}
	}
	if got.State != "Stable" || got.Type != "Consumer" {
		t.Fatalf("g848 listed as %+v, want Stable Consumer", got)
	}
}

func TestKafka41Restart(t *testing.T) {
	b := kafkatest.Shared(t, opts41)
	// Names of this run's own: the shared broker outlives a run (-count).
	run := time.Now().UnixNano()
	topic, group := fmt.Sprintf("t41r-%d", run), fmt.Sprintf("g41r-%d", run)
	exercise(t, b, topic, group)
	addr := b.Addr
	t0 := time.Now()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("graceful restart took %s", time.Since(t0).Round(time.Millisecond))
	if b.Addr != addr {
		t.Fatalf("address changed across restart: %s -> %s", addr, b.Addr)
	}
	checkOffsetsKept(t, b, topic, group)
}

func TestSharedIsShared(t *testing.T) {
	if kafkatest.Shared(t, opts41) != kafkatest.Shared(t, kafkatest.Options{Version: "4.1"}) {
		t.Fatal("Shared returned two brokers for the same options")
	}
}

// TestKafka39 starts its own 3.9 broker, runs the same checks, and restarts it after a crash.
func TestKafka39(t *testing.T) {
	b := kafkatest.Start(t, kafkatest.Options{Version: "3.9"})
	wantVersion(t, b, "3.9")
	exercise(t, b, "t39", "g39")
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	if b.Running() {
		t.Fatal("running after Kill")
	}
	t0 := time.Now()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart after SIGKILL took %s", time.Since(t0).Round(time.Millisecond))
	checkOffsetsKept(t, b, "t39", "g39")
	gs := b.Groups(t)
	if len(gs) != 1 || gs[0] != (kafkatest.GroupListing{Group: "g39", State: "Empty"}) {
		t.Fatalf("groups = %+v", gs)
	}
}

func TestParseConsumerGroups(t *testing.T) {
	// Kafka 3.9.2 output: two tables, the second with a wider CONSUMER-ID column.
	out := `
GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
g1              t1              1          2               3               1               -               -               -
g1              t1              0          -               10              -               -               -               -
GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                           HOST            CLIENT-ID
g848            t1              0          10              10              0               console-consumer-3ea92c72-749e-4874-824b-57d9f8c57b2f /127.0.0.1      console-consumer

Consumer group 'g2' has no active members.
`
	rows, err := kafkatest.ParseConsumerGroups(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []kafkatest.GroupOffset{
		{Group: "g1", Topic: "t1", Partition: 1, CurrentOffset: 2, LogEndOffset: 3, Lag: 1, ConsumerID: "-", Host: "-", ClientID: "-"},
		{Group: "g1", Topic: "t1", Partition: 0, CurrentOffset: -1, LogEndOffset: 10, Lag: -1, ConsumerID: "-", Host: "-", ClientID: "-"},
		{Group: "g848", Topic: "t1", Partition: 0, CurrentOffset: 10, LogEndOffset: 10, Lag: 0, ConsumerID: "console-consumer-3ea92c72-749e-4874-824b-57d9f8c57b2f", Host: "/127.0.0.1", ClientID: "console-consumer"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows: %+v", len(rows), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	gs, err := kafkatest.ParseGroupListing("GROUP                     TYPE                     STATE               \ng848                      Consumer                 Stable              \ng1                        Classic                  Empty               \n")
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || gs[0] != (kafkatest.GroupListing{Group: "g848", State: "Stable", Type: "Consumer"}) || gs[1].Type != "Classic" {
		t.Fatalf("listing = %+v", gs)
	}
}

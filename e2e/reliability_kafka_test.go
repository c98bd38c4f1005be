package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/kafkatest"
)

// TestReliabilityBrokerRestart stops the (only) broker under a running
// exporter binary and starts it again on the same ports: the exporter
// survives, offsetlag_up is 0 during the outage while the last values stay
// served, the values are correct within 2 polls once the broker is back,
// and goroutines and open file descriptors come back to where they were.
// It runs on its own broker (stopping the shared one would break the tests
// running beside it).
func TestReliabilityBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("real broker restart skipped in -short mode")
	}
	b := kafkatest.Start(t, kafkatest.Options{})
	adm := newAdmin(t, b)
	topic, group := uniq("rel"), uniq("relg")
	createTopic(t, b, adm, topic, 10, 20)
	commit := func(offs map[int32]int64) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Bootstrap()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		os := kadm.Offsets{}
		for p, o := range offs {
			os.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := kadm.NewClient(cl).CommitAllOffsets(ctx, group, os); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	commit(map[int32]int64{0: 3, 1: 5})

	p := startExporter(t, b, "--poll.timeout", "400ms")
	lagIs := func(want map[int32]float64) func(metricSet) bool {
		return func(ms metricSet) bool {
			if ms.value("offsetlag_up", nil) != 1 {
				return false
			}
			for part, v := range want {
				if ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": itoa(part)}) != v {
					return false
				}
			}
			return true
		}
	}
	waitMetric(t, p, lagIs(map[int32]float64{0: 7, 1: 15}), "lag before the outage")
	// Baseline after a few polls (connections and caches warm).
	time.Sleep(3 * time.Second)
	base := p.settled(t)
	g0, f0 := base.value("go_goroutines", nil), base.value("process_open_fds", nil)

	// Outage.
	t0 := time.Now()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, func(ms metricSet) bool { return ms.value("offsetlag_up", nil) == 0 }, "up 0 during the outage")
	seenDown := time.Since(t0)
	time.Sleep(5 * time.Second)
	ms, err := p.scrape()
	if err != nil {
		t.Fatalf("exporter does not answer during the outage: %v", err)
	}
	if ms.value("offsetlag_up", nil) != 0 {
		t.Error("up is not 0 five seconds into the outage")
	}
	kept := ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": "1"})
	if kept != 15 {
		t.Errorf("lag of partition 1 during the outage: %v, want the last value 15", kept)
	}
	downPolls := ms.value("offsetlag_poll_errors_total", nil)

	// Back on the same ports; a few more records while the exporter reconnects.
	if err := b.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	back := time.Now()
	prod, err := sarama.NewSyncProducer(b.Bootstrap(), saramaConfig("e2e-rel"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]*sarama.ProducerMessage, 5)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder("x")}
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	_ = prod.Close()
	ready, _ := p.scrape()
	pollsAtReady := ready.value("offsetlag_polls_total", nil)
	waitMetric(t, p, lagIs(map[int32]float64{0: 12, 1: 15}), "correct lag after the restart")
	ok, _ := p.scrape()
	polls := ok.value("offsetlag_polls_total", nil) - pollsAtReady
	recovered := time.Since(back)
	if polls > 3 { // the poll under way when the records were written, then 2
		t.Errorf("correct %v polls after the broker was back and the records written, want at most 2 (+1 under way)", polls)
	}

	// Resources back to the baseline, after a dozen polls.
	time.Sleep(6 * time.Second)
	end := p.settled(t)
	g1, f1 := end.value("go_goroutines", nil), end.value("process_open_fds", nil)
	if g1 > g0+15 || f1 > f0+5 {
		t.Errorf("after recovery: %v goroutines (before %v), %v open fds (before %v)", g1, g0, f1, f0)
	}
	select {
	case <-p.done:
		t.Fatal("exporter exited")
	default:
	}
	t.Logf("RELIABILITY | real Kafka %s stopped under the exporter binary, restarted on the same ports | exporter survives; up 0 during the outage, last values kept; correct within 2 polls after; goroutines and fds stable | up 0 %.1fs after the stop (%v failed polls over %.0fs), last lag kept; correct %v polls (%.1fs) after restart; goroutines %v -> %v, open fds %v -> %v |",
		b.Version, seenDown.Seconds(), downPolls, time.Since(t0).Seconds()-time.Since(back).Seconds(), polls, recovered.Seconds(), g0, g1, f0, f1)
}

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// TestReliabilityBrokerRestart stops the (only) broker under a running
// exporter binary and starts it again on the same ports: the exporter
// survives, offsetlag_up is 0 during the outage while the last values stay
// served (checked on every scrape of 6 polls), the values are correct within
// 2 polls once the broker is back and stay so, the exporter logs no deletion
// (nothing was deleted), and goroutines and open file descriptors come back
// to where they were. It waits on polls (offsetlag_polls_total), never on
// fixed sleeps.
// It runs on its own broker (stopping the shared one would break the tests
// running beside it).
func TestReliabilityBrokerRestart(t *testing.T) {
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
	p.watchPolls(t, 4, "warm-up", nil)
	base := p.settled(t)
	g0, f0 := base.value("go_goroutines", nil), base.value("process_open_fds", nil)

	// Outage: from the first scrape with up 0, every scrape of the next 6
	// polls must serve up 0 and the last values read.
	t0 := time.Now()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, func(ms metricSet) bool { return ms.value("offsetlag_up", nil) == 0 }, "up 0 during the outage")
	seenDown := time.Since(t0)
	downScrapes := p.watchPolls(t, 6, "outage", func(ms metricSet) error {
		if up := ms.value("offsetlag_up", nil); up != 0 {
			return fmt.Errorf("offsetlag_up %v during the outage, want 0", up)
		}
		for part, want := range map[int32]float64{0: 7, 1: 15} {
			got := ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": itoa(part)})
			if got != want {
				return fmt.Errorf("lag of partition %d during the outage: %v, want the last value %v", part, got, want)
			}
		}
		return nil
	})
	ms, err := p.scrape()
	if err != nil {
		t.Fatalf("exporter does not answer during the outage: %v", err)
	}
	downPolls := ms.value("offsetlag_poll_errors_total", nil)

	// Back on the same ports; a few more records while the exporter reconnects.
	if err := b.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	back := time.Now()
	outage := back.Sub(t0)
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
	ready, err := p.scrape()
	if err != nil {
		t.Fatal(err)
	}
	pollsAtReady := ready.value("offsetlag_polls_total", nil)
	waitMetric(t, p, lagIs(map[int32]float64{0: 12, 1: 15}), "correct lag after the restart")
	ok, err := p.scrape()
	if err != nil {
		t.Fatal(err)
	}
	polls := ok.value("offsetlag_polls_total", nil) - pollsAtReady
	recovered := time.Since(back)
	if polls > 3 { // the poll under way when the records were written, then 2
		t.Errorf("correct %v polls after the broker was back and the records written, want at most 2 (+1 under way)", polls)
	}

	// Resources back to the baseline, after a dozen polls; the values stay right.
	p.watchPolls(t, 12, "after the restart", func(ms metricSet) error {
		if !lagIs(map[int32]float64{0: 12, 1: 15})(ms) {
			return fmt.Errorf("lag after the restart: partition 0 %v, partition 1 %v, up %v; want 12, 15, 1",
				ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": "0"}),
				ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": "1"}),
				ms.value("offsetlag_up", nil))
		}
		return nil
	})
	end := p.settled(t)
	g1, f1 := end.value("go_goroutines", nil), end.value("process_open_fds", nil)
	if g1 > g0+15 || f1 > f0+5 {
		t.Errorf("after recovery: %v goroutines (before %v), %v open fds (before %v)", g1, g0, f1, f0)
	}
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if falseEvent(line) {
			t.Errorf("false event in the exporter log (nothing was deleted): %s", line)
		}
	}
	if err := p.exited(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	t.Logf("RELIABILITY | Real Kafka %s stopped under the exporter binary, restarted on the same ports | survives; up 0; last values kept; correct within 2 polls; goroutines and fds stable; no false deletion | up 0 %.1fs after the stop; last lag kept on all %d scrapes of the outage (%v failed polls over %.1fs); correct %v polls (%.1fs) after the restart; goroutines %v -> %v, open fds %v -> %v |",
		b.Version, seenDown.Seconds(), downScrapes, downPolls, outage.Seconds(), polls, recovered.Seconds(), g0, g1, f0, f1)
}

// watchPolls scrapes every 100 ms until n more polls finished (per
// offsetlag_polls_total) and calls check, when not nil, on every scrape; the
// first error fails the test. It returns the number of scrapes.
func (p *exporterProc) watchPolls(t *testing.T, n int, what string, check func(metricSet) error) int {
	t.Helper()
	deadline := time.Now().Add(time.Duration(n)*5*time.Second + 30*time.Second)
	start, scrapes := -1.0, 0
	for time.Now().Before(deadline) {
		if err := p.exited(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		ms, err := p.scrape()
		if err != nil {
			t.Fatalf("%s: scrape: %v", what, err)
		}
		scrapes++
		if check != nil {
			if err := check(ms); err != nil {
				t.Fatalf("%s, scrape %d (poll %v): %v", what, scrapes, ms.value("offsetlag_polls_total", nil), err)
			}
		}
		polls := ms.value("offsetlag_polls_total", nil)
		if start < 0 {
			start = polls
		} else if polls-start >= float64(n) {
			return scrapes
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d polls in %s", what, n, time.Duration(n)*5*time.Second+30*time.Second)
	return 0
}

// falseEvents are the exporter's log messages that conclude a deletion or an
// expiry of committed offsets; in the reliability tests nothing is deleted
// and the retention is the brokers' 7 days, so none may appear.
var falseEvents = []string{
	"committed offsets expired",
	"deleted before their predicted expiry",
	"deleted on purpose",
	"commits again on a topic whose offsets had expired",
}

// falseEvent reports whether a log line is one of falseEvents.
func falseEvent(line string) bool {
	for _, ev := range falseEvents {
		if strings.Contains(line, ev) {
			return true
		}
	}
	return false
}

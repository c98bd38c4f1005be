package e2e

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// TestTransactions writes committed, aborted and open transactions and
// checks the lag of caught-up consumers with --kafka.isolation
// read_uncommitted (high watermark) and read_committed (last stable
// offset), against Kafka's CLI.
//
// The log of the one partition, offset by offset:
//
//	0-4   txn 1 records, committed     5  COMMIT marker
//	6-8   txn 2 records, aborted       9  ABORT marker
//	10-13 txn 3 records, committed    14  COMMIT marker   HW = LSO = 15
//	15-17 txn 4 records, open                             HW = 18, LSO = 15
//	                                  18  COMMIT marker   HW = LSO = 19
//
// Two kinds of read_committed consumers commit differently, and that - not
// the isolation setting - decides whether a caught-up group shows lag:
//   - Kafka's Java consumer (console consumer) commits its position, which
//     moves past control batches: 15, then 19. Lag 0.
//   - sarama commits the offset of the last record it delivered + 1: 14,
//     then 18. The trailing control marker is one record of lag in both
//     settings, for as long as no new record follows.
//
// An open transaction is where the settings differ: read_uncommitted
// measures to the HW (the open records count as lag, although a
// read_committed consumer cannot read them yet); read_committed measures to
// the LSO.
func TestTransactions(t *testing.T) {
	forEachVersion(t, func(t *testing.T, b *kafkatest.Broker) {
		start := time.Now()
		adm := newAdmin(t, b)
		pre := uniq("txn")
		topic := pre + "events"
		if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
			t.Fatal(err)
		}
		waitLeaders(t, b, topic, 1)
		parts := map[string][]int32{topic: {0}}
		p0 := tp{topic, 0}

		prod := newTxnProducer(t, b, pre+"producer")
		txn(t, prod, topic, 5, true)
		txn(t, prod, topic, 3, false)
		txn(t, prod, topic, 4, true)
		waitEndOffset(t, b, topic, sarama.ReadUncommitted, 15, "after 3 transactions")

		saramaRC, saramaRU, console := pre+"sarama-read-committed", pre+"sarama-read-uncommitted", pre+"console-read-committed"
		startClassicGroup(t, b, saramaRC, 1, []string{topic}, nil, sarama.ReadCommitted)
		ru := startClassicGroup(t, b, saramaRU, 1, []string{topic}, nil, sarama.ReadUncommitted)
		cc := b.Command(t, kafkatest.MainConsoleConsumer,
			"--bootstrap-server", b.Addr, "--topic", topic, "--group", console, "--from-beginning",
			"--consumer-property", "isolation.level=read_committed",
			"--consumer-property", "auto.commit.interval.ms=100")
		cc.Stdout, cc.Stderr = io.Discard, io.Discard
		if err := cc.Start(); err != nil {
			t.Fatal(err)
		}

		expRU := startExporter(t, b, "--groups.allow", pre+".*", "--kafka.isolation", "read_uncommitted")
		expRC := startExporter(t, b, "--groups.allow", pre+".*", "--kafka.isolation", "read_committed")

		// Phase 1: committed and aborted transactions only; everyone caught up.
		waitCommitted(t, adm, saramaRU, parts, map[tp]int64{p0: 14})
		ru.stop()
		// phase waits until the running groups committed what want says,
		// then compares both exporters and Kafka's CLI with want.
		phase := func(name string, hw, lso int64, want map[string][3]int64, running ...string) {
			t.Helper()
			// want: group -> committed, lag to HW, lag to LSO
			for _, g := range running {
				waitCommitted(t, adm, g, parts, map[tp]int64{p0: want[g][0]})
			}
			waitEndOffset(t, b, topic, sarama.ReadUncommitted, hw, name)
			waitEndOffset(t, b, topic, sarama.ReadCommitted, lso, name)
			msRU, msRC := expRU.settled(t), expRC.settled(t)
			rows := b.ConsumerGroups(t)
			cli := map[string]kafkatest.GroupOffset{}
			for _, r := range rows {
				if strings.HasPrefix(r.Group, pre) {
					cli[r.Group] = r
				}
			}
			checkEnd := func(iso string, ms metricSet, end int64) {
				t.Helper()
				if got := ms.value("offsetlag_partition_end_offset", map[string]string{"topic": topic, "partition": "0"}); got != float64(end) {
					t.Errorf("%s, %s: end offset %v, want %d", name, iso, got, end)
				}
			}
			checkEnd("read_uncommitted", msRU, hw)
			checkEnd("read_committed", msRC, lso)
			for g, w := range want {
				sel := map[string]string{"group": g, "topic": topic, "partition": "0"}
				gotRU := msRU.value("offsetlag_consumergroup_lag", sel)
				gotRC := msRC.value("offsetlag_consumergroup_lag", sel)
				gotC := msRU.value("offsetlag_consumergroup_committed_offset", sel)
				if gotC != float64(w[0]) || gotRU != float64(w[1]) || gotRC != float64(w[2]) {
					t.Errorf("%s, %s: committed %v, lag to HW %v, lag to LSO %v; want %d, %d, %d",
						name, g, gotC, gotRU, gotRC, w[0], w[1], w[2])
				}
				r, ok := cli[g]
				switch {
				case !ok:
					t.Errorf("%s, %s: no row in Kafka's describe output", name, g)
				case r.CurrentOffset != w[0] || r.LogEndOffset != hw || r.Lag != int64(gotRU):
					t.Errorf("%s, %s: Kafka CLI current %d, log end %d, lag %d; exporter (read_uncommitted) committed %v, lag %v, HW %d",
						name, g, r.CurrentOffset, r.LogEndOffset, r.Lag, gotC, gotRU, hw)
				}
				t.Logf("%s: %-32s committed %2d  HW %2d LSO %2d  lag(read_uncommitted) %v  lag(read_committed) %v  CLI lag %d (log end %d)",
					name, g, w[0], hw, lso, gotRU, gotRC, r.Lag, r.LogEndOffset)
			}
		}
		phase("committed+aborted", 15, 15, map[string][3]int64{
			saramaRC: {14, 1, 1}, // sarama commits 13+1: the COMMIT marker at 14 is lag
			saramaRU: {14, 1, 1},
			console:  {15, 0, 0}, // the Java consumer's position is past the marker
		}, saramaRC, console)

		// Phase 2: an open transaction. The read_committed consumers cannot
		// move (the LSO stays at 15); the HW moves to 18.
		if err := prod.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		sendTxnRecords(t, prod, topic, 3)
		time.Sleep(time.Second) // give the consumers a chance to (wrongly) move
		phase("open transaction", 18, 15, map[string][3]int64{
			saramaRC: {14, 4, 1},
			saramaRU: {14, 4, 1},
			console:  {15, 3, 0},
		}, saramaRC, console)

		// Phase 3: the transaction commits; the marker takes offset 18.
		if err := prod.CommitTxn(); err != nil {
			t.Fatal(err)
		}
		phase("after commit", 19, 19, map[string][3]int64{
			saramaRC: {18, 1, 1},
			saramaRU: {14, 5, 5},
			console:  {19, 0, 0},
		}, saramaRC, console)
		t.Logf("Kafka %s: transactions checked in %s", b.Version, time.Since(start).Round(time.Millisecond))
	})
}

func newTxnProducer(t *testing.T, b *kafkatest.Broker, id string) sarama.SyncProducer {
	t.Helper()
	cfg := saramaConfig(id)
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = id
	cfg.Producer.Transaction.Timeout = 2 * time.Minute
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer(b.Bootstrap(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if prod.TxnStatus()&sarama.ProducerTxnFlagInTransaction != 0 {
			_ = prod.AbortTxn()
		}
		_ = prod.Close()
	})
	return prod
}

// txn writes n records to partition 0 of topic in one transaction and
// commits or aborts it.
func txn(t *testing.T, prod sarama.SyncProducer, topic string, n int, commit bool) {
	t.Helper()
	if err := prod.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	sendTxnRecords(t, prod, topic, n)
	var err error
	if commit {
		err = prod.CommitTxn()
	} else {
		err = prod.AbortTxn()
	}
	if err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

func sendTxnRecords(t *testing.T, prod sarama.SyncProducer, topic string, n int) {
	t.Helper()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf(`{"number": %d}`, i))}
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
}

// waitEndOffset waits until partition 0 of topic has end offset want (the
// high watermark, or the LSO under read_committed). EndTxn returns before the
// coordinator has written the commit or abort marker, so the marker's offset
// appears a moment later; an end offset beyond want fails at once.
func waitEndOffset(t *testing.T, b *kafkatest.Broker, topic string, iso sarama.IsolationLevel, want int64, what string) {
	t.Helper()
	name := map[sarama.IsolationLevel]string{sarama.ReadUncommitted: "high watermark", sarama.ReadCommitted: "last stable offset"}[iso]
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := endOffsets(t, b, topic, 1, iso)[0]
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("%s: %s %d, want %d", what, name, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package e2e

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
)

// TestKIP848ConsumerGroup runs Kafka's console consumer on the new consumer
// group protocol (group.protocol=consumer) and checks that the exporter
// lists it as group_type "consumer", Stable with one member, and reports
// the lag Kafka's CLI reports. The consumer reads read_committed and an
// open transaction holds the LSO, so the member stays in the group, caught
// up as far as it can be, while partition 0 shows a lag of 4 (to the HW).
func TestKIP848ConsumerGroup(t *testing.T) {
	forEach4x(t, func(t *testing.T, b *kafkatest.Broker) {
		start := time.Now()
		adm := newAdmin(t, b)
		pre := uniq("kip848")
		topic, group := pre+"events", pre+"console"
		createTopic(t, b, adm, topic, 30, 45)
		parts := map[string][]int32{topic: {0, 1}}

		exp := startExporter(t, b, "--groups.allow", pre+".*")
		cc := b.Command(t, kafkatest.MainConsoleConsumer,
			"--bootstrap-server", b.Addr, "--topic", topic, "--group", group, "--from-beginning",
			"--consumer-property", "group.protocol=consumer",
			"--consumer-property", "isolation.level=read_committed",
			"--consumer-property", "auto.commit.interval.ms=100")
		cc.Stdout, cc.Stderr = io.Discard, io.Discard
		if err := cc.Start(); err != nil {
			t.Fatal(err)
		}
		waitCommitted(t, adm, group, parts, map[tp]int64{{topic, 0}: 30, {topic, 1}: 45})

		prod := newTxnProducer(t, b, pre+"producer")
		if err := prod.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		sendTxnRecords(t, prod, topic, 4)                          // offsets 30-33 of partition 0, open
		want := map[int32][3]int64{0: {30, 34, 4}, 1: {45, 45, 0}} // committed, HW, lag

		sel := map[string]string{"group": group}
		var ms metricSet
		deadline := time.Now().Add(30 * time.Second)
		for {
			ms = exp.settled(t)
			if ms.value("offsetlag_consumergroup_state", map[string]string{"group": group, "state": "Stable"}) == 1 &&
				ms.value("offsetlag_consumergroup_members", sel) == 1 &&
				ms.value("offsetlag_consumergroup_lag", map[string]string{"group": group, "partition": "0"}) == 4 {
				break
			}
			if time.Now().After(deadline) {
				break // the checks below say what is wrong
			}
		}
		rows := b.ConsumerGroups(t)
		listed := b.Groups(t)

		if got := ms.value("offsetlag_consumergroup_info", map[string]string{"group": group, "group_type": "consumer"}); got != 1 {
			t.Errorf("offsetlag_consumergroup_info{group_type=\"consumer\"} = %v, want 1 (series: %v)", got, ms.series("offsetlag_consumergroup_info", sel))
		}
		if got := ms.value("offsetlag_consumergroup_state", map[string]string{"group": group, "state": "Stable"}); got != 1 {
			t.Errorf("offsetlag_consumergroup_state{state=\"Stable\"} = %v, want 1", got)
		}
		if got := ms.value("offsetlag_consumergroup_members", sel); got != 1 {
			t.Errorf("offsetlag_consumergroup_members = %v, want 1", got)
		}
		var found bool
		for _, l := range listed {
			if l.Group == group {
				found = true
				if !strings.EqualFold(l.Type, "consumer") || l.State != "Stable" {
					t.Errorf("CLI --list: type %q state %q, want Consumer Stable", l.Type, l.State)
				}
			}
		}
		if !found {
			t.Errorf("CLI --list does not show %s", group)
		}
		compared := 0
		for _, r := range rows {
			if r.Group != group {
				continue
			}
			w, ok := want[r.Partition]
			if !ok || r.Topic != topic {
				t.Errorf("unexpected row %+v", r)
				continue
			}
			psel := map[string]string{"group": group, "topic": topic, "partition": itoa(r.Partition)}
			lag := ms.value("offsetlag_consumergroup_lag", psel)
			committed := ms.value("offsetlag_consumergroup_committed_offset", psel)
			if r.CurrentOffset != w[0] || r.LogEndOffset != w[1] || r.Lag != w[2] {
				t.Errorf("partition %d: Kafka CLI current %d, log end %d, lag %d; want %v", r.Partition, r.CurrentOffset, r.LogEndOffset, r.Lag, w)
			}
			if int64(lag) != r.Lag || int64(committed) != r.CurrentOffset {
				t.Errorf("partition %d: exporter lag %v committed %v; Kafka CLI lag %d current %d", r.Partition, lag, committed, r.Lag, r.CurrentOffset)
			}
			if r.ConsumerID == "" || r.ConsumerID == "-" {
				t.Errorf("partition %d: CLI shows no owning member: %+v", r.Partition, r)
			}
			compared++
		}
		if compared != 2 {
			t.Errorf("compared %d partitions of %s, want 2", compared, group)
		}
		t.Logf("Kafka %s: KIP-848 group %s: type consumer, Stable, 1 member; compared %d partitions with the CLI (lag 4 and 0) in %s",
			b.Version, group, compared, time.Since(start).Round(time.Millisecond))
	})
}

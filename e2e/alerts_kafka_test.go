package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestExpiryAlertsKafka is deploy/prometheus_test.go's expiry story on a
// real broker: the exporter binary polls a dedicated Kafka broker (offset
// expiry checked every second), a real Prometheus scrapes it and evaluates
// the shipped rules (rendered with for: 2s), and the test reads
// /api/v1/alerts. A simple group's commits carry a 20 s retention
// (OffsetCommit v2 RetentionTime, which the broker honours):
// KafkaConsumerGroupOffsetsExpireSoon fires, the broker deletes them and
// KafkaConsumerGroupOffsetsExpired fires after it; a consumer then joins
// the group and commits: both resolve.
func TestExpiryAlertsKafka(t *testing.T) {
	promtest.Binary(t) // skip (fail with CI=true) before starting a broker
	const (
		topic     = "alerts"
		group     = "alerts-nightly"
		retention = 20 * time.Second
		wait      = 90 * time.Second
	)
	b := kafkatest.Start(t, kafkatest.Options{Configs: map[string]string{
		"offsets.retention.check.interval.ms": "1000",
	}})
	adm := newAdmin(t, b)
	createTopic(t, b, adm, topic, 20, 30)

	p := startExporter(t, b, "--kafka.offsets-retention", retention.String(), "--expiry.tolerance", "5s")
	ps := promtest.Start(t, strings.TrimPrefix(p.url, "http://"), promtest.RenderRules(t, "../deploy/alerts", t.TempDir()))
	rec := promtest.NewRecorder(ps)
	defer rec.Close()
	diag := func() string {
		return "exporter log:\n" + testenv.TailLines(p.logs.String(), 3000) + "\nprometheus log:\n" + testenv.TailLines(ps.Logs(), 1500)
	}

	// The commit, once the exporter and Prometheus are watching.
	client, err := sarama.NewClient(b.Bootstrap(), saramaConfig("alerts-committer"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	req := &sarama.OffsetCommitRequest{Version: 2, ConsumerGroup: group, ConsumerGroupGeneration: -1,
		RetentionTime: retention.Milliseconds()}
	req.AddBlock(topic, 0, 12, 0, "")
	req.AddBlock(topic, 1, 25, 0, "")
	var committed time.Time
	// A fresh broker may still be loading its coordinators: retry.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		kerr := sarama.ErrNoError
		coord, err := client.Coordinator(group)
		if err == nil {
			committed = time.Now()
			var resp *sarama.OffsetCommitResponse
			if resp, err = coord.CommitOffset(req); err == nil {
				for _, parts := range resp.Errors {
					for _, e := range parts {
						if e != sarama.ErrNoError {
							kerr = e
						}
					}
				}
			}
		}
		if err == nil && kerr == sarama.ErrNoError {
			break
		}
		if err == nil {
			err = kerr
		}
		if time.Now().After(deadline) {
			t.Fatalf("commit %s: %v", group, err)
		}
		_ = client.RefreshCoordinator(group)
	}

	soon := rec.WaitFiring(t, "KafkaConsumerGroupOffsetsExpireSoon", group, wait, diag)
	if v, err := strconv.ParseFloat(soon.Value, 64); err != nil || v < 0 || v > retention.Seconds() {
		t.Errorf("ExpireSoon value %q, want the seconds left (0..%v)", soon.Value, retention.Seconds())
	}
	expired := rec.WaitFiring(t, "KafkaConsumerGroupOffsetsExpired", group, wait, diag)
	if !expired.Fired.After(soon.Fired) || expired.Labels["topic"] != topic || expired.Labels["cluster_name"] != "e2e" {
		t.Errorf("Expired fired at %s (ExpireSoon at %s) with labels %v", expired.Fired, soon.Fired, expired.Labels)
	}

	// A consumer joins the group and commits: both resolve.
	joined := time.Now()
	g := startClassicGroup(t, b, group, 1, []string{topic}, nil, sarama.ReadUncommitted)
	defer g.stop()
	rec.WaitResolved(t, "KafkaConsumerGroupOffsetsExpired", group, wait, diag)
	rec.WaitResolved(t, "KafkaConsumerGroupOffsetsExpireSoon", group, wait, diag)
	t.Logf("ExpireSoon fired %s after the commit, Expired %s later, both resolved %s after the consumer joined",
		soon.Fired.Sub(committed).Round(time.Second), expired.Fired.Sub(soon.Fired).Round(time.Second), time.Since(joined).Round(time.Second))
}

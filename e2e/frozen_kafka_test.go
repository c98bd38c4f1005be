package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestReliabilityBrokerFrozen freezes the node coordinating the most groups
// with SIGSTOP for 20 s, then SIGCONT, under the exporter binary, with
// records written throughout.
func TestReliabilityBrokerFrozen(t *testing.T) {
	start := time.Now()
	s, base := newFaultSceneAtBaseline(t)

	victim, moving, healthy := -1, []string(nil), []string(nil)
	for i := range s.c.Brokers {
		on, others := s.coordinators(i)
		if victim < 0 || len(on) > len(moving) {
			victim, moving, healthy = i, on, others
		}
	}
	leaders, err := s.c.Leaders(s.topic)
	if err != nil {
		t.Fatal(err)
	}
	led := 0
	for _, l := range leaders[s.topic] {
		if l == victim {
			led++
		}
	}
	const freeze = 20 * time.Second
	step := fmt.Sprintf("node %d frozen", victim+1)
	s.w.setPhase(step, base, healthy)
	load := s.produce()
	if err := s.c.Freeze(victim); err != nil {
		t.Fatal(err)
	}
	frozenAt := time.Now()
	// The scenario is a freeze of a fixed length: the watcher checks
	// every scrape meanwhile.
	time.Sleep(freeze)
	if err := s.c.Thaw(victim); err != nil {
		t.Fatal(err)
	}
	frozenFor := time.Since(frozenAt)
	during := s.w.report()
	t.Logf("during the freeze of node %d: %d scrapes over %d polls, max scrape %s; %d scrapes missing a series of the %d groups it coordinated (not asserted)",
		victim+1, during.scrapes, during.polls, during.maxScrape.Round(time.Millisecond), during.exemptLost, len(moving))
	if t.Failed() {
		t.FailNow()
	}
	s.w.setPhase(step+": recovery", base, healthy)
	isr := s.waitISR(step)
	s.w.waitPolls(2, step+": polls after the thaw")
	load.finish()
	polls := s.waitCorrect(step+": recovery", 3)
	after := s.w.report()
	if t.Failed() {
		t.FailNow()
	}
	s.w.setPhase("after", base, s.groups)
	rows := s.checkCLI()
	s.w.waitPolls(2, "after")
	last := s.w.report()
	if t.Failed() {
		return
	}
	t.Logf("frozen node %d (coordinator of %d groups, leader of %d of %d partitions) for %s: %d scrapes over %d polls, max scrape %s; ISR full %.1fs after SIGCONT; %d records written (%d sends failed); correct %v polls after",
		victim+1, len(moving), led, faultParts, frozenFor.Round(100*time.Millisecond), during.scrapes, during.polls, during.maxScrape.Round(time.Millisecond), isr.Seconds(), load.sent.Load(), load.failed.Load(), polls)
	t.Logf("RELIABILITY | One node of a real 3-node Kafka %s cluster frozen with SIGSTOP for 20 s (coordinator of %d of %d groups, leader of %d of %d partitions), then SIGCONT, under the exporter binary, records written throughout | every scrape: series of groups with a healthy coordinator kept, no negative value, no false deleted/expired; /metrics answers; correct within 3 polls after recovery | %d scrapes checked during the freeze (%d polls), 0 violations, max scrape %.0f ms; the frozen node's own groups missed a series on %d of them (not asserted); correct %v polls after the ISR was full again (+1 under way allowed); %d lags equal to kafka-consumer-groups; test %.0fs |",
		s.c.Version, len(moving), len(s.groups), led, faultParts, during.scrapes, during.polls, during.maxScrape.Seconds()*1000, during.exemptLost, polls, rows, time.Since(start).Seconds())
	t.Logf("scrapes checked: %d during the freeze, %d during recovery, %d after", during.scrapes, after.scrapes, last.scrapes)
}

package status

import (
	"context"
	"testing"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// TestConfigZeroMeansWhatHelpSays: the options mean the same in a Config
// built in code as on the command line (there is no conversion between
// them any more): exact-budget 0 reads no record time, exact-above-records
// 0 reads every lagging partition in hybrid mode, and the defaults
// (budget 1000, above 1000 records) leave a small interpolated lag alone.
func TestConfigZeroMeansWhatHelpSays(t *testing.T) {
	// One partition whose end moves 100 -> 200 -> 300 while the group's
	// commit stays at 150: caught up, then 50 and 150 records behind, both
	// interpolated from the history (150 is between two samples).
	snapAt := func(end int64) *kafkaadmin.Snapshot {
		return &kafkaadmin.Snapshot{Cluster: "c",
			Topics: []kafkaadmin.Topic{{Name: "t", Partitions: []kafkaadmin.Partition{{ID: 0, Leader: 1, End: end}}}},
			Groups: []kafkaadmin.Group{{Name: "g", Type: kafkaadmin.GroupClassic, State: "Stable",
				Offsets: []kafkaadmin.CommittedOffset{{Topic: "t", Partition: 0, Offset: 150}}}}}
	}
	// reads is the number of record times read over the three polls.
	reads := func(mode string, edit func(*Config)) int {
		var cfg Config
		cfg.SetDefaults()
		cfg.TimeLag.Mode = mode
		edit(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		tr, timer := newTrends(cfg), &scriptedTimer{}
		for i, end := range []int64{100, 200, 300} {
			snap := snapAt(end)
			tr.apply(context.Background(), snap, groupsOf(snap), at(30*i), timer.RecordTimes)
		}
		n := 0
		for _, reqs := range timer.seen {
			n += len(reqs)
		}
		return n
	}
	keep := func(*Config) {}
	if n := reads(modeHybrid, keep); n != 0 {
		t.Errorf("hybrid, defaults: %d reads, want none (lag below 1000 records, interpolated)", n)
	}
	if n := reads(modeHybrid, func(c *Config) { c.TimeLag.ExactAboveRecords = 0 }); n == 0 {
		t.Error("hybrid, exact-above-records 0: no read, want every lagging partition read")
	}
	if n := reads(modeExact, keep); n == 0 {
		t.Error("exact, defaults: no read")
	}
	if n := reads(modeExact, func(c *Config) { c.TimeLag.ExactBudget = 0 }); n != 0 {
		t.Errorf("exact, exact-budget 0: %d reads, want none", n)
	}
}

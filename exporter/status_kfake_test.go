package exporter_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// TestStatusTransitions scripts a consumer over real polls of an
// in-process cluster: keeping up (OK), commits stop while records keep
// coming (STOP: no members), commit moved back (REWIND), then keeping up
// again (OK once the rewind leaves the window).
func TestStatusTransitions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	ac := c.Source(t, "c")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	e, err := exporter.New([]exporter.Source{ac}, exporter.Options{Config: exporter.PollEvery(30*time.Second, 0),
		Now: func() time.Time { return now }, Trends: exporter.TrendsConfig("interpolate", 3)})
	if err != nil {
		t.Fatal(err)
	}
	end := int64(0)
	step := func(produce int, commitAt func() int64) (string, string) {
		t.Helper()
		c.Produce(t, "events", 0, produce)
		end += int64(produce)
		if commit := commitAt(); commit >= 0 {
			c.Commit(t, "app", "events", map[int32]int64{0: commit})
		}
		now = now.Add(30 * time.Second)
		cr, _ := resulttest.Cluster(e.PollAll(ctx), "c")
		g, ok := resulttest.Group(cr, "app")
		if !ok {
			t.Fatalf("group app missing: %+v err %q", cr.Groups, cr.LastError)
		}
		return g.Status, g.Topics[0].Partitions[0].Status.String()
	}
	type stepT struct {
		name    string
		produce int
		commit  func() int64
		want    result.Status
	}
	keepUp := func() int64 { return end - 2 } // evaluated after the step's records
	steps := []stepT{
		{"keeping up 1", 10, keepUp, result.StatusOK},
		{"keeping up 2", 10, keepUp, result.StatusOK},
		{"keeping up 3", 10, keepUp, result.StatusOK},
		{"commits stop 1", 10, func() int64 { return -1 }, result.StatusOK},
		{"commits stop 2", 10, func() int64 { return -1 }, result.StatusStop},
		{"rewound", 10, func() int64 { return 5 }, result.StatusRewind},
		{"resumed: the rewind is still in the window of 3", 10, keepUp, result.StatusRewind},
		{"rewind left the window", 10, keepUp, result.StatusOK},
	}
	for _, s := range steps {
		group, part := step(s.produce, s.commit)
		if group != s.want.String() || part != s.want.String() {
			t.Errorf("%s: group %s partition %s, want %s", s.name, group, part, s.want)
		}
	}
}

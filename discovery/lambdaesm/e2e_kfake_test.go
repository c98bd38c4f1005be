package lambdaesm_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestDisabledESMKfake runs the feature end to end: two "disabled" event
// source mappings (listed by the Lambda stand-in, self-managed Kafka
// pointing at an in-process cluster that expires offsets after 1.5 s) whose
// groups consumed, committed and went Empty. The exporter watches them as
// expected groups with their real StartingPosition; each is flagged (and
// logged once) when its offsets expire within the 1 s horizon, and
// flagged expired after, with records_at_risk for its own starting position
// only: LATEST skips the 10 records written after it stopped, TRIM_HORIZON
// reprocesses the 20 it had processed.
func TestDisabledESMKfake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "numbers"), kfaketest.ExpiringOffsets(1500*time.Millisecond))
	produce := func(perPartition int) {
		for p := int32(0); p < 2; p++ {
			c.Produce(t, "numbers", p, perPartition)
		}
	}
	produce(10)

	// The stand-in lists both mappings as Disabled. The first has no
	// ConsumerGroupId: its group id is its UUID.
	const latestUUID = "a7e3c1d2-0000-4000-8000-000000000001"
	s := newStandIn(t,
		selfManagedMapping(latestUUID, "factor", "Disabled", "LATEST", "", c.ListenAddrs(), "numbers"),
		selfManagedMapping("a7e3c1d2-0000-4000-8000-000000000002", "audit", "Disabled", "TRIM_HORIZON",
			"audit-esm", c.ListenAddrs(), "numbers"),
	)
	logs := &testenv.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	d := newDiscoverer(t, s, lambdaesm.Config{Settings: lambdaesm.Settings{Horizon: time.Second}, Logger: logger,
		Clusters: []lambdaesm.Cluster{{Name: "c", Brokers: c.ListenAddrs()}}})
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	// What Lambda did before the mappings were disabled: consume
	// everything and commit, as members of the groups.
	var members []*kgo.Client
	for _, group := range []string{latestUUID, "audit-esm"} {
		cons := c.Member(t, group, 20, "numbers")
		if err := cons.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
		members = append(members, cons)
	}

	ac := c.Source(t, "c")
	warner := d.NewWarner(logger) // records at risk on the mappings' topics
	const interval = 100 * time.Millisecond
	tracker, err := expiry.NewTracker(expiry.Config{}, expiry.Options{Clusters: map[string]time.Duration{"c": 1500 * time.Millisecond},
		Interval: interval, Expected: d.ExpectedGroups})
	if err != nil {
		t.Fatal(err)
	}
	opts := exporter.Options{Logger: logger, OnResult: warner.OnResult, Expiry: tracker}
	opts.Poll.Interval = interval
	e, err := exporter.New([]exporter.Source{ac}, opts)
	if err != nil {
		t.Fatal(err)
	}
	group := func(r *result.Result, name string) *result.GroupExpiry {
		g := resulttest.GroupExpiry(r, "c", name)
		if g == nil {
			t.Fatalf("group %s not tracked", name)
		}
		return g
	}

	// With members: no clock, no warning.
	r := e.PollAll(ctx)
	for _, name := range []string{latestUUID, "audit-esm"} {
		g := group(r, name)
		if !g.Expected || len(g.Lambda) != 1 || g.Lambda[0].ExpiresWithinHorizon || !g.ExpiresAt.IsZero() {
			t.Fatalf("%s with members: %+v", name, g)
		}
	}
	for _, m := range members {
		m.Close() // the mappings are disabled: Empty
	}
	produce(5) // 10 records written while the functions are disabled
	emptyAt := time.Now()

	type seen struct{ within, expired time.Time }
	got := map[string]*seen{latestUUID: {}, "audit-esm": {}}
	var last *result.Result
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(interval) {
		last = e.PollAll(ctx)
		done := true
		for name, sn := range got {
			g := group(last, name)
			if g.Lambda[0].ExpiresWithinHorizon && sn.within.IsZero() {
				sn.within = time.Now()
				if g.ExpiresIn > time.Second {
					t.Errorf("%s flagged %s before its expiry, horizon 1s", name, g.ExpiresIn)
				}
			}
			if len(g.Topics) > 0 && g.Topics[0].Expired && sn.expired.IsZero() {
				sn.expired = time.Now()
				if g.Lambda[0].ExpiresWithinHorizon {
					t.Errorf("%s: still within the horizon once expired", name)
				}
			}
			done = done && !sn.expired.IsZero()
		}
		if done {
			break
		}
	}
	for name, sn := range got {
		if sn.within.IsZero() || sn.expired.IsZero() || !sn.within.Before(sn.expired) {
			t.Fatalf("%s: within horizon at %v, expired at %v (Empty at %v); want the warning first",
				name, sn.within, sn.expired, emptyAt)
		}
	}
	// Records at risk once expired, for each mapping's own position only.
	for name, want := range map[string]result.RecordsAtRisk{
		latestUUID:  {StartingPosition: "latest", Records: 10},
		"audit-esm": {StartingPosition: "earliest", Records: 20},
	} {
		g := group(last, name)
		if rr := g.Topics[0].RecordsAtRisk; len(rr) != 1 || rr[0] != want {
			t.Errorf("%s records at risk %+v, want %+v", name, rr, want)
		}
	}
	for i := 0; i < 3; i++ {
		e.PollAll(ctx)
	}
	out := logs.String()
	for _, want := range []string{
		"function factor will skip (LATEST) about 10 records if enabled after ",
		"function audit will reprocess (TRIM_HORIZON) about 20 records if enabled after ",
	} {
		if n := strings.Count(out, want); n != 1 {
			t.Errorf("%d lines %q, want 1 (one per mapping and episode):\n%s", n, want, out)
		}
	}
	if n := strings.Count(out, "no longer at risk"); n != 2 {
		t.Errorf("%d episode ends, want 2", n)
	}
	if n := strings.Count(out, `msg="committed offsets expired`); n != 2 {
		t.Errorf("%d expired lines, want 2", n)
	}
}

package exporter

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// A state file written by a clock that was wrong (or edited by hand) must
// not give a 73-year countdown: timestamps after now+StateClockSkew or
// before Kafka's epoch (2011) are dropped, with one warning for the whole file.
func TestStateLoadDropsImplausibleTimes(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	prehistoric := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	good := now.Add(-time.Hour)
	st := map[string]*expiry.ExpiryState{"c": {LastPoll: future, Groups: map[string]*expiry.GroupState{
		"ok":     {Type: "classic", State: "Empty", EmptySince: good, Topics: map[string]*expiry.TopicState{"t": {LastChange: good, Offsets: expiry.CommitOffsetsOf(map[int32]int64{0: 5})}}},
		"future": {Type: "simple", Topics: map[string]*expiry.TopicState{"t": {LastChange: future, Offsets: expiry.CommitOffsetsOf(map[int32]int64{0: 5})}, "u": {LastChange: good, ExpiresAt: future}}},
		"old":    {Type: "classic", State: "Empty", EmptySince: prehistoric, EmptySinceExact: true, GoneSince: future, Topics: map[string]*expiry.TopicState{"t": {LastChange: good, Expired: prehistoric}}},
		"skewed": {Type: "simple", Topics: map[string]*expiry.TopicState{"t": {LastChange: now.Add(expiry.StateClockSkew / 2)}}},
	}}}
	raw, err := expiry.EncodeState(st, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logs bytes.Buffer
	s, err := expiry.NewStateStore(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got := s.Load(now)["c"]
	if got == nil {
		t.Fatal("cluster c dropped; only its bad timestamps should be")
	}
	if !got.LastPoll.IsZero() {
		t.Errorf("last_poll %s kept", got.LastPoll)
	}
	if g := got.Groups["ok"]; !g.EmptySince.Equal(good) || !g.Topics["t"].LastChange.Equal(good) {
		t.Errorf("plausible timestamps changed: %+v %+v", g, g.Topics["t"])
	}
	if g := got.Groups["future"]; g.Topics["t"] != nil || g.Topics["u"] == nil || !g.Topics["u"].ExpiresAt.IsZero() {
		t.Errorf("future: topic t (last_change 2099) kept or u's expires_at kept: %+v", g.Topics)
	}
	if g := got.Groups["old"]; !g.EmptySince.IsZero() || g.EmptySinceExact || !g.GoneSince.IsZero() || g.Topics["t"] != nil {
		t.Errorf("old: %+v", g)
	}
	if g := got.Groups["skewed"]; g.Topics["t"] == nil {
		t.Error("a timestamp within the clock skew was dropped")
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	for _, want := range []string{"dropped=6", `first="c last_poll 2099-01-01T00:00:00Z"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("warning lacks %q:\n%s", want, logs.String())
		}
	}
	// The tracker predicts from the next poll: topic t of "future" comes
	// back as new, its expiry counted from now, not from 2099.
	snap := &kafkaadmin.Snapshot{Cluster: "c", Topics: []kafkaadmin.Topic{{Name: "t", Partitions: []kafkaadmin.Partition{{ID: 0, End: 10}}}},
		Groups: []kafkaadmin.Group{{Name: "future", Type: kafkaadmin.GroupSimple, State: "Empty",
			Offsets: []kafkaadmin.CommittedOffset{{Topic: "t", Partition: 0, Offset: 5}}}}}
	expiry.ObserveExpiry(got, snap, expiry.ExpiryConfig{Retention: 7 * 24 * time.Hour, Tolerance: time.Minute}, now)
	if at := got.Groups["future"].Topics["t"].ExpiresAt; !at.Equal(now.Add(7 * 24 * time.Hour)) {
		t.Errorf("expires_at = %s, want now + 7 days", at)
	}
}

// A save that keeps failing is logged once, with a text that does not
// change from one attempt to the next (no temporary file name), and once
// more when it works again.
func TestStateSaveFailureLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store, err := expiry.NewStateStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	// A non-empty directory where the state file should be: every rename
	// over it fails.
	if err := os.MkdirAll(filepath.Join(store.Path(), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	e1 := store.Save(map[string]*expiry.ExpiryState{}, expT0)
	e2 := store.Save(map[string]*expiry.ExpiryState{}, expT0)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() || strings.Contains(e1.Error(), ".tmp") {
		t.Fatalf("save errors %v / %v: want two identical errors without the temporary file's name", e1, e2)
	}

	clock := expT0
	src := &fakeSource{name: "c"}
	e, err := New([]Source{src}, Options{Interval: time.Second, Logger: log, State: store, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	// New loaded the state (and would move a directory aside): block the
	// saves again.
	if err := os.MkdirAll(filepath.Join(store.Path(), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	poll := func(offset int64) {
		t.Helper()
		s := withGroup(testSnapshot())
		s.Groups[0].Offsets[0].Offset = offset
		src.set(s, nil)
		clock = clock.Add(stateSaveEvery + time.Second)
		e.PollAll(context.Background())
	}
	for i := range 5 {
		poll(int64(10 + i)) // a new commit each poll: the state is dirty
	}
	if n := strings.Count(logs.String(), "cannot save the expiry state"); n != 1 {
		t.Fatalf("%d save warnings over 5 failing saves, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), ".tmp") {
		t.Errorf("log names the temporary file:\n%s", logs.String())
	}
	if err := os.RemoveAll(store.Path()); err != nil {
		t.Fatal(err)
	}
	poll(20)
	poll(21)
	if n := strings.Count(logs.String(), "expiry state saved again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if _, err := os.Stat(store.Path()); err != nil {
		t.Errorf("state not written after recovery: %v", err)
	}
}

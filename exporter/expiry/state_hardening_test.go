package expiry

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// A state file written by a clock that was wrong (or edited by hand) must
// not give a 73-year countdown: timestamps after now+stateClockSkew or
// before Kafka's epoch (2011) are dropped, with one warning for the whole file.
func TestStateLoadDropsImplausibleTimes(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	prehistoric := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	good := now.Add(-time.Hour)
	st := map[string]*clusterState{"c": {LastPoll: future, Groups: map[string]*groupState{
		"ok":     {Type: "classic", State: "Empty", EmptySince: good, Topics: map[string]*topicState{"t": {LastChange: good, Offsets: commitOffsetsOf(map[int32]int64{0: 5})}}},
		"future": {Type: "simple", Topics: map[string]*topicState{"t": {LastChange: future, Offsets: commitOffsetsOf(map[int32]int64{0: 5})}, "u": {LastChange: good, ExpiresAt: future}}},
		"old":    {Type: "classic", State: "Empty", EmptySince: prehistoric, EmptySinceExact: true, GoneSince: future, Topics: map[string]*topicState{"t": {LastChange: good, Expired: prehistoric}}},
		"skewed": {Type: "simple", Topics: map[string]*topicState{"t": {LastChange: now.Add(stateClockSkew / 2)}}},
	}}}
	raw, err := encodeState(st, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logs bytes.Buffer
	s, err := newStateStore(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got := s.load(now)["c"]
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
	observe(got, snap, clusterConfig{Retention: 7 * 24 * time.Hour, Tolerance: time.Minute}, now)
	if at := got.Groups["future"].Topics["t"].ExpiresAt; !at.Equal(now.Add(7 * 24 * time.Hour)) {
		t.Errorf("expires_at = %s, want now + 7 days", at)
	}
}

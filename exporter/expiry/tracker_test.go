package expiry

import (
	"bytes"
	"encoding/json"
	"iter"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

func TestMergeExpected(t *testing.T) {
	configured := []ExpectedGroup{
		{Group: "cfg-only", StartingPosition: startEarliest, Topics: []string{"a"}},
		{Group: "both-fixed", StartingPosition: startEarliest, Topics: []string{"a"}},
		{Group: "both-open", Topics: []string{"a"}},
	}
	esm := func(group string, pos string, uuid string, topics ...string) ExpectedGroup {
		return ExpectedGroup{Group: group, StartingPosition: pos, Topics: topics,
			Lambda: []result.LambdaESM{{UUID: uuid, State: "Disabled", StartingPosition: pos}}}
	}
	runtime := []ExpectedGroup{
		esm("both-fixed", startLatest, "1", "b"),
		esm("both-open", startLatest, "2", "a", "b"),
		esm("esm-only", startLatest, "3", "c"),
		esm("two-esms", startLatest, "4", "c"),
		esm("two-esms", startEarliest, "5", "d"),
	}
	got := mergeExpected(configured, runtime)
	if len(configured[1].Topics) != 1 || configured[1].Lambda != nil {
		t.Fatalf("configured groups modified: %+v", configured)
	}
	byName := map[string]ExpectedGroup{}
	for _, g := range got {
		byName[g.Group] = g
	}
	for _, c := range []struct {
		group  string
		pos    string
		topics []string
		uuids  []string
	}{
		{"cfg-only", startEarliest, []string{"a"}, nil},
		{"both-fixed", startEarliest, []string{"a", "b"}, []string{"1"}}, // the configured position wins
		{"both-open", startLatest, []string{"a", "b"}, []string{"2"}},    // the mapping fills it in
		{"esm-only", startLatest, []string{"c"}, []string{"3"}},
		{"two-esms", "", []string{"c", "d"}, []string{"4", "5"}}, // disagreeing mappings: unknown
	} {
		g := byName[c.group]
		var uuids []string
		for _, l := range g.Lambda {
			uuids = append(uuids, l.UUID)
		}
		if g.StartingPosition != c.pos || !slices.Equal(g.Topics, c.topics) || !slices.Equal(uuids, c.uuids) {
			t.Errorf("%s = %+v, want %s %v %v", c.group, g, c.pos, c.topics, c.uuids)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d groups, want 5", len(got))
	}
	if out := mergeExpected(configured, nil); len(out) != 3 {
		t.Error("nil runtime")
	}
}

// A save that keeps failing is logged once, with a text that does not
// change from one attempt to the next (no temporary file name), and once
// more when it works again.
func TestStateSaveFailureLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store, err := newStateStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "offsetlag-state.json")
	// A non-empty directory where the state file should be: every rename
	// over it fails.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	e1 := store.write(map[string]*clusterState{}, expT0)
	e2 := store.write(map[string]*clusterState{}, expT0)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() || strings.Contains(e1.Error(), ".tmp") {
		t.Fatalf("save errors %v / %v: want two identical errors without the temporary file's name", e1, e2)
	}

	clock := expT0
	var cfg Config
	cfg.State.Dir = dir
	tr, err := NewTracker(cfg, Options{Clusters: map[string]time.Duration{"c": 0}, Interval: time.Second, Logger: log,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	// NewTracker loaded the state (and would move a directory aside):
	// block the saves again.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	poll := func(offset int64) {
		t.Helper()
		clock = clock.Add(stateSaveEvery + time.Second)
		tr.Observe("c", snapT(classic("Stable", offset, 60)), clock) // a new commit each poll: the state is dirty
	}
	for i := range 5 {
		poll(int64(10 + i))
	}
	if n := strings.Count(logs.String(), "cannot save the expiry state"); n != 1 {
		t.Fatalf("%d save warnings over 5 failing saves, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), ".tmp") {
		t.Errorf("log names the temporary file:\n%s", logs.String())
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	poll(20)
	poll(21)
	if n := strings.Count(logs.String(), "expiry state saved again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("state not written after recovery: %v", err)
	}
}

// The state Share hands out, given to another tracker's Restore, carries
// the countdown over (HA: the next owner of the groups); undecodable
// states are left out and logged, null topics dropped, and commit runs
// under the lock once the states are in.
func TestTrackerShareRestore(t *testing.T) {
	shared := map[string]json.RawMessage{}
	a, err := NewTracker(Config{}, Options{Clusters: map[string]time.Duration{"c": time.Hour}, Interval: testInterval,
		Share: func(cluster string, groups iter.Seq2[string, json.RawMessage]) {
			if cluster != "c" {
				t.Errorf("shared cluster %q", cluster)
			}
			for name, raw := range groups {
				shared[name] = slices.Clone(raw)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	a.Observe("c", snapT(classic("Stable", 50, 60)), expT0)
	_, _, groups, _ := a.Observe("c", snapT(classic("Empty", 50, 60)), expAt(testInterval))
	want := groups[0].ExpiresAt
	if want.IsZero() || slices.Collect(maps.Keys(shared))[0] != "g" {
		t.Fatalf("no prediction or nothing shared: %+v %v", groups, shared)
	}

	var logs bytes.Buffer
	reshared := map[string]json.RawMessage{}
	b, err := NewTracker(Config{}, Options{Clusters: map[string]time.Duration{"c": time.Hour}, Interval: testInterval,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Share: func(_ string, groups iter.Seq2[string, json.RawMessage]) {
			for name, raw := range groups {
				reshared[name] = slices.Clone(raw)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	committed := false
	restored := map[string]json.RawMessage{"g": shared["g"], "bad": json.RawMessage(`{"topics":5}`),
		"nulls": json.RawMessage(`{"type":"simple","topics":{"t":null,"u":{"last_change":"2026-03-01T12:00:00Z"}}}`)}
	b.Restore("c", restored, func() {
		committed = true
		if b.states["c"].Groups["g"] == nil {
			t.Error("commit ran before the states were in")
		}
	})
	b.Restore("unknown", restored, nil)
	if !committed {
		t.Fatal("commit did not run")
	}
	if g := b.states["c"].Groups["nulls"]; g == nil || len(g.Topics) != 1 || g.Topics["u"] == nil {
		t.Errorf("null topic kept or state lost: %+v", g)
	}
	if b.states["c"].Groups["bad"] != nil || !strings.Contains(logs.String(), "groups=1") {
		t.Errorf("undecodable state restored or not logged:\n%s", logs.String())
	}
	_, _, groups, _ = b.Observe("c", snapT(classic("Empty", 50, 60)), expAt(2*testInterval))
	if i := slices.IndexFunc(groups, func(g result.GroupExpiry) bool { return g.Group == "g" }); i < 0 || !groups[i].ExpiresAt.Equal(want) {
		t.Errorf("restored countdown of g: %+v, want it to expire at %s", groups, want)
	}
	// Unchanged by the poll, the state is handed out again byte for byte
	// as it was restored: ha compares fingerprints of these bytes, so a
	// takeover rewrites nothing that did not change.
	if !bytes.Equal(reshared["g"], shared["g"]) {
		t.Errorf("restored state handed out as\n%s\nwant\n%s", reshared["g"], shared["g"])
	}
}

// Configured expected groups are watched on their cluster only, and only
// where Include keeps them (the process's shard, the HA replica owning
// them); found-at-run-time ones are merged in likewise.
func TestTrackerExpectedGroups(t *testing.T) {
	var cfg Config
	cfg.Expiry.ExpectedGroups = []ExpectedGroup{{Group: "everywhere", Topics: []string{"t"}},
		{Cluster: "c", Group: "on-c", Topics: []string{"t"}}, {Cluster: "d", Group: "on-d"},
		{Group: "other-shard", Topics: []string{"t"}}}
	tr, err := NewTracker(cfg, Options{Clusters: map[string]time.Duration{"c": 0, "d": 0}, Interval: testInterval,
		Include:  func(_, g string) bool { return g != "other-shard" && g != "esm-other-shard" },
		Expected: func(string) []ExpectedGroup { return []ExpectedGroup{{Group: "esm"}, {Group: "esm-other-shard"}} }})
	if err != nil {
		t.Fatal(err)
	}
	_, _, groups, _ := tr.Observe("c", snapT(), expT0)
	var names []string
	for _, g := range groups {
		if !g.Expected || !g.Missing {
			t.Errorf("%s: expected %v missing %v, want both", g.Group, g.Expected, g.Missing)
		}
		names = append(names, g.Group)
	}
	if want := []string{"esm", "everywhere", "on-c"}; !slices.Equal(names, want) {
		t.Errorf("watched %v on c, want %v", names, want)
	}
}

// With no tolerance configured, commits vanishing within two poll
// intervals of their predicted expiry count as expired.
func TestTrackerDefaultTolerance(t *testing.T) {
	tr, err := NewTracker(Config{}, Options{Clusters: map[string]time.Duration{"c": time.Hour}, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if tr.cfg.Expiry.Tolerance != 2*time.Minute {
		t.Errorf("tolerance %s, want two poll intervals", tr.cfg.Expiry.Tolerance)
	}
	if r, src, _, _ := tr.Observe("c", &kafkaadmin.Snapshot{Cluster: "c"}, expT0); r != time.Hour || src != retentionFromConfig {
		t.Errorf("retention %s from %s, want the cluster's override", r, src)
	}
}

// The keys of a shared group state are the state file's, and package ha
// reads some of them by name to tell a transition from a routine commit
// (ha/record.go signature): renaming one would make ha write transitions
// only at its routine pace. This pins every key of a filled-in state.
func TestSharedStateKeys(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	coord := int32(1)
	gs := &groupState{Type: "consumer", State: "Empty", EmptySince: at, EmptySinceExact: true, GoneSince: at,
		AbsentSince: at, AbsentLast: at, Coordinator: &coord, Missing: true,
		Topics: map[string]*topicState{"t": {LastChange: at, ExpiresAt: at, Expired: at, OutOfRange: []int32{0},
			MissingSince: at, MissingLast: at}}}
	raw, err := json.Marshal(gs)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	var topic map[string]map[string]json.RawMessage
	if err := json.Unmarshal(keys["topics"], &topic); err != nil {
		t.Fatal(err)
	}
	// The ones ha's signature reads, then the rest of the file format.
	for _, k := range []string{"type", "state", "empty_since", "empty_since_exact", "gone_since", "missing", "topics",
		"absent_since", "absent_last", "coordinator"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("group state has no %q: %s", k, raw)
		}
	}
	for _, k := range []string{"expired", "out_of_range", "last_change", "expires_at", "missing_since", "missing_last"} {
		if _, ok := topic["t"][k]; !ok {
			t.Errorf("topic state has no %q: %s", k, raw)
		}
	}
}

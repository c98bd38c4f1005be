package expiry

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStateStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "state")
	s, err := newStateStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.load(expT0); len(got) != 0 {
		t.Fatalf("missing file loaded as %v", got)
	}
	st := &clusterState{Groups: map[string]*groupState{}}
	observe(st, snapT(classic("Stable", 50, 60)), clusterConfig{}, expT0)
	observe(st, snapT(classic("Empty", 50, 60)), clusterConfig{Tolerance: time.Minute}, expAt(testInterval))
	if err := s.save(map[string]*clusterState{"c": st}, expAt(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := s.load(expAt(time.Hour))["c"]
	g := got.Groups["g"]
	if g == nil || !g.EmptySince.Equal(expAt(testInterval)) || !g.EmptySinceExact || g.Topics["t"].Offsets.asMap()[1] != 60 {
		t.Fatalf("loaded %+v", g)
	}
	// Only the state file is left: no temporary files.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != stateFileName {
		t.Fatalf("directory holds %v", entries)
	}
}

func TestStateStoreCorruptFileMovedAside(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
	}{
		{"truncated", `{"version":1,"clusters":{"c":{"groups":{"g":{"ty`},
		{"not json", "\x00\x01garbage"},
		{"other version", `{"version":99,"clusters":{}}`},
		{"wrong types", `{"version":1,"clusters":{"c":{"groups":{"g":{"topics":{"t":{"offsets":{"x":1}}}}}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var logs bytes.Buffer
			s, err := newStateStore(dir, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := s.load(expT0); len(got) != 0 {
				t.Fatalf("corrupt file loaded as %v", got)
			}
			aside := s.path + ".corrupt-" + "1772366400"
			if b, err := os.ReadFile(aside); err != nil || string(b) != tc.content {
				t.Fatalf("not moved aside to %s: %v", aside, err)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "moved aside") {
				t.Fatalf("no warning: %s", logs.String())
			}
			if _, err := os.Stat(s.path); !os.IsNotExist(err) {
				t.Fatalf("corrupt file still in place: %v", err)
			}
			// Fresh start: saving works again.
			if err := s.save(map[string]*clusterState{"c": &clusterState{Groups: map[string]*groupState{}}}, expT0); err != nil {
				t.Fatal(err)
			}
			if got := s.load(expT0); got["c"] == nil {
				t.Fatalf("after fresh save: %v", got)
			}
		})
	}
}

func TestDecodeStateDropsNulls(t *testing.T) {
	m, err := decodeState([]byte(`{"version":1,"clusters":{"a":null,"b":{"groups":{"g":null,"h":{"topics":{"t":null}}}},"c":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["a"]; ok {
		t.Error("null cluster kept")
	}
	if m["b"].Groups["g"] != nil || len(m["b"].Groups["h"].Topics) != 0 || m["c"].Groups == nil {
		t.Errorf("decoded %+v", m)
	}
	// The tracker accepts what decodeState returns.
	for _, st := range m {
		observe(st, snapT(), clusterConfig{}, expT0)
	}
}

// FuzzDecodeState: any file content either decodes into a state the
// tracker can run on (and that encodes and decodes again) or is an error;
// it never panics.
func FuzzDecodeState(f *testing.F) {
	st := &clusterState{Groups: map[string]*groupState{}}
	observe(st, snapT(classic("Stable", 50, 60)), clusterConfig{}, expT0)
	observe(st, snapT(classic("Empty", 5, 60)), clusterConfig{}, expAt(time.Minute))
	good, _ := encodeState(map[string]*clusterState{"c": st}, expT0)
	f.Add(good)
	f.Add([]byte(`{"version":1,"clusters":{"c":{"groups":{"g":null}}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeState(raw)
		if err != nil {
			return
		}
		for _, st := range m {
			observe(st, snapT(classic("Empty", 50, 60)), clusterConfig{Expected: []ExpectedGroup{{Group: "e", Topics: []string{"t"}}}}, expAt(time.Hour))
			observe(st, snapT(), clusterConfig{}, expAt(30*24*time.Hour))
		}
		again, err := encodeState(m, expT0)
		if err != nil {
			t.Fatalf("encode decoded state: %v", err)
		}
		if _, err := decodeState(again); err != nil {
			t.Fatalf("decode re-encoded state: %v", err)
		}
	})
}

// TestCommitOffsetsJSON: the compact commitOffsets are persisted as the
// map[int32]int64 they replaced was ({"partition": offset}, keys in
// encoding/json's order), an empty set is left out, and both read back.
func TestCommitOffsetsJSON(t *testing.T) {
	ts := map[string]*topicState{
		"t": {Offsets: commitOffsetsOf(map[int32]int64{10: 7, 0: 5, 2: 3})},
		"u": {},
	}
	b, err := json.Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"t":{"offsets":{"0":5,"10":7,"2":3}},"u":{}}`; string(b) != want {
		t.Fatalf("encoded %s, want %s", b, want)
	}
	var back map[string]*topicState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back["t"].Offsets; got.count() != 3 || !slices.Equal(got.partitions(), []int32{0, 2, 10}) {
		t.Fatalf("decoded partitions %v", got.partitions())
	}
	if off, ok := back["t"].Offsets.get(10); !ok || off != 7 {
		t.Fatalf("decoded partition 10: %d %v", off, ok)
	}
	if _, ok := back["t"].Offsets.get(1); ok {
		t.Fatal("partition 1 has no commit")
	}
	if back["u"].Offsets.count() != 0 {
		t.Fatalf("empty offsets decoded as %v", back["u"].Offsets.asMap())
	}
}

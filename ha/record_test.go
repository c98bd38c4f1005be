package ha

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestShardOf(t *testing.T) {
	if ShardOf("c", "g", 1) != 0 || ShardOf("c", "g", 0) != 0 {
		t.Fatal("one shard: everything in shard 0")
	}
	// The cluster is part of the hash: the same group name on two clusters
	// may land in different shards, and the split is even enough.
	counts := make([]int, 16)
	for i := range 1600 {
		p := ShardOf("c", "group-"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i), 16)
		if p < 0 || p >= 16 {
			t.Fatalf("shard %d out of range", p)
		}
		counts[p]++
	}
	for p, n := range counts {
		if n < 50 || n > 150 {
			t.Errorf("shard %d has %d of 1600 names", p, n)
		}
	}
	diff := 0
	for i := range 100 {
		if ShardOf("a", "g"+itoa(i), 64) != ShardOf("b", "g"+itoa(i), 64) {
			diff++
		}
	}
	if diff < 80 {
		t.Errorf("cluster name changes the shard of only %d of 100 groups", diff)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestKeysAndValues(t *testing.T) {
	k, err := decodeKey(groupKey("prod", `we"ird/group`))
	if err != nil || k != (decodedKey{kind: kindGroup, cluster: "prod", group: `we"ird/group`}) {
		t.Fatalf("group key round trip: %+v %v", k, err)
	}
	if k, err := decodeKey(barrierKey()); err != nil || k.kind != kindBarrier {
		t.Fatalf("barrier key: %+v %v", k, err)
	}
	for _, bad := range []string{``, `{}`, `["x"]`, `["g","c"]`, `not json`} {
		if _, err := decodeKey([]byte(bad)); err == nil {
			t.Errorf("key %q decoded", bad)
		}
	}
	if gs, err := decodeGroup(nil); gs != nil || err != nil {
		t.Errorf("tombstone: %v %v", gs, err)
	}
	for _, bad := range []string{`{"v":2,"state":{}}`, `{"v":1}`, `{"v":1,"state":null}`, `{"v":1,"state":5}`, `{`} {
		if _, err := decodeGroup([]byte(bad)); err == nil {
			t.Errorf("value %q decoded", bad)
		}
	}
	// The state is handed to the tracker as written (expiry.Tracker.Restore
	// decodes it; its tests cover null topics and the fields).
	state := `{"state":"Empty","empty_since":"2026-11-30T12:00:00Z","topics":{"t":null,"u":{"last_change":"2026-11-30T12:00:00Z"}}}`
	gs, err := decodeGroup([]byte(`{"v":1,"written":"2026-11-30T12:00:01Z","state":` + state + `}`))
	if err != nil || string(gs) != state {
		t.Fatalf("value: %s %v", gs, err)
	}
}

// Routine changes (commits moving) keep the signature; transitions change
// it. States are in the tracker's JSON form (exporter/expiry state.go).
func TestFingerprints(t *testing.T) {
	sig := func(state string) (full, sig uint64) {
		t.Helper()
		s, err := signature(json.RawMessage(state))
		if err != nil {
			t.Fatal(err)
		}
		return hash64([]byte(state)), s
	}
	full1, sig1 := sig(`{"state":"Stable","topics":{"t":{"last_change":"2026-11-30T12:00:00Z","offsets":{"0":5}}}}`)
	full2, sig2 := sig(`{"state":"Stable","topics":{"t":{"last_change":"2026-11-30T12:00:01Z","offsets":{"0":6}}}}`)
	if full1 == full2 || sig1 != sig2 {
		t.Errorf("a commit moving: full %v->%v (want changed), sig %v->%v (want same)", full1, full2, sig1, sig2)
	}
	_, sig3 := sig(`{"state":"Empty","empty_since":"2026-11-30T12:00:00Z","topics":{"t":{"last_change":"2026-11-30T12:00:01Z","offsets":{"0":6}}}}`)
	if sig3 == sig2 {
		t.Error("the group becoming Empty did not change the signature")
	}
	_, sig4 := sig(`{"state":"Empty","empty_since":"2026-11-30T12:00:00Z","topics":{"t":{"last_change":"2026-11-30T12:00:01Z","offsets":{"0":6},"expired":"2026-11-30T12:00:00Z"}}}`)
	if sig4 == sig3 {
		t.Error("commits expiring did not change the signature")
	}
	_, sig5 := sig(`{"state":"Empty","empty_since":"2026-11-30T12:00:00Z","topics":{"t":{"last_change":"2026-11-30T12:00:01Z","offsets":{"0":6},"expired":"2026-11-30T12:00:00Z","out_of_range":[0]}}}`)
	if sig5 == sig4 {
		t.Error("a commit falling below the log start did not change the signature")
	}
	if _, err := signature(json.RawMessage(`{"topics":5}`)); err == nil {
		t.Error("a state of the wrong shape has a signature")
	}
}

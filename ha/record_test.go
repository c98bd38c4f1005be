package ha

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
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
	for _, bad := range []string{`{"v":2,"state":{}}`, `{"v":1}`, `{`} {
		if _, err := decodeGroup([]byte(bad)); err == nil {
			t.Errorf("value %q decoded", bad)
		}
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	gs, err := decodeGroup([]byte(`{"v":1,"state":{"state":"Empty","empty_since":"2026-11-30T12:00:00Z","topics":{"t":null,"u":{"last_change":"2026-11-30T12:00:00Z"}}}}`))
	if err != nil || !gs.EmptySince.Equal(at) || len(gs.Topics) != 1 || gs.Topics["u"] == nil {
		t.Fatalf("value: %+v %v", gs, err)
	}
}

// Routine changes (commits moving) keep the signature; transitions change it.
func TestFingerprints(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	gs := &expiry.GroupState{State: "Stable", Topics: map[string]*expiry.TopicState{"t": topicState(t, at, `{"0":5}`)}}
	_, full1, sig1, _ := fingerprints(gs)
	gs.Topics["t"] = topicState(t, at.Add(time.Second), `{"0":6}`)
	_, full2, sig2, _ := fingerprints(gs)
	if full1 == full2 || sig1 != sig2 {
		t.Errorf("a commit moving: full %v->%v (want changed), sig %v->%v (want same)", full1, full2, sig1, sig2)
	}
	gs.State, gs.EmptySince = "Empty", at
	_, _, sig3, _ := fingerprints(gs)
	if sig3 == sig2 {
		t.Error("the group becoming Empty did not change the signature")
	}
	gs.Topics["t"].Expired = at
	_, _, sig4, _ := fingerprints(gs)
	if sig4 == sig3 {
		t.Error("commits expiring did not change the signature")
	}
}

// topicState builds a topic's state last changed at with the committed
// offsets given in their JSON form (the state format).
func topicState(t *testing.T, at time.Time, offsets string) *expiry.TopicState {
	t.Helper()
	var ts expiry.TopicState
	if err := json.Unmarshal([]byte(`{"offsets":`+offsets+`}`), &ts); err != nil {
		t.Fatal(err)
	}
	ts.LastChange = at
	return &ts
}

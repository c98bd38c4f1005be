package ha

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
)

// Record keys are JSON arrays: ["g", cluster, group] for a group's expiry
// state, ["b"] for the restore barrier (one per partition after compaction).
const (
	kindGroup   = "g"
	kindBarrier = "b"
)

// stateVersion is the value format's version; records of another version
// are skipped with a warning (the group's predictions restart).
const stateVersion = 1

// groupValue is the value of a group record.
type groupValue struct {
	Version int                `json:"v"`
	Written time.Time          `json:"written"`
	State   *expiry.GroupState `json:"state"`
}

// barrierValue is the value of a barrier record (for people reading the
// topic: which member restored when).
type barrierValue struct {
	Member string    `json:"member"`
	At     time.Time `json:"at"`
}

func groupKey(cluster, group string) []byte {
	b, _ := json.Marshal([]string{kindGroup, cluster, group})
	return b
}

func barrierKey() []byte {
	b, _ := json.Marshal([]string{kindBarrier})
	return b
}

// decodedKey is a parsed record key.
type decodedKey struct {
	kind, cluster, group string
}

func decodeKey(k []byte) (decodedKey, error) {
	var parts []string
	if err := json.Unmarshal(k, &parts); err != nil || len(parts) == 0 {
		return decodedKey{}, fmt.Errorf("record key %q: not a JSON array of strings", k)
	}
	switch {
	case parts[0] == kindBarrier && len(parts) == 1:
		return decodedKey{kind: kindBarrier}, nil
	case parts[0] == kindGroup && len(parts) == 3:
		return decodedKey{kind: kindGroup, cluster: parts[1], group: parts[2]}, nil
	}
	return decodedKey{}, fmt.Errorf("record key %q: unknown kind", k)
}

// decodeGroup parses a group record's value; nil value (tombstone) is a nil
// state and no error.
func decodeGroup(v []byte) (*expiry.GroupState, error) {
	if v == nil {
		return nil, nil
	}
	var gv groupValue
	if err := json.Unmarshal(v, &gv); err != nil {
		return nil, fmt.Errorf("decode group state: %w", err)
	}
	if gv.Version != stateVersion {
		return nil, fmt.Errorf("decode group state: version %d, want %d", gv.Version, stateVersion)
	}
	if gv.State == nil {
		return nil, errors.New("decode group state: no state")
	}
	if gv.State.Topics == nil {
		gv.State.Topics = map[string]*expiry.TopicState{}
	}
	for t, ts := range gv.State.Topics {
		if ts == nil {
			delete(gv.State.Topics, t)
		}
	}
	return gv.State, nil
}

// fingerprints of a group state: full changes with every committed offset,
// sig only when something a restart must not lose changes (the group's
// state, empty_since, gone_since, missing, and per topic expired and out of
// range). Routine changes (commits moving, last_change, the expires_at of
// simple groups derived from it) are written at most every
// RoutineWriteEvery: losing them only makes a prediction earlier (the safe
// side), as with the state file.
func fingerprints(gs *expiry.GroupState) (raw []byte, full, sig uint64, err error) {
	raw, err = json.Marshal(gs)
	if err != nil {
		return nil, 0, 0, err
	}
	type topicSig struct {
		Expired    time.Time `json:"e,omitzero"`
		OutOfRange []int32   `json:"o,omitempty"`
	}
	s := struct {
		Type, State     string
		EmptySince      time.Time
		EmptySinceExact bool
		GoneSince       time.Time
		Missing         bool
		Topics          map[string]topicSig
	}{gs.Type, gs.State, gs.EmptySince, gs.EmptySinceExact, gs.GoneSince, gs.Missing, map[string]topicSig{}}
	for t, ts := range gs.Topics {
		s.Topics[t] = topicSig{ts.Expired, ts.OutOfRange}
	}
	sraw, err := json.Marshal(s)
	if err != nil {
		return nil, 0, 0, err
	}
	return raw, hash64(raw), hash64(sraw), nil
}

func hash64(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

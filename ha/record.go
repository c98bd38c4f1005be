package ha

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
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

// groupValue is the value of a group record. State is the group's expiry
// state as the tracker hands it out (expiry.Options.Share) and takes it
// back (expiry.Tracker.Restore): the group's entry of the state file.
type groupValue struct {
	Version int             `json:"v"`
	Written time.Time       `json:"written"`
	State   json.RawMessage `json:"state"`
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

// decodeGroup parses a group record's value and returns its state; nil
// value (tombstone) is a nil state and no error. The state itself is
// decoded by the tracker (Restore).
func decodeGroup(v []byte) (json.RawMessage, error) {
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
	if len(gv.State) == 0 || string(gv.State) == "null" {
		return nil, errors.New("decode group state: no state")
	}
	if gv.State[0] != '{' {
		return nil, errors.New("decode group state: not a JSON object")
	}
	return gv.State, nil
}

// Fingerprints of a group state (its JSON, as the tracker hands it out):
// the full one, hash64 of the JSON, changes with every committed offset;
// the signature only when something a restart must not lose changes (the
// group's state, empty_since, gone_since, missing, and per topic expired
// and out of range). Routine changes (commits moving, last_change, the
// expires_at of simple groups derived from it) are written at most every
// RoutineWriteEvery: losing them only makes a prediction earlier (the safe
// side), as with the state file. The signature reads those fields by
// their names in the state format (exporter/expiry state.go, where the
// names are part of the file format); it is needed only when the full
// fingerprint changed.
func signature(raw json.RawMessage) (uint64, error) {
	type topicSig struct {
		Expired    time.Time `json:"expired,omitzero"`
		OutOfRange []int32   `json:"out_of_range,omitempty"`
	}
	var s struct {
		Type            string              `json:"type,omitempty"`
		State           string              `json:"state,omitempty"`
		EmptySince      time.Time           `json:"empty_since,omitzero"`
		EmptySinceExact bool                `json:"empty_since_exact,omitempty"`
		GoneSince       time.Time           `json:"gone_since,omitzero"`
		Missing         bool                `json:"missing,omitempty"`
		Topics          map[string]topicSig `json:"topics,omitempty"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	sraw, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	return hash64(sraw), nil
}

func hash64(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

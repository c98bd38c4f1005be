package expiry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateStore persists the expiry tracker's state (clusterState of every
// cluster) in one JSON file, stateFileName in its directory, so that
// empty_since and the last commit changes, and with them the predictions and
// the expired flags, survive a restart.
//
// Why one JSON file rather than an embedded database such as bbolt: the
// state is small (one entry per group and topic with its committed offsets:
// a few MB at 100,000 committed partitions), always written whole (at most
// once a minute, and on transitions), and read once at start. A file written
// atomically (a temporary file in the same directory, fsync, rename over the
// old file, fsync of the directory) is never torn: after a crash at any
// point there is either the old or the new file, complete. It needs no
// dependency and no locking beyond the Tracker's own mutex, and it can be
// read (and repaired) with jq. A file that cannot be read or decoded is
// moved aside (stateFileName.corrupt-<unix time>) with a warning, and the
// exporter starts fresh: losing the prediction state is better than not
// exporting lag.
type stateStore struct {
	dir, path string
	log       *slog.Logger
	saveErr   string // the last save failure, logged once
}

// stateFileName is the state file's name in the state directory.
const stateFileName = "offsetlag-state.json"

// stateVersion is the file format version; a file of another version is
// treated as unreadable.
const stateVersion = 1

// stateFile is the file's content.
type stateFile struct {
	Version  int                      `json:"version"`
	Saved    time.Time                `json:"saved"`
	Clusters map[string]*clusterState `json:"clusters"`
}

// newStateStore returns a store in dir, creating the directory if needed.
func newStateStore(dir string, log *slog.Logger) (*stateStore, error) {
	if dir == "" {
		return nil, errors.New("state directory is empty")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &stateStore{dir: dir, path: filepath.Join(dir, stateFileName), log: log.With("component", "state")}, nil
}

// load reads the state. A missing file is an empty state. A file that cannot
// be read or decoded is moved aside and logged, and load returns an empty
// state: it never fails the exporter.
func (s *stateStore) load(now time.Time) map[string]*clusterState {
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*clusterState{}
	}
	if err == nil {
		var st map[string]*clusterState
		if st, err = decodeState(raw); err == nil {
			if n, first := dropImplausibleTimes(st, now); n > 0 {
				s.log.Warn("state file: dropped timestamps in the future or before the Kafka epoch; the predictions they fed restart from the next poll",
					"path", s.path, "dropped", n, "first", first, "not_after", now.Add(stateClockSkew).UTC().Format(time.RFC3339),
					"not_before", kafkaEpoch.Format(time.RFC3339))
			}
			return st
		}
	}
	aside := fmt.Sprintf("%s.corrupt-%d", s.path, now.Unix())
	if rerr := os.Rename(s.path, aside); rerr != nil {
		s.log.Warn("state file unreadable and could not be moved aside; starting with an empty expiry state",
			"path", s.path, "err", err, "rename_err", rerr)
	} else {
		s.log.Warn("state file unreadable, moved aside; starting with an empty expiry state (predictions restart from now)",
			"path", s.path, "moved_to", aside, "err", err)
	}
	return map[string]*clusterState{}
}

// decodeState parses a state file. It rejects other versions and drops null
// entries, so the tracker never sees a nil group or topic.
func decodeState(raw []byte) (map[string]*clusterState, error) {
	var f stateFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("decode state: version %d, want %d", f.Version, stateVersion)
	}
	out := make(map[string]*clusterState, len(f.Clusters))
	for name, cs := range f.Clusters {
		if cs == nil {
			continue
		}
		if cs.Groups == nil {
			cs.Groups = map[string]*groupState{}
		}
		for g, gs := range cs.Groups {
			if gs == nil {
				delete(cs.Groups, g)
				continue
			}
			gs.tidy()
		}
		out[name] = cs
	}
	return out, nil
}

// tidy drops null topic entries of a decoded group state, so the tracker
// never sees a nil topic, and gives it a topic map.
func (gs *groupState) tidy() {
	if gs.Topics == nil {
		gs.Topics = map[string]*topicState{}
	}
	for t, ts := range gs.Topics {
		if ts == nil {
			delete(gs.Topics, t)
		}
	}
}

// decodeGroup parses one group's state in the form Share hands it out
// (and the state file holds it).
func decodeGroup(raw []byte) (*groupState, error) {
	var gs *groupState
	if err := json.Unmarshal(raw, &gs); err != nil {
		return nil, fmt.Errorf("decode group state: %w", err)
	}
	if gs == nil {
		return nil, errors.New("decode group state: null")
	}
	gs.tidy()
	return gs, nil
}

// kafkaEpoch is the earliest timestamp a state file may hold (Kafka's
// first release was in January 2011); stateClockSkew how far past the
// loading process's clock one may lie. A timestamp outside these bounds
// comes from a clock that was wrong or a file edited by hand: kept, a
// last_change in 2099 would predict an expiry 73 years away.
var kafkaEpoch = time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)

// stateClockSkew: see kafkaEpoch.
const stateClockSkew = 10 * time.Minute

// dropImplausibleTimes removes from st the timestamps before kafkaEpoch or
// after now+stateClockSkew, and returns how many it dropped and the first
// one (in sorted order) as "cluster/group/topic field value". A topic
// whose last_change or expired is dropped is forgotten (the next poll
// sees its commits as new); a bad empty_since, gone_since or expires_at is
// cleared (the tracker sets it again from the next poll); a bad last_poll
// is cleared.
func dropImplausibleTimes(st map[string]*clusterState, now time.Time) (n int, first string) {
	latest := now.Add(stateClockSkew)
	bad := func(t time.Time) bool { return !t.IsZero() && (t.Before(kafkaEpoch) || t.After(latest)) }
	note := func(where, field string, t time.Time) {
		if n == 0 {
			first = where + " " + field + " " + t.UTC().Format(time.RFC3339)
		}
		n++
	}
	for _, cname := range slices.Sorted(maps.Keys(st)) {
		cs := st[cname]
		if bad(cs.LastPoll) {
			note(cname, "last_poll", cs.LastPoll)
			cs.LastPoll = time.Time{}
		}
		for _, gname := range slices.Sorted(maps.Keys(cs.Groups)) {
			gs := cs.Groups[gname]
			where := cname + "/" + gname
			if bad(gs.EmptySince) {
				note(where, "empty_since", gs.EmptySince)
				gs.EmptySince, gs.EmptySinceExact = time.Time{}, false
			}
			if bad(gs.GoneSince) {
				note(where, "gone_since", gs.GoneSince)
				gs.GoneSince = time.Time{}
			}
			for _, tname := range slices.Sorted(maps.Keys(gs.Topics)) {
				ts := gs.Topics[tname]
				where := where + "/" + tname
				if bad(ts.ExpiresAt) {
					note(where, "expires_at", ts.ExpiresAt)
					ts.ExpiresAt = time.Time{}
				}
				switch {
				case bad(ts.LastChange):
					note(where, "last_change", ts.LastChange)
					delete(gs.Topics, tname)
				case bad(ts.Expired):
					note(where, "expired", ts.Expired)
					delete(gs.Topics, tname)
				}
			}
		}
	}
	return n, first
}

// encodeState renders the state file.
func encodeState(clusters map[string]*clusterState, now time.Time) ([]byte, error) {
	return json.Marshal(stateFile{Version: stateVersion, Saved: now.UTC(), Clusters: clusters})
}

// save writes the state atomically: temporary file, fsync, rename, fsync of
// the directory (so the rename itself survives a power loss). A failure is
// logged once (a failure with the same text again is not) and once more
// when a save works again; it is also returned. save is not for concurrent
// use (the Tracker calls it under its lock).
func (s *stateStore) save(clusters map[string]*clusterState, now time.Time) error {
	err := s.write(clusters, now)
	if err != nil {
		if msg := err.Error(); msg != s.saveErr {
			s.log.Warn("cannot save the expiry state; predictions will not survive a restart", "path", s.path, "err", err)
			s.saveErr = msg
		}
		return err
	}
	if s.saveErr != "" {
		s.log.Info("expiry state saved again", "path", s.path)
		s.saveErr = ""
	}
	return nil
}

func (s *stateStore) write(clusters map[string]*clusterState, now time.Time) error {
	raw, err := encodeState(clusters, now)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(s.dir, s.path, raw)
}

// stateErr wraps err for the log without the file names it carries (the
// temporary file's name changes at every attempt): the same failure gives
// the same text, so it is logged once, not at every save. save logs the
// state file's path beside it.
func stateErr(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %w", op, pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %s: %w", op, le.Op, le.Err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func writeFileAtomic(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return stateErr("write state", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return stateErr("write state", err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return stateErr("sync state", err)
	}
	if err = tmp.Close(); err != nil {
		return stateErr("close state", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return stateErr("rename state", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return stateErr("sync state directory", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return stateErr("sync state directory", err)
	}
	return nil
}

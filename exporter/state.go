package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// StateStore persists the expiry tracker's state (ExpiryState of every
// cluster) in one JSON file, StateFileName in its directory, so that
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
// dependency and no locking beyond the exporter's own mutex, and it can be
// read (and repaired) with jq. A file that cannot be read or decoded is
// moved aside (StateFileName.corrupt-<unix time>) with a warning, and the
// exporter starts fresh: losing the prediction state is better than not
// exporting lag.
type StateStore struct {
	dir, path string
	log       *slog.Logger
}

// StateFileName is the state file's name in the state directory.
const StateFileName = "offsetlag-state.json"

// stateVersion is the file format version; a file of another version is
// treated as unreadable.
const stateVersion = 1

// stateFile is the file's content.
type stateFile struct {
	Version  int                     `json:"version"`
	Saved    time.Time               `json:"saved"`
	Clusters map[string]*ExpiryState `json:"clusters"`
}

// NewStateStore returns a store in dir, creating the directory if needed.
func NewStateStore(dir string, log *slog.Logger) (*StateStore, error) {
	if dir == "" {
		return nil, errors.New("state directory is empty")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StateStore{dir: dir, path: filepath.Join(dir, StateFileName), log: log.With("component", "state")}, nil
}

// Path is the state file's path.
func (s *StateStore) Path() string { return s.path }

// Load reads the state. A missing file is an empty state. A file that cannot
// be read or decoded is moved aside and logged, and Load returns an empty
// state: it never fails the exporter.
func (s *StateStore) Load(now time.Time) map[string]*ExpiryState {
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*ExpiryState{}
	}
	if err == nil {
		var st map[string]*ExpiryState
		if st, err = DecodeState(raw); err == nil {
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
	return map[string]*ExpiryState{}
}

// DecodeState parses a state file. It rejects other versions and drops null
// entries, so the tracker never sees a nil group or topic.
func DecodeState(raw []byte) (map[string]*ExpiryState, error) {
	var f stateFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("decode state: version %d, want %d", f.Version, stateVersion)
	}
	out := make(map[string]*ExpiryState, len(f.Clusters))
	for name, cs := range f.Clusters {
		if cs == nil {
			continue
		}
		if cs.Groups == nil {
			cs.Groups = map[string]*GroupState{}
		}
		for g, gs := range cs.Groups {
			if gs == nil {
				delete(cs.Groups, g)
				continue
			}
			for t, ts := range gs.Topics {
				if ts == nil {
					delete(gs.Topics, t)
				}
			}
		}
		out[name] = cs
	}
	return out, nil
}

// EncodeState renders the state file.
func EncodeState(clusters map[string]*ExpiryState, now time.Time) ([]byte, error) {
	return json.Marshal(stateFile{Version: stateVersion, Saved: now.UTC(), Clusters: clusters})
}

// Save writes the state atomically: temporary file, fsync, rename, fsync of
// the directory (so the rename itself survives a power loss).
func (s *StateStore) Save(clusters map[string]*ExpiryState, now time.Time) error {
	raw, err := EncodeState(clusters, now)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(s.dir, s.path, raw)
}

func writeFileAtomic(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	return nil
}

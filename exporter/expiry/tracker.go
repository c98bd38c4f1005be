package expiry

import (
	"encoding/json"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// stateSaveEvery bounds how often routine changes (commits moving) are
// written to the state file; transitions (Empty, expired, gone) are written
// at once. A restart loses at most this much of LastCommitChange, which
// only makes simple/KIP-848 predictions earlier (the safe side).
const stateSaveEvery = time.Minute

// Options are what a Tracker needs to know of the process around it,
// beyond Config.
type Options struct {
	// Clusters are the tracked clusters, each with its retention override
	// (kafka.offsets-retention / clusters[].offsets-retention; 0: the
	// brokers' offsets.retention.minutes, else Kafka's default of 7
	// days). The state file's entries of other clusters are dropped.
	Clusters map[string]time.Duration
	// Interval is the poll interval: a tolerance of 0 (Config) is two.
	Interval time.Duration
	// Include, when set, says whether this process tracks a group of a
	// cluster (the groups filter, its shard, the HA replica owning it).
	// The state of other groups is dropped, and expected groups it leaves
	// out are watched (and reported missing) by the process that owns
	// them, not here. It is called under the tracker's lock: it must be
	// fast and must not call back into the tracker.
	Include func(cluster, group string) bool
	// Expected, when set, returns a cluster's expected groups found at run
	// time (discovered Lambda event source mappings); it is asked at every
	// observation and its groups are merged with the configured ones
	// (mergeExpected). It must be safe for concurrent use and fast (read
	// an atomic snapshot, do no I/O).
	Expected func(cluster string) []ExpectedGroup
	// Share, when set, is handed a cluster's state after each observation
	// (package ha writes it where the next owner of the groups reads it,
	// and gives it back to that owner's Restore). groups yields every
	// tracked group of the cluster, sorted by name, with its state in
	// JSON (the group's entry of the state file; opaque to the receiver).
	// It is called under the tracker's lock: consume groups during the
	// call, keep nothing of it, do not block.
	Share  func(cluster string, groups iter.Seq2[string, json.RawMessage])
	Logger *slog.Logger
	// Now is the clock of the state file's load and saves; time.Now when
	// nil.
	Now func() time.Time
}

// Tracker is the committed-offset expiry tracker of every cluster (see
// expiry.go for its rules): it observes each poll's snapshot, persists its
// state in the state file of Config's state directory (state.go) and hands
// it over between HA replicas (Options.Share, Restore). Its methods are
// safe for concurrent use: the polls of different clusters observe in
// parallel.
type Tracker struct {
	cfg   Config
	opts  Options
	store *stateStore // nil: the state is in memory only

	mu       sync.Mutex
	states   map[string]*clusterState
	dirty    bool
	lastSave time.Time
}

// NewTracker returns a tracker of opts.Clusters, with the state read from
// the state file of cfg.State.Dir (created if needed; an unreadable file
// is moved aside and the state starts empty). It fails only when the
// state directory cannot be created.
func NewTracker(cfg Config, opts Options) (*Tracker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if cfg.Expiry.Tolerance <= 0 {
		cfg.Expiry.Tolerance = 2 * opts.Interval
	}
	t := &Tracker{cfg: cfg, opts: opts, states: map[string]*clusterState{}}
	if cfg.State.Dir != "" {
		store, err := newStateStore(cfg.State.Dir, opts.Logger)
		if err != nil {
			return nil, err
		}
		t.store = store
		now := opts.Now()
		for name, st := range store.load(now) {
			if _, ok := opts.Clusters[name]; ok {
				t.states[name] = st
			}
		}
		t.lastSave = now
	}
	for name := range opts.Clusters {
		if t.states[name] == nil {
			t.states[name] = &clusterState{Groups: map[string]*groupState{}}
		}
	}
	return t, nil
}

// Observe advances the cluster's state by one snapshot, taken at now, and
// returns the cluster's expiry view: the retention used and where it came
// from (config, broker or default), and every tracked group. It saves the
// state file when the state changed in a way worth persisting and hands
// the state to Options.Share. report logs what happened (commits expired
// or deleted, expected groups missing, ...), one line each: call it once
// the view is published, so that whoever reads a line finds the view.
// Every event is reported once, by the observation that saw it happen.
func (t *Tracker) Observe(cluster string, snap *kafkaadmin.Snapshot, now time.Time) (retention time.Duration, source string, groups []result.GroupExpiry, report func(*slog.Logger)) {
	cfg := t.clusterConfig(cluster)
	t.mu.Lock()
	st := t.states[cluster]
	if st == nil {
		st = &clusterState{}
		t.states[cluster] = st
	}
	out := observe(st, snap, cfg, now)
	t.dirty = t.dirty || out.Changed
	if t.opts.Share != nil {
		t.opts.Share(cluster, st.groupsJSON())
	}
	t.mu.Unlock()
	_ = t.save(out.Transition) // a failure is logged by save (once)
	return out.Retention, out.RetentionSource, out.Groups, out.logEvents
}

// clusterConfig assembles a cluster's configuration for one observation:
// its retention, the tolerance, the groups filter, and the expected groups
// (configured and found at run time) that this process owns.
func (t *Tracker) clusterConfig(cluster string) clusterConfig {
	// expectedOf and mergeExpected return a new slice: ours to filter.
	cfg := clusterConfig{Retention: t.opts.Clusters[cluster], Tolerance: t.cfg.Expiry.Tolerance,
		Expected: t.cfg.expectedOf(cluster)}
	if t.opts.Expected != nil {
		cfg.Expected = mergeExpected(cfg.Expected, t.opts.Expected(cluster))
	}
	if inc := t.opts.Include; inc != nil {
		cfg.IncludeGroup = func(g string) bool { return inc(cluster, g) }
		cfg.Expected = slices.DeleteFunc(cfg.Expected, func(eg ExpectedGroup) bool { return !inc(cluster, eg.Group) })
	}
	return cfg
}

// Save writes the state file if the state changed since it was last
// written (the exporter calls it once its polls have returned: routine
// changes are otherwise written at most every stateSaveEvery). Without a
// state directory it does nothing. A failure is logged (once) and
// returned.
func (t *Tracker) Save() error { return t.save(true) }

// save writes the state file if there is one and the state is dirty, at
// once when now is set, else at most every stateSaveEvery.
func (t *Tracker) save(now bool) error {
	if t.store == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	at := t.opts.Now()
	if !t.dirty || (!now && at.Sub(t.lastSave) < stateSaveEvery) {
		return nil
	}
	if err := t.store.save(t.states, at); err != nil {
		return err // logged by save (once)
	}
	t.dirty, t.lastSave = false, at
	return nil
}

// Restore replaces the state of the given groups of a cluster with states
// handed out by Options.Share (read from where the groups' previous owner
// put them), before the groups are polled here, then runs commit (when not
// nil) under the same lock: the caller takes the groups over there, so no
// observation sees them owned without their state. A state that cannot be
// decoded is left out (the group's predictions restart) and logged.
// Unknown clusters are ignored (commit still runs).
func (t *Tracker) Restore(cluster string, groups map[string]json.RawMessage, commit func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if commit != nil {
		defer commit()
	}
	st := t.states[cluster]
	if st == nil {
		return
	}
	bad, first := 0, ""
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		gs, err := decodeGroup(groups[name])
		if err != nil {
			if bad == 0 {
				first = name + ": " + err.Error()
			}
			bad++
			continue
		}
		st.Groups[name] = gs
	}
	if bad > 0 {
		t.opts.Logger.With("component", "expiry").Warn("restored expiry state undecodable; those groups' predictions restart from the next poll",
			"cluster_name", cluster, "groups", bad, "first", first)
	}
}

// groupsJSON yields every group of st, sorted by name, with its state in
// JSON (Options.Share).
func (st *clusterState) groupsJSON() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		for _, name := range slices.Sorted(maps.Keys(st.Groups)) {
			raw, err := json.Marshal(st.Groups[name])
			if err != nil {
				continue // plain data: cannot happen
			}
			if !yield(name, raw) {
				return
			}
		}
	}
}

// mergeExpected merges runtime expected groups (such as discovered Lambda
// event source mappings) into the configured ones. For a group in both, the
// configured starting position wins when set, topics are united and the
// Lambda mappings appended; runtime entries for one group that disagree on
// the starting position leave it empty (both estimates are exported).
func mergeExpected(configured, runtime []ExpectedGroup) []ExpectedGroup {
	if len(runtime) == 0 {
		return configured
	}
	out := slices.Clone(configured)
	idx := make(map[string]int, len(out))
	fixed := map[string]bool{}
	for i, eg := range out {
		idx[eg.Group] = i
		fixed[eg.Group] = eg.StartingPosition != ""
	}
	seen := map[string]bool{}
	for _, rg := range runtime {
		i, ok := idx[rg.Group]
		if !ok {
			rg.Topics, rg.Lambda = slices.Clone(rg.Topics), slices.Clone(rg.Lambda)
			idx[rg.Group] = len(out)
			out = append(out, rg)
			seen[rg.Group] = true
			continue
		}
		eg := &out[i]
		switch {
		case fixed[rg.Group]:
		case !seen[rg.Group]:
			eg.StartingPosition = rg.StartingPosition
		case eg.StartingPosition != rg.StartingPosition:
			eg.StartingPosition = ""
		}
		seen[rg.Group] = true
		for _, t := range rg.Topics {
			if !slices.Contains(eg.Topics, t) {
				eg.Topics = append(slices.Clip(eg.Topics), t)
			}
		}
		eg.Lambda = append(slices.Clip(eg.Lambda), rg.Lambda...)
	}
	return out
}

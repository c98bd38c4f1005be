package exporter

import (
	"slices"
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// stateSaveEvery bounds how often routine changes (commits moving) are
// written to the state file; transitions (Empty, expired, gone) are written
// at once. A restart loses at most this much of LastCommitChange, which
// only makes simple/KIP-848 predictions earlier (the safe side).
const stateSaveEvery = time.Minute

// expiryTracker holds the tracker state of every cluster and persists it.
type expiryTracker struct {
	mu       sync.Mutex
	states   map[string]*expiry.ExpiryState
	dirty    bool
	lastSave time.Time
}

// initExpiry loads the persisted state (if any) and fills the defaults of
// each cluster's expiry configuration.
func (e *Exporter) initExpiry() {
	cfgs := make(map[string]expiry.ExpiryConfig, len(e.clusters))
	for name := range e.clusters {
		c := e.opts.Expiry[name]
		if c.Tolerance <= 0 {
			c.Tolerance = 2 * e.opts.Interval
		}
		cfgs[name] = c
	}
	e.opts.Expiry = cfgs
	e.expiry.states = map[string]*expiry.ExpiryState{}
	if e.opts.State != nil {
		for name, st := range e.opts.State.Load(e.opts.Now()) {
			if _, ok := e.clusters[name]; ok {
				e.expiry.states[name] = st
			}
		}
		e.expiry.lastSave = e.opts.Now()
	}
	for name := range e.clusters {
		if e.expiry.states[name] == nil {
			e.expiry.states[name] = &expiry.ExpiryState{Groups: map[string]*expiry.GroupState{}}
		}
	}
}

// observeExpiry runs the tracker on a cluster's snapshot and saves the
// state when it changed in a way worth persisting.
func (e *Exporter) observeExpiry(cluster string, snap *kafkaadmin.Snapshot, now time.Time) *expiry.ExpiryOutcome {
	cfg := e.opts.Expiry[cluster]
	if e.opts.ExpectedGroups != nil {
		cfg.Expected = mergeExpected(cfg.Expected, e.opts.ExpectedGroups(cluster))
	}
	cfg = e.ownedExpected(cluster, cfg)
	t := &e.expiry
	t.mu.Lock()
	out := expiry.ObserveExpiry(t.states[cluster], snap, cfg, now)
	t.dirty = t.dirty || out.Changed
	if e.opts.Owner != nil {
		e.opts.Owner.ObserveExpiry(cluster, t.states[cluster])
	}
	t.mu.Unlock()
	e.saveExpiry(out.Transition)
	return &out
}

// saveExpiry writes the state file if there is one and the state is dirty,
// at once when now is set, else at most every stateSaveEvery.
func (e *Exporter) saveExpiry(now bool) {
	if e.opts.State == nil {
		return
	}
	t := &e.expiry
	t.mu.Lock()
	defer t.mu.Unlock()
	at := e.opts.Now()
	if !t.dirty || (!now && at.Sub(t.lastSave) < stateSaveEvery) {
		return
	}
	if e.opts.State.Save(t.states, at) != nil {
		return // logged by Save (once)
	}
	t.dirty, t.lastSave = false, at
}

// mergeExpected merges runtime expected groups (such as discovered Lambda
// event source mappings) into the configured ones. For a group in both, the
// configured starting position wins when set, topics are united and the
// Lambda mappings appended; runtime entries for one group that disagree on
// the starting position leave it empty (both estimates are exported).
func mergeExpected(configured, runtime []expiry.ExpectedGroup) []expiry.ExpectedGroup {
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

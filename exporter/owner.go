package exporter

import (
	"slices"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
)

// Owner decides which groups and topics this replica exports when several
// replicas share the clusters dynamically (package ha: HA replicas
// coordinated through a Kafka consumer group). The exporter asks it at every
// publish, so a group whose shard moved away leaves the Result at once, not
// at the next poll; and it hands it the expiry state after every poll, so
// the owner can persist it where the next owner will read it.
type Owner interface {
	// OwnsGroup and OwnsTopic report whether this replica exports the
	// group's (topic's) series of the cluster now. They are called often,
	// from the polling goroutines and under the exporter's lock: they must
	// be fast and must not call back into the exporter.
	OwnsGroup(cluster, group string) bool
	OwnsTopic(cluster, topic string) bool
	// ObserveExpiry is called after each poll's expiry observation with the
	// cluster's tracker state, under the tracker's lock: read it, keep no
	// reference to it, do not block.
	ObserveExpiry(cluster string, st *expiry.ExpiryState)
}

// Republish publishes the latest Result again (through OnResult), with the
// groups and topics the Owner no longer owns left out. The Owner calls it
// when it loses shards.
func (e *Exporter) Republish() {
	e.mu.Lock()
	res := e.publishLocked()
	e.mu.Unlock()
	if e.opts.OnResult != nil {
		e.opts.OnResult(res)
	}
}

// RestoreExpiry replaces the tracker state of the given groups of a cluster
// (read by the Owner from where the previous owner persisted it), before
// the groups are polled by this replica, then runs commit (when not nil)
// under the same lock: the Owner takes the groups over there, so no poll
// observes them owned without their state. Unknown clusters are ignored
// (commit still runs).
func (e *Exporter) RestoreExpiry(cluster string, groups map[string]*expiry.GroupState, commit func()) {
	t := &e.expiry
	t.mu.Lock()
	defer t.mu.Unlock()
	if commit != nil {
		defer commit()
	}
	st := t.states[cluster]
	if st == nil {
		return
	}
	for name, gs := range groups {
		if gs == nil {
			continue
		}
		if gs.Topics == nil {
			gs.Topics = map[string]*expiry.TopicState{}
		}
		st.Groups[name] = gs
	}
}

// owned returns cr without the groups and topics the Owner does not own.
func (e *Exporter) owned(cr result.ClusterResult) result.ClusterResult {
	o := e.opts.Owner
	if o == nil {
		return cr
	}
	cr.Groups = slices.DeleteFunc(slices.Clone(cr.Groups), func(g result.GroupResult) bool { return !o.OwnsGroup(cr.Name, g.Name) })
	cr.Topics = slices.DeleteFunc(slices.Clone(cr.Topics), func(t result.TopicResult) bool { return !o.OwnsTopic(cr.Name, t.Name) })
	cr.Expiry = slices.DeleteFunc(slices.Clone(cr.Expiry), func(g result.GroupExpiry) bool { return !o.OwnsGroup(cr.Name, g.Group) })
	return cr
}

// ownedExpected leaves out the expected groups of other replicas: each is
// watched (and reported missing) by its owner only.
func (e *Exporter) ownedExpected(cluster string, cfg expiry.ExpiryConfig) expiry.ExpiryConfig {
	o := e.opts.Owner
	if o == nil {
		return cfg
	}
	cfg.Expected = slices.DeleteFunc(slices.Clone(cfg.Expected), func(eg expiry.ExpectedGroup) bool { return !o.OwnsGroup(cluster, eg.Group) })
	return cfg
}

package exporter

import (
	"slices"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Owner decides which groups and topics this replica exports when several
// replicas share the clusters dynamically (package ha: HA replicas
// coordinated through a Kafka consumer group). The exporter asks it at every
// publish, and republishes when the Owner reports a loss, so a group whose
// shard moved away leaves the Result at once, not at the next poll. (The
// owner persists the expiry state where the next owner will read it through
// the tracker: expiry.Options.Share and expiry.Tracker.Restore.)
type Owner interface {
	// OwnsGroup and OwnsTopic report whether this replica exports the
	// group's (topic's) series of the cluster now. They are called often,
	// from the polling goroutines and under the exporter's lock: they must
	// be fast and must not call back into the exporter.
	OwnsGroup(cluster, group string) bool
	OwnsTopic(cluster, topic string) bool
	// OnLoss registers lost, which the Owner calls (outside its own locks)
	// each time OwnsGroup or OwnsTopic has started to report false for
	// something it owned. New registers the exporter's republish, which
	// publishes the latest Result again (through OnResult) without what
	// was lost.
	OnLoss(lost func())
}

// republish publishes the latest Result again (through OnResult), with the
// groups and topics the Owner no longer owns left out: the Owner calls it
// when it loses shards (Owner.OnLoss).
func (e *Exporter) republish() {
	e.mu.Lock()
	res := e.publishLocked()
	e.mu.Unlock()
	if e.opts.OnResult != nil {
		e.opts.OnResult(res)
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

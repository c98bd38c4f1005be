package app

import (
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
)

// newTracker builds the committed-offset expiry tracker from the expiry.*
// and state.* options and each cluster's retention. It tracks the groups
// includeGroup keeps (with HA, of those the groups this replica owns),
// watches the groups of discovered Lambda mappings that own keeps (this
// process's shard), and with HA hands its state to the membership.
func (a *App) newTracker(includeGroup, own func(string) bool) (*expiry.Tracker, error) {
	clusters := map[string]time.Duration{}
	for _, cl := range a.cfg.ClusterList() {
		clusters[cl.Name] = cl.OffsetsRetention
	}
	return expiry.NewTracker(a.cfg.Config, expiry.Options{Clusters: clusters, Interval: a.cfg.Exporter.Poll.Interval,
		Logger: a.log, Include: a.rep.include(includeGroup), Expected: a.esm.expectedGroups(own), Share: a.rep.share()})
}

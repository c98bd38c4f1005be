// Package resulttest looks up what the tests assert on in an exporter
// Result (exporter/result), where the Result itself offers no accessor.
//
// For tests only (internal/testing): product code never imports it.
package resulttest

import "github.com/offsetlag/offsetlag/exporter/result"

// GroupExpiry returns the expiry entry of group in cluster, or nil when r
// has no such cluster or the cluster does not track the group.
func GroupExpiry(r *result.Result, cluster, group string) *result.GroupExpiry {
	c, ok := r.Cluster(cluster)
	if !ok {
		return nil
	}
	for i := range c.Expiry {
		if c.Expiry[i].Group == group {
			return &c.Expiry[i]
		}
	}
	return nil
}

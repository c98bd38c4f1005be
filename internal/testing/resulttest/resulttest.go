// Package resulttest holds what the exporter's tests share about its input
// and output: a small kafkaadmin.Snapshot fixture, and lookups of what the
// tests assert on in a Result (exporter/result) where the Result itself
// offers no accessor.
//
// For tests only (internal/testing): product code never imports it.
package resulttest

import (
	"errors"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Snapshot is a fresh copy of a poll of cluster "c": topic a with
// partitions of ends 100, 80 (log start 50) and an unknown end (its
// ListOffsets failed, EndErr), topic b with one partition ending at 10,
// topic c with two ending at 3. No groups: tests add their own.
func Snapshot() *kafkaadmin.Snapshot {
	return &kafkaadmin.Snapshot{
		Cluster: "c",
		Topics: []kafkaadmin.Topic{
			{Name: "a", Partitions: []kafkaadmin.Partition{
				{ID: 0, Start: 0, End: 100},
				{ID: 1, Start: 50, End: 80},
				{ID: 2, Start: 0, End: -1, EndErr: errors.New("leader gone")},
			}},
			{Name: "b", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 10}}},
			{Name: "c", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 3}, {ID: 1, Start: 0, End: 3}}},
		},
	}
}

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

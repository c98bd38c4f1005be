// Package resulttest holds what the exporter's tests share about its input
// and output: a small kafkaadmin.Snapshot fixture, and lookups by name of
// what the tests assert on in a Result (exporter/result: plain data the
// sinks walk, with no accessors of its own).
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
	c, ok := Cluster(r, cluster)
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

// Cluster returns the named cluster's result in r (a Result is the data
// the sinks walk; lookups by name are what tests assert on).
func Cluster(r *result.Result, name string) (*result.ClusterResult, bool) {
	for i := range r.Clusters {
		if r.Clusters[i].Name == name {
			return &r.Clusters[i], true
		}
	}
	return nil, false
}

// Group returns the named group's result in c.
func Group(c *result.ClusterResult, name string) (*result.GroupResult, bool) {
	for i := range c.Groups {
		if c.Groups[i].Name == name {
			return &c.Groups[i], true
		}
	}
	return nil, false
}

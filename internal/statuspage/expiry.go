package statuspage

import (
	"sort"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Expiry is a group's committed-offset expiry view (exporter.GroupExpiry).
type Expiry struct {
	// Expected is true for a group listed in the configuration, with its
	// starting position; Missing when it has no committed offset at all.
	Expected         bool   `json:"expected"`
	StartingPosition string `json:"starting_position,omitempty"`
	Missing          bool   `json:"missing"`
	// EmptySince is when the group was first seen without members.
	EmptySince      time.Time `json:"empty_since,omitzero"`
	EmptySinceExact bool      `json:"empty_since_exact"`
	// ExpiresAt is when the broker is predicted to delete the group's
	// first committed offsets; absent while no expiry clock runs.
	// ExpiresInSeconds counts from the poll.
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	ExpiresInSeconds *float64  `json:"expires_in_seconds"`
	// Expired is true when commits of some topic are gone at or after
	// their predicted expiry; ExpiredAt is the earliest poll that saw it
	// and ExpiredTopics the topics.
	Expired       bool      `json:"expired"`
	ExpiredAt     time.Time `json:"expired_at,omitzero"`
	ExpiredTopics []string  `json:"expired_topics,omitempty"`
	// RecordsAtRisk sums, over the topics at risk or expired, what a
	// consumer restarting without the commits would do, by starting
	// position (earliest: records processed again; latest: skipped).
	RecordsAtRisk []RecordsAtRisk `json:"records_at_risk,omitempty"`
	// Lambda are the Lambda event source mappings consuming with the
	// group id (discovery/lambdaesm).
	Lambda []LambdaESM `json:"lambda,omitempty"`
}

// LambdaESM is exporter.LambdaESM: the function beside the group.
type LambdaESM struct {
	FunctionName     string `json:"function_name"`
	UUID             string `json:"esm_uuid"`
	State            string `json:"esm_state"`
	StartingPosition string `json:"starting_position,omitempty"`
	// ExpiresWithinHorizon: disabled, and the offsets expire within the
	// configured horizon.
	ExpiresWithinHorizon bool `json:"expires_within_horizon"`
}

// RecordsAtRisk is exporter.RecordsAtRisk.
type RecordsAtRisk struct {
	StartingPosition string `json:"starting_position"`
	Records          int64  `json:"records"`
}

func retentionView(c *result.ClusterResult, out *Cluster) {
	if c.OffsetsRetention > 0 {
		out.OffsetsRetentionSeconds = c.OffsetsRetention.Seconds()
		out.OffsetsRetentionSource = c.OffsetsRetentionSource
	}
}

func expiryView(e *result.GroupExpiry) *Expiry {
	out := &Expiry{Expected: e.Expected, StartingPosition: e.StartingPosition, Missing: e.Missing,
		EmptySince: e.EmptySince, EmptySinceExact: e.EmptySinceExact, ExpiresAt: e.ExpiresAt}
	if !e.ExpiresAt.IsZero() {
		out.ExpiresInSeconds = ptr(e.ExpiresIn.Seconds())
	}
	for _, l := range e.Lambda {
		out.Lambda = append(out.Lambda, LambdaESM{FunctionName: l.FunctionName, UUID: l.UUID, State: l.State,
			StartingPosition: l.StartingPosition, ExpiresWithinHorizon: l.ExpiresWithinHorizon})
	}
	risk := map[string]int64{}
	for _, t := range e.Topics {
		if t.Expired {
			out.Expired = true
			out.ExpiredTopics = append(out.ExpiredTopics, t.Topic)
			if out.ExpiredAt.IsZero() || t.ExpiredAt.Before(out.ExpiredAt) {
				out.ExpiredAt = t.ExpiredAt
			}
		}
		for _, r := range t.RecordsAtRisk {
			risk[r.StartingPosition] += r.Records
		}
	}
	for pos, n := range risk {
		out.RecordsAtRisk = append(out.RecordsAtRisk, RecordsAtRisk{StartingPosition: pos, Records: n})
	}
	sort.Slice(out.RecordsAtRisk, func(i, j int) bool {
		return out.RecordsAtRisk[i].StartingPosition < out.RecordsAtRisk[j].StartingPosition
	})
	return out
}

// mergeExpiry attaches the expiry view to the listed groups and appends
// the groups only the tracker knows (expired and gone, expected).
func mergeExpiry(c *result.ClusterResult, groups *[]Group, index map[string]int) {
	for i := range c.Expiry {
		e := &c.Expiry[i]
		if j, ok := index[e.Group]; ok {
			(*groups)[j].Expiry = expiryView(e)
			continue
		}
		g := Group{Cluster: c.Name, Group: e.Group, Type: e.Type, State: e.State, Topics: []string{},
			Expiry: expiryView(e)}
		if e.Present {
			g.Present = true // listed but filtered out of the lag view
		}
		for _, t := range e.Topics {
			g.Topics = append(g.Topics, t.Topic)
		}
		if g.Expiry.Expired {
			g.Status = result.StatusExpired.String()
		}
		*groups = append(*groups, g)
	}
}

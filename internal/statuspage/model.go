package statuspage

import (
	"fmt"
	"sort"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// The JSON API's documents. They are also what the HTML templates render,
// so the page and the API never disagree. Times are RFC 3339; durations
// are seconds; a value that is unknown is null (lag of a partition whose
// end offset could not be read, time lag before two polls) rather than 0.

// ClustersResponse is GET /api/v1/clusters.
type ClustersResponse struct {
	Generated time.Time `json:"generated"`
	Clusters  []Cluster `json:"clusters"`
}

// Cluster is one cluster's poll health.
type Cluster struct {
	Name string `json:"name"`
	// Up is true when the last poll read everything.
	Up        bool   `json:"up"`
	LastError string `json:"last_error,omitempty"`
	// LastPoll and LastSuccess are absent before the first (successful) poll.
	LastPoll            time.Time         `json:"last_poll,omitzero"`
	LastSuccess         time.Time         `json:"last_success,omitzero"`
	PollDurationSeconds float64           `json:"poll_duration_seconds"`
	Polls               uint64            `json:"polls"`
	PollErrors          uint64            `json:"poll_errors"`
	Requests            map[string]uint64 `json:"requests"`
	Brokers             int               `json:"brokers"`
	Topics              int               `json:"topics"`
	// Groups counts the groups the page and /api/v1/groups list for the
	// cluster: those the last poll listed plus GroupsNotListed, the groups
	// only the expiry tracker still reports (offsets expired and gone, or
	// expected by the configuration and missing).
	Groups          int `json:"groups"`
	GroupsNotListed int `json:"groups_not_listed"`
	// OffsetsRetentionSeconds is the committed-offset retention used for
	// expiry predictions and OffsetsRetentionSource where it came from
	// (config, broker, default); absent when the exporter has none.
	OffsetsRetentionSeconds float64 `json:"offsets_retention_seconds,omitempty"`
	OffsetsRetentionSource  string  `json:"offsets_retention_source,omitempty"`
}

// GroupsResponse is GET /api/v1/groups.
type GroupsResponse struct {
	Generated time.Time `json:"generated"`
	Groups    []Group   `json:"groups"`
}

// Group is one group's summary.
type Group struct {
	Cluster string `json:"cluster"`
	Group   string `json:"group"`
	// Present is false for a group the last poll did not list but the
	// expiry tracker still reports (its offsets expired, or it is expected
	// by the configuration); its lag fields are then null.
	Present bool   `json:"present"`
	Type    string `json:"type,omitempty"`
	State   string `json:"state,omitempty"`
	Members int    `json:"members"`
	SumLag  *int64 `json:"sum_lag"`
	MaxLag  *int64 `json:"max_lag"`
	// MaxLagSeconds is the largest partition time lag, null when unknown.
	MaxLagSeconds           *float64 `json:"max_lag_seconds"`
	Status                  string   `json:"status,omitempty"`
	PartitionsWithoutCommit int      `json:"partitions_without_commit"`
	OutOfRange              int      `json:"out_of_range"`
	RecordsLost             int64    `json:"records_lost"`
	Topics                  []string `json:"topics"`
	// Expiry is absent when the exporter does not track the group.
	Expiry *Expiry `json:"expiry,omitempty"`
}

// GroupDetail is GET /api/v1/groups/{cluster}/{group}.
type GroupDetail struct {
	Generated time.Time `json:"generated"`
	Group
	TopicDetails []GroupTopic `json:"topic_details"`
	// History is the group's lag at each of the last polls that listed
	// it, oldest first; HistoryNote says in words what it shows (or why it
	// is empty), e.g. for a group whose offsets expired.
	History     []Point `json:"history"`
	HistoryNote string  `json:"history_note"`
}

// GroupTopic is one group's lag on one topic.
type GroupTopic struct {
	Topic                   string   `json:"topic"`
	SumLag                  int64    `json:"sum_lag"`
	MaxLag                  int64    `json:"max_lag"`
	MaxLagSeconds           *float64 `json:"max_lag_seconds"`
	Status                  string   `json:"status"`
	PartitionsWithoutCommit int      `json:"partitions_without_commit"`
	OutOfRange              int      `json:"out_of_range"`
	RecordsLost             int64    `json:"records_lost"`
	// ProduceRate and ConsumeRate are records/s over the status window;
	// CatchUpSeconds is the time to reach the log end at those rates
	// (null when not gaining).
	ProduceRate    *float64    `json:"produce_rate"`
	ConsumeRate    *float64    `json:"consume_rate"`
	CatchUpSeconds *float64    `json:"catch_up_seconds"`
	Partitions     []Partition `json:"partitions"`
}

// Partition is one committed partition of a group.
type Partition struct {
	Partition        int32    `json:"partition"`
	Committed        int64    `json:"committed"`
	End              *int64   `json:"end"`
	Lag              *int64   `json:"lag"`
	LagSeconds       *float64 `json:"lag_seconds"`
	LagSecondsSource string   `json:"lag_seconds_source,omitempty"`
	OutOfRange       bool     `json:"out_of_range"`
	RecordsLost      int64    `json:"records_lost"`
	Status           string   `json:"status"`
}

// ErrorResponse is the body of every API error.
type ErrorResponse struct {
	Error string `json:"error"`
}

func ptr[T any](v T) *T { return &v }

func clusterView(c *result.ClusterResult) Cluster {
	out := Cluster{
		Name: c.Name, Up: c.Up, LastError: c.LastError, LastPoll: c.LastPoll, LastSuccess: c.LastSuccess,
		PollDurationSeconds: c.PollDuration.Seconds(), Polls: c.Polls, PollErrors: c.PollErrors,
		Requests: c.Requests, Brokers: c.Brokers, Topics: len(c.Topics),
	}
	listed := make(map[string]bool, len(c.Groups))
	for i := range c.Groups {
		listed[c.Groups[i].Name] = true
	}
	for i := range c.Expiry {
		if !listed[c.Expiry[i].Group] {
			out.GroupsNotListed++
		}
	}
	out.Groups = len(c.Groups) + out.GroupsNotListed
	if out.Requests == nil {
		out.Requests = map[string]uint64{}
	}
	retentionView(c, &out)
	return out
}

func clustersView(r *result.Result) ClustersResponse {
	out := ClustersResponse{Generated: r.Generated, Clusters: make([]Cluster, 0, len(r.Clusters))}
	for i := range r.Clusters {
		out.Clusters = append(out.Clusters, clusterView(&r.Clusters[i]))
	}
	return out
}

func groupView(cluster string, g *result.GroupResult) Group {
	out := Group{
		Cluster: cluster, Group: g.Name, Present: true, Type: g.Type, State: g.State, Members: g.Members,
		SumLag: ptr(g.SumLag), MaxLag: ptr(g.MaxLag), Status: g.Status,
		PartitionsWithoutCommit: g.PartitionsWithoutCommit, OutOfRange: g.OutOfRange, RecordsLost: g.RecordsLost,
		Topics: make([]string, 0, len(g.Topics)),
	}
	if g.HasLagSeconds {
		out.MaxLagSeconds = ptr(g.MaxLagSeconds)
	}
	for _, t := range g.Topics {
		out.Topics = append(out.Topics, t.Topic)
	}
	return out
}

// groupsOf returns a cluster's groups: those listed by the last poll and
// those only the expiry tracker still knows, sorted by name.
func groupsOf(c *result.ClusterResult) []Group {
	out := make([]Group, 0, len(c.Groups))
	index := make(map[string]int, len(c.Groups))
	for i := range c.Groups {
		index[c.Groups[i].Name] = len(out)
		out = append(out, groupView(c.Name, &c.Groups[i]))
	}
	mergeExpiry(c, &out, index)
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

func groupsView(r *result.Result, cluster string) GroupsResponse {
	out := GroupsResponse{Generated: r.Generated, Groups: []Group{}}
	for i := range r.Clusters {
		if cluster != "" && r.Clusters[i].Name != cluster {
			continue
		}
		out.Groups = append(out.Groups, groupsOf(&r.Clusters[i])...)
	}
	return out
}

// clusterNamed returns the named cluster of r, nil when r has none.
func clusterNamed(r *result.Result, name string) *result.ClusterResult {
	for i := range r.Clusters {
		if r.Clusters[i].Name == name {
			return &r.Clusters[i]
		}
	}
	return nil
}

// groupNamed returns the named listed group of c, nil when c has none.
func groupNamed(c *result.ClusterResult, name string) *result.GroupResult {
	for i := range c.Groups {
		if c.Groups[i].Name == name {
			return &c.Groups[i]
		}
	}
	return nil
}

// groupDetail finds one group (listed or known to the expiry tracker).
func groupDetail(r *result.Result, cluster, group string, hist []Point) (GroupDetail, bool) {
	c := clusterNamed(r, cluster)
	if c == nil {
		return GroupDetail{}, false
	}
	d := GroupDetail{Generated: r.Generated, TopicDetails: []GroupTopic{}, History: hist}
	if d.History == nil {
		d.History = []Point{}
	}
	found := false
	for _, g := range groupsOf(c) {
		if g.Group == group {
			d.Group, found = g, true
			break
		}
	}
	if !found {
		return GroupDetail{}, false
	}
	if g := groupNamed(c, group); g != nil {
		for i := range g.Topics {
			d.TopicDetails = append(d.TopicDetails, topicView(&g.Topics[i]))
		}
	}
	d.HistoryNote = historyNote(c, &d)
	return d, true
}

// historyNote describes the lag chart of a group in words: what the
// points are, and why there are none or no new ones.
func historyNote(c *result.ClusterResult, d *GroupDetail) string {
	n := len(d.History)
	x := d.Expiry
	switch {
	case c.LastSuccess.IsZero():
		return "No poll of the cluster has succeeded yet."
	case !d.Present && x != nil && x.Expired && n > 0:
		return fmt.Sprintf("Lag at the last %d polls that listed the group. Its committed offsets expired at %s "+
			"and the brokers no longer list it: there is no lag to measure since.", n, exactTime(x.ExpiredAt))
	case !d.Present && x != nil && x.Expired:
		return fmt.Sprintf("No lag to chart: the group's committed offsets expired at %s (before this exporter "+
			"recorded any poll of it) and the brokers no longer list it.", exactTime(x.ExpiredAt))
	case !d.Present && x != nil && x.Missing:
		return "No lag to chart: the group has no committed offsets (expected by the configuration, never seen or gone)."
	case !d.Present && n > 0:
		return fmt.Sprintf("Lag at the last %d polls that listed the group; the brokers no longer list it.", n)
	case !d.Present:
		return "No lag to chart: the brokers do not list the group."
	case n == 0:
		return "No poll has recorded this group yet."
	}
	return fmt.Sprintf("Lag (records behind the log end, all topics) at each of the last %d polls.", n)
}

func topicView(t *result.GroupTopicResult) GroupTopic {
	out := GroupTopic{
		Topic: t.Topic, SumLag: t.SumLag, MaxLag: t.MaxLag, Status: t.Status,
		PartitionsWithoutCommit: t.PartitionsWithoutCommit, OutOfRange: t.OutOfRange, RecordsLost: t.RecordsLost,
		Partitions: make([]Partition, 0, len(t.Partitions)),
	}
	if t.HasLagSeconds {
		out.MaxLagSeconds = ptr(t.MaxLagSeconds)
	}
	if t.HasRates {
		out.ProduceRate, out.ConsumeRate = ptr(t.ProduceRate), ptr(t.ConsumeRate)
	}
	if t.HasCatchUp {
		out.CatchUpSeconds = ptr(t.CatchUpSeconds)
	}
	for _, p := range t.Partitions {
		pv := Partition{Partition: p.Partition, Committed: p.Committed, OutOfRange: p.OutOfRange,
			RecordsLost: p.RecordsLost, Status: p.Status.String(), LagSecondsSource: p.LagSecondsSource.String()}
		if p.HasLag {
			pv.End, pv.Lag = ptr(p.End), ptr(p.Lag)
		}
		if p.LagSecondsSource != result.LagSourceNone {
			pv.LagSeconds = ptr(p.LagSeconds)
		}
		out.Partitions = append(out.Partitions, pv)
	}
	return out
}

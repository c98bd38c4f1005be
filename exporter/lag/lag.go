package lag

import (
	"slices"
	"sort"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Compute returns the log bounds of every partition of s (sorted as s is)
// and the lag of every group of s. It takes s.Groups: each group's commits
// are dropped (Offsets nil) once its lag is computed, so that the answer's
// commits (48 bytes each, 190 MB at 4M) can be collected while the
// Result's are allocated, instead of both living until the poll ends. A
// caller that reads s.Groups again passes a snapshot with its own copy of
// the slice (slices.Clone).
func Compute(s *kafkaadmin.Snapshot) ([]result.TopicResult, []result.GroupResult) {
	groups := make([]result.GroupResult, len(s.Groups))
	for i := range s.Groups {
		groups[i] = computeGroup(s, &s.Groups[i])
		s.Groups[i].Offsets = nil
	}
	return computeTopics(s), groups
}

// computeTopics returns the log bounds of every partition in s.
func computeTopics(s *kafkaadmin.Snapshot) []result.TopicResult {
	out := make([]result.TopicResult, 0, len(s.Topics))
	for _, t := range s.Topics {
		tr := result.TopicResult{Name: t.Name, Partitions: make([]result.PartitionOffsets, len(t.Partitions))}
		for i, p := range t.Partitions {
			po := result.PartitionOffsets{Partition: p.ID}
			if p.StartErr == nil && p.Start >= 0 {
				po.Start, po.HasStart = p.Start, true
			}
			if p.EndErr == nil && p.End >= 0 {
				po.End, po.HasEnd = p.End, true
			}
			tr.Partitions[i] = po
		}
		out = append(out, tr)
	}
	return out
}

// computeGroup computes one group's lag against the snapshot's log bounds.
// Commits on topics or partitions the snapshot does not have (deleted,
// filtered out) are ignored; commits whose end offset is unknown get no lag
// (HasLag false) rather than a wrong one.
func computeGroup(s *kafkaadmin.Snapshot, g *kafkaadmin.Group) result.GroupResult {
	gr := result.GroupResult{Name: g.Name, Type: string(g.Type), State: g.State, Members: len(g.Members)}
	if g.FetchErr != nil {
		gr.Status = result.StatusErr.String()
	}
	byTopic := groupTopics(s, g)
	names := make([]string, 0, len(byTopic))
	for name := range byTopic {
		names = append(names, name)
	}
	sort.Strings(names)
	gr.Topics = make([]result.GroupTopicResult, 0, len(names))
	for _, name := range names {
		gt := byTopic[name]
		t, _ := s.TopicByName(name)
		sumTopic(gt, len(t.Partitions))
		gr.SumLag += gt.SumLag
		gr.MaxLag = max(gr.MaxLag, gt.MaxLag)
		gr.PartitionsWithoutCommit += gt.PartitionsWithoutCommit
		gr.OutOfRange += gt.OutOfRange
		gr.RecordsLost += gt.RecordsLost
		gr.Topics = append(gr.Topics, *gt)
	}
	return gr
}

// groupTopics collects a group's commits by topic, as PartitionLags
// against the snapshot's log bounds, and the topics assigned to its members
// without any commit yet.
func groupTopics(s *kafkaadmin.Snapshot, g *kafkaadmin.Group) map[string]*result.GroupTopicResult {
	byTopic := map[string]*result.GroupTopicResult{}
	topicOf := func(name string) *result.GroupTopicResult {
		gt := byTopic[name]
		if gt == nil {
			gt = &result.GroupTopicResult{Topic: name}
			byTopic[name] = gt
		}
		return gt
	}
	// Commits come grouped by topic: look each run's topic up once, and
	// size each topic's partitions at once (appending one by one allocated
	// twice the final size; at 4M commits that was 1 GB per poll).
	var lastName string
	var lastT *kafkaadmin.Topic
	topicByName := func(name string) (*kafkaadmin.Topic, bool) {
		if lastT == nil || name != lastName {
			t, ok := s.TopicByName(name)
			if !ok {
				return nil, false
			}
			lastName, lastT = name, t
		}
		return lastT, true
	}
	counts := map[string]int{}
	for _, co := range g.Offsets {
		if co.Err == 0 && co.Offset >= 0 {
			counts[co.Topic]++
		}
	}
	for _, co := range g.Offsets {
		if co.Err != 0 || co.Offset < 0 {
			continue
		}
		t, ok := topicByName(co.Topic)
		if !ok || co.Partition < 0 || int(co.Partition) >= len(t.Partitions) {
			continue
		}
		p := t.Partitions[co.Partition]
		pl := result.PartitionLag{Partition: co.Partition, Committed: co.Offset}
		if p.EndErr == nil && p.End >= 0 {
			pl.End, pl.Lag, pl.HasLag = p.End, result.Lag(p.End, co.Offset), true
		}
		if p.StartErr == nil {
			pl.OutOfRange, pl.RecordsLost = result.OutOfRange(p.Start, co.Offset)
		}
		gt := topicOf(co.Topic)
		if gt.Partitions == nil {
			gt.Partitions = make([]result.PartitionLag, 0, counts[co.Topic])
		}
		gt.Partitions = append(gt.Partitions, pl)
	}
	// Topics assigned to members but without any commit yet.
	for _, m := range g.Members {
		for topic := range m.Assignment {
			if _, ok := s.TopicByName(topic); ok {
				topicOf(topic)
			}
		}
	}
	return byTopic
}

// sumTopic sorts a group topic's partitions and sums their lag and
// out-of-range commits; partitions is the topic's partition count.
func sumTopic(gt *result.GroupTopicResult, partitions int) {
	if !slices.IsSortedFunc(gt.Partitions, byPartition) {
		sort.Slice(gt.Partitions, func(i, j int) bool { return gt.Partitions[i].Partition < gt.Partitions[j].Partition })
	}
	gt.PartitionsWithoutCommit = partitions - len(gt.Partitions)
	for _, pl := range gt.Partitions {
		if pl.HasLag {
			gt.SumLag += pl.Lag
			gt.MaxLag = max(gt.MaxLag, pl.Lag)
		}
		if pl.OutOfRange {
			gt.OutOfRange++
			gt.RecordsLost += pl.RecordsLost
		}
	}
}

func byPartition(a, b result.PartitionLag) int { return int(a.Partition) - int(b.Partition) }

package status

// This file keeps the trends implementation as it was before status
// windows became rings and exact candidates a bounded selection
// (trends.go), as the reference that TestTrendsMatchReference compares the
// new one with, poll by poll, over random snapshots.

import (
	"context"
	"sort"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// refTrends is one cluster's memory between polls: end-offset histories per
// partition and observation windows per group partition. It belongs to
// the cluster's poll loop (polls of a cluster never overlap).
//
// Both are kept per topic (per group and topic for windows) in slices
// indexed by partition, and swept by generation: one map lookup per topic
// instead of one per partition, and no "seen" maps rebuilt every poll
// (BenchmarkTrendsApply: at 100,000 committed offsets the per-partition maps
// cost most of the poll's CPU).
type refTrends struct {
	opts    Config
	ends    map[string]*refTopicEnds
	windows map[refGTKey]*refTopicWindows
	gen     uint64 // this poll's generation
}

type refGTKey struct{ group, topic string }

// refTopicEnds are the end-offset histories of a topic's partitions (nil:
// none yet); gen is the last poll that saw the topic.
type refTopicEnds struct {
	gen   uint64
	parts []*endHistory
}

// refTopicWindows are a group's observation windows of a topic's partitions,
// each with the last poll that extended it.
type refTopicWindows struct {
	gen   uint64
	parts []refPartWindow
}

type refPartWindow struct {
	gen uint64
	obs []observation
	// exact caches the record timestamp read at a committed offset: while
	// the commit does not move, the record's time does not change, so it
	// is not read again (a stopped consumer would otherwise cost a Fetch
	// every poll).
	exactAt   int64 // committed offset the cached time belongs to
	exactTime time.Time
	exactOK   bool
}

// part returns the window of a group's topic partition, creating it; the
// topic's slice is sized to its partition count at once so that pointers
// handed out during a poll stay valid.
func (tr *refTrends) part(group, topic string, partition int32, partitions int) *refPartWindow {
	k := refGTKey{group, topic}
	tw := tr.windows[k]
	if tw == nil {
		tw = &refTopicWindows{}
		tr.windows[k] = tw
	}
	if n := max(int(partition)+1, partitions); n > len(tw.parts) {
		tw.parts = append(tw.parts, make([]refPartWindow, n-len(tw.parts))...)
	}
	return &tw.parts[partition]
}

func newRefTrends(opts Config) *refTrends {
	return &refTrends{opts: opts, ends: map[string]*refTopicEnds{}, windows: map[refGTKey]*refTopicWindows{}}
}

// apply records this poll's observations and fills the time lag, status
// and rate fields of groups. exact may be nil.
func (tr *refTrends) apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact recordTimes) map[string]int {
	tr.gen++
	// End-offset histories: one sample per partition per poll.
	for _, t := range snap.Topics {
		te := tr.ends[t.Name]
		if te == nil {
			te = &refTopicEnds{}
			tr.ends[t.Name] = te
		}
		te.gen = tr.gen
		if len(te.parts) > len(t.Partitions) {
			clear(te.parts[len(t.Partitions):])
			te.parts = te.parts[:len(t.Partitions)]
		}
		for _, p := range t.Partitions {
			if int(p.ID) >= len(te.parts) {
				te.parts = append(te.parts, make([]*endHistory, int(p.ID)+1-len(te.parts))...)
			}
			if p.EndErr != nil || p.End < 0 {
				te.parts[p.ID] = nil // no history across a gap
				continue
			}
			h := te.parts[p.ID]
			if h == nil {
				h = &endHistory{}
				te.parts[p.ID] = h
			}
			h.record(p.End, now)
		}
	}
	for name, te := range tr.ends {
		if te.gen != tr.gen {
			delete(tr.ends, name) // topic deleted: its history describes another log
		}
	}

	// Time lag: interpolate, then read exactly where the mode says.
	type need struct {
		pl  *result.PartitionLag
		pw  *refPartWindow
		req kafkaadmin.RecordTimeRequest
		lag int64
	}
	var needs []need
	for gi := range groups {
		for ti := range groups[gi].Topics {
			gt := &groups[gi].Topics[ti]
			t, _ := snap.TopicByName(gt.Topic)
			te := tr.ends[gt.Topic]
			for pi := range gt.Partitions {
				pl := &gt.Partitions[pi]
				if !pl.HasLag {
					continue
				}
				var h *endHistory
				if te != nil && int(pl.Partition) < len(te.parts) && te.parts[pl.Partition] != nil {
					h = te.parts[pl.Partition]
				}
				d, src := h.timeLag(pl.End, pl.Committed, now)
				if tr.opts.TimeLag.Mode == modeExact && src != result.LagSourceCaughtUp {
					src = result.LagSourceNone
				}
				pl.LagSeconds, pl.LagSecondsSource = d.Seconds(), src
				wantExact := src == result.LagSourceNone ||
					(tr.opts.TimeLag.Mode == modeHybrid && src == result.LagSourceInterpolated && pl.Lag >= tr.opts.TimeLag.ExactAboveRecords)
				if tr.opts.TimeLag.Mode != modeInterpolate && exact != nil && wantExact && pl.Lag > 0 {
					pw := tr.part(groups[gi].Name, gt.Topic, pl.Partition, len(t.Partitions))
					if pw.exactOK && pw.exactAt == pl.Committed {
						pl.LagSeconds, pl.LagSecondsSource = max(0, now.Sub(pw.exactTime).Seconds()), result.LagSourceExact
						continue
					}
					p := t.Partitions[pl.Partition]
					needs = append(needs, need{pl, pw, kafkaadmin.RecordTimeRequest{Topic: gt.Topic, Partition: pl.Partition,
						Offset: pl.Committed, Leader: p.Leader, Start: p.Start}, pl.Lag})
				}
			}
		}
	}
	var requests map[string]int
	if len(needs) > 0 {
		sort.SliceStable(needs, func(i, j int) bool { return needs[i].lag > needs[j].lag })
		if len(needs) > tr.opts.TimeLag.ExactBudget {
			needs = needs[:tr.opts.TimeLag.ExactBudget]
		}
		reqs := make([]kafkaadmin.RecordTimeRequest, len(needs))
		for i, n := range needs {
			reqs[i] = n.req
		}
		var times []kafkaadmin.RecordTime
		times, requests = exact(ctx, reqs)
		for i, rt := range times {
			pl := needs[i].pl
			switch {
			case rt.Err != nil:
				// keep the interpolated value, if any
			case rt.Found < 0:
				pl.LagSeconds, pl.LagSecondsSource = 0, result.LagSourceCaughtUp
			default:
				pl.LagSeconds, pl.LagSecondsSource = max(0, now.Sub(rt.Timestamp).Seconds()), result.LagSourceExact
				pw := needs[i].pw
				pw.exactAt, pw.exactTime, pw.exactOK = pl.Committed, rt.Timestamp, true
			}
		}
	}

	// Status windows, statuses and rates; aggregates of time lag.
	for gi := range groups {
		g := &groups[gi]
		gStatus := result.StatusOK
		for ti := range g.Topics {
			gt := &g.Topics[ti]
			tStatus := result.StatusOK
			windows := make([][]observation, 0, len(gt.Partitions))
			tw := tr.windows[refGTKey{g.Name, gt.Topic}]
			if tw == nil {
				tw = &refTopicWindows{}
				tr.windows[refGTKey{g.Name, gt.Topic}] = tw
			}
			tw.gen = tr.gen
			for pi := range gt.Partitions {
				pl := &gt.Partitions[pi]
				if pl.LagSecondsSource != result.LagSourceNone {
					if !gt.HasLagSeconds || pl.LagSeconds > gt.MaxLagSeconds {
						gt.MaxLagSeconds, gt.HasLagSeconds = pl.LagSeconds, true
					}
				}
				if !pl.HasLag {
					continue
				}
				if int(pl.Partition) >= len(tw.parts) {
					tw.parts = append(tw.parts, make([]refPartWindow, int(pl.Partition)+1-len(tw.parts))...)
				}
				pw := &tw.parts[pl.Partition]
				w := append(pw.obs, observation{At: now, Committed: pl.Committed, End: pl.End})
				if len(w) > tr.opts.Status.Window {
					w = append(w[:0], w[len(w)-tr.opts.Status.Window:]...)
				}
				pw.obs, pw.gen = w, tr.gen
				st := evaluatePartition(w, g.Members)
				pl.Status = st
				tStatus = max(tStatus, st)
				windows = append(windows, w)
			}
			for i := range tw.parts {
				if tw.parts[i].gen != tr.gen {
					tw.parts[i] = refPartWindow{} // no lag this poll: the window restarts
				}
			}
			r := computeRates(windows)
			gt.ProduceRate, gt.ConsumeRate, gt.HasRates = r.Produce, r.Consume, r.Valid
			gt.CatchUpSeconds, gt.HasCatchUp = r.CatchUp.Seconds(), r.CatchUpKnown
			gt.Status = tStatus.String()
			gStatus = max(gStatus, tStatus)
			if gt.HasLagSeconds && (!g.HasLagSeconds || gt.MaxLagSeconds > g.MaxLagSeconds) {
				g.MaxLagSeconds, g.HasLagSeconds = gt.MaxLagSeconds, true
			}
		}
		g.Status = max(gStatus, statusOf(g.Status)).String()
	}
	for k, tw := range tr.windows {
		if tw.gen != tr.gen {
			delete(tr.windows, k)
		}
	}
	return requests
}

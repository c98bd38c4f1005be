package exporter

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// TimeLagMode selects how time lag is estimated.
type TimeLagMode string

const (
	// TimeLagInterpolate uses only the end-offset history: no extra
	// requests, no value until two polls, none for commits older than the
	// history.
	TimeLagInterpolate TimeLagMode = "interpolate"
	// TimeLagExact reads the timestamp of the record at every lagging
	// committed offset (one Fetch per leader, within the budget).
	TimeLagExact TimeLagMode = "exact"
	// TimeLagHybrid interpolates, and reads exact timestamps where the
	// history cannot tell or the lag is at least ExactAboveRecords.
	TimeLagHybrid TimeLagMode = "hybrid"
)

// TrendOptions configure time lag and status evaluation.
type TrendOptions struct {
	Mode TimeLagMode
	// ExactBudget is the most partitions whose record timestamp is read
	// per poll (largest lag first).
	ExactBudget int
	// ExactAboveRecords: in hybrid mode, partitions lagging at least this
	// many records are read exactly (interpolation is least precise for
	// large gaps that span bursts).
	ExactAboveRecords int64
	// Window is how many polls the status rules and rates look back.
	Window int
}

// Trend defaults.
const (
	DefaultExactBudget       = 1000
	DefaultExactAboveRecords = 1000
	DefaultStatusWindow      = 10
)

// SetDefaults fills unset fields.
func (o *TrendOptions) SetDefaults() {
	if o.Mode == "" {
		o.Mode = TimeLagHybrid
	}
	if o.ExactBudget == 0 {
		o.ExactBudget = DefaultExactBudget
	}
	if o.ExactBudget < 0 {
		o.ExactBudget = 0 // explicitly none
	}
	if o.ExactAboveRecords == 0 {
		o.ExactAboveRecords = DefaultExactAboveRecords
	}
	if o.Window == 0 {
		o.Window = DefaultStatusWindow
	}
}

// Validate reports the first problem.
func (o *TrendOptions) Validate() error {
	switch o.Mode {
	case TimeLagInterpolate, TimeLagExact, TimeLagHybrid:
	default:
		return fmt.Errorf("timelag.mode %q: want interpolate, exact or hybrid", o.Mode)
	}
	if o.Window < MinWindow {
		return fmt.Errorf("status.window %d: must be at least %d polls", o.Window, MinWindow)
	}
	return nil
}

// RecordTimer is implemented by sources that can read record timestamps
// (kafkaadmin.Client). Without it, exact time lag is not available.
type RecordTimer interface {
	RecordTimes(ctx context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int)
}

type tpKey struct {
	topic     string
	partition int32
}

type gtpKey struct {
	group string
	tpKey
}

// trends is one cluster's memory between polls: end-offset histories per
// partition and observation windows per group partition. It belongs to
// the cluster's poll loop (polls of a cluster never overlap).
type trends struct {
	opts    TrendOptions
	ends    map[tpKey]*EndHistory
	windows map[gtpKey][]Observation
}

func newTrends(opts TrendOptions) *trends {
	return &trends{opts: opts, ends: map[tpKey]*EndHistory{}, windows: map[gtpKey][]Observation{}}
}

// apply records this poll's observations and fills the time lag, status
// and rate fields of groups. exact may be nil.
func (tr *trends) apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []GroupResult, now time.Time, exact RecordTimer) map[string]int {
	// End-offset histories: one sample per partition per poll.
	seenTP := make(map[tpKey]bool, len(tr.ends))
	for _, t := range snap.Topics {
		for _, p := range t.Partitions {
			if p.EndErr != nil || p.End < 0 {
				continue
			}
			k := tpKey{t.Name, p.ID}
			seenTP[k] = true
			h := tr.ends[k]
			if h == nil {
				h = &EndHistory{}
				tr.ends[k] = h
			}
			h.Add(Sample{Offset: p.End, At: now}, DefaultHistory)
		}
	}
	for k := range tr.ends {
		if !seenTP[k] {
			delete(tr.ends, k) // topic deleted: its history describes another log
		}
	}

	// Time lag: interpolate, then read exactly where the mode says.
	type need struct {
		pl  *PartitionLag
		req kafkaadmin.RecordTimeRequest
		lag int64
	}
	var needs []need
	for gi := range groups {
		for ti := range groups[gi].Topics {
			gt := &groups[gi].Topics[ti]
			t, _ := snap.TopicByName(gt.Topic)
			for pi := range gt.Partitions {
				pl := &gt.Partitions[pi]
				if !pl.HasLag {
					continue
				}
				var h []Sample
				if eh := tr.ends[tpKey{gt.Topic, pl.Partition}]; eh != nil {
					h = eh.Samples
				}
				d, src := TimeLag(h, pl.End, pl.Committed, now)
				if tr.opts.Mode == TimeLagExact && src != SourceCaughtUp {
					src = SourceNone
				}
				pl.LagSeconds, pl.LagSecondsSource = d.Seconds(), string(src)
				wantExact := src == SourceNone ||
					(tr.opts.Mode == TimeLagHybrid && src == SourceInterpolated && pl.Lag >= tr.opts.ExactAboveRecords)
				if tr.opts.Mode != TimeLagInterpolate && exact != nil && wantExact && pl.Lag > 0 {
					p := t.Partitions[pl.Partition]
					needs = append(needs, need{pl, kafkaadmin.RecordTimeRequest{Topic: gt.Topic, Partition: pl.Partition,
						Offset: pl.Committed, Leader: p.Leader, Start: p.Start}, pl.Lag})
				}
			}
		}
	}
	var requests map[string]int
	if len(needs) > 0 {
		sort.SliceStable(needs, func(i, j int) bool { return needs[i].lag > needs[j].lag })
		if len(needs) > tr.opts.ExactBudget {
			needs = needs[:tr.opts.ExactBudget]
		}
		reqs := make([]kafkaadmin.RecordTimeRequest, len(needs))
		for i, n := range needs {
			reqs[i] = n.req
		}
		var times []kafkaadmin.RecordTime
		times, requests = exact.RecordTimes(ctx, reqs)
		for i, rt := range times {
			pl := needs[i].pl
			switch {
			case rt.Err != nil:
				// keep the interpolated value, if any
			case rt.Found < 0:
				pl.LagSeconds, pl.LagSecondsSource = 0, string(SourceCaughtUp)
			default:
				pl.LagSeconds, pl.LagSecondsSource = max(0, now.Sub(rt.Timestamp).Seconds()), string(SourceExact)
			}
		}
	}

	// Status windows, statuses and rates; aggregates of time lag.
	seen := map[gtpKey]bool{}
	for gi := range groups {
		g := &groups[gi]
		gStatus := StatusOK
		for ti := range g.Topics {
			gt := &g.Topics[ti]
			tStatus := StatusOK
			windows := make([][]Observation, 0, len(gt.Partitions))
			for pi := range gt.Partitions {
				pl := &gt.Partitions[pi]
				if pl.LagSecondsSource != "" {
					if !gt.HasLagSeconds || pl.LagSeconds > gt.MaxLagSeconds {
						gt.MaxLagSeconds, gt.HasLagSeconds = pl.LagSeconds, true
					}
				}
				if !pl.HasLag {
					continue
				}
				k := gtpKey{g.Name, tpKey{gt.Topic, pl.Partition}}
				seen[k] = true
				w := append(tr.windows[k], Observation{At: now, Committed: pl.Committed, End: pl.End})
				if len(w) > tr.opts.Window {
					w = append(w[:0], w[len(w)-tr.opts.Window:]...)
				}
				tr.windows[k] = w
				st := EvaluatePartition(w, g.Members)
				pl.Status = string(st)
				tStatus = Worse(tStatus, st)
				windows = append(windows, w)
			}
			r := ComputeRates(windows)
			gt.ProduceRate, gt.ConsumeRate, gt.HasRates = r.Produce, r.Consume, r.Valid
			gt.CatchUpSeconds, gt.HasCatchUp = r.CatchUp.Seconds(), r.CatchUpKnown
			gt.Status = string(tStatus)
			gStatus = Worse(gStatus, tStatus)
			if gt.HasLagSeconds && (!g.HasLagSeconds || gt.MaxLagSeconds > g.MaxLagSeconds) {
				g.MaxLagSeconds, g.HasLagSeconds = gt.MaxLagSeconds, true
			}
		}
		g.Status = string(Worse(gStatus, Status(g.Status)))
	}
	for k := range tr.windows {
		if !seen[k] {
			delete(tr.windows, k)
		}
	}
	return requests
}

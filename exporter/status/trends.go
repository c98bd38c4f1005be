package status

import (
	"context"
	"slices"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// recordTimes reads record timestamps: the RecordTimes method of a source
// that can (kafkaadmin.(*Client).RecordTimes), handed in by the poll loop
// (Trends.Apply). Without it (nil), exact time lag is not available.
type recordTimes func(ctx context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int)

// trends is one cluster's memory between polls: end-offset histories per
// partition and observation windows per group partition. It belongs to
// the cluster's poll loop (polls of a cluster never overlap).
//
// Both are kept per topic (per group and topic for windows) in slices
// indexed by partition, and swept by generation: one map lookup per topic
// instead of one per partition, and no "seen" maps rebuilt every poll
// (BenchmarkTrendsApply: at 100,000 committed offsets the per-partition maps
// cost most of the poll's CPU).
//
// A status window is a fixed ring of Status.Window committed offsets per
// group partition, 4 bytes a poll: each kept as its distance to the end
// offset it was compared with (topicWindows.setCommitted). The other two
// fields of an observation are shared: the poll's time is the same for
// every partition (times), and the end offset a group partition was
// compared with is the same for every group on that partition in a poll
// (lag.Compute takes End from the one snapshot, carried values included),
// so it is kept once per topic
// partition (obsEnds, written from the groups' End, not from the raw
// snapshot). A window only ever holds consecutive polls ending with the
// current one (a poll without lag restarts it), so observation i of a
// window of n sits in slot (gen-n+1+i) mod Window of every ring. With the
// default window of 10 this is 44 bytes per group partition (it was 88 with
// 8-byte offsets and a generation, and ~700 with a 40-byte observation
// slice grown to 16 slots).
type trends struct {
	opts    Config
	ends    map[string]*topicEnds
	windows map[gtKey]*topicWindows
	obsEnds map[string]*endRing
	gen     uint64      // this poll's generation
	times   []time.Time // poll time of generation g at g % Window
	// scratch is reused per partition to hand a window to
	// evaluatePartition; cands is the exact-read selection, reused.
	scratch []observation
	cands   []exactCand
	// clock times the exact reads; exactTook is how long they took in the
	// last apply (a poll phase of its own: requests, not math).
	clock     func() time.Time
	exactTook time.Duration
}

type gtKey struct{ group, topic string }

// topicEnds are the end-offset histories of a topic's partitions (nil:
// none yet); gen is the last poll that saw the topic.
type topicEnds struct {
	gen   uint64
	parts []*endHistory
}

// endRing holds the end offset the groups' observations of a topic's
// partition p had at generation g, in ring[p*Window + g%Window]; gen is the
// last poll that wrote it (it lives as long as some group's windows on the
// topic are extended).
type endRing struct {
	gen  uint64
	ring []int64
}

// topicWindows are a group's observation windows of a topic's partitions,
// in columns indexed by partition: how many observations each window holds
// (n, with extendedNow set while the poll that extends it runs; a window
// the poll did not extend restarts at 0), the committed offsets and,
// allocated on first use, the exact record-time cache. The group topic's
// windows are visited by every poll or dropped (gen), so one bit tells
// which windows this poll extended.
//
// The committed offset of partition p at generation g is the end offset
// it was compared with (obsEnds) minus deltas[p*Window + g%Window]: 4
// bytes a poll instead of 8, the distance being the lag (negative for a
// commit seen beyond the end). A lag beyond an int32 (2 billion records)
// turns the group topic's windows wide: full offsets in wide, deltas
// dropped.
type topicWindows struct {
	gen    uint64
	n      []uint32
	deltas []int32
	wide   []int64
	exact  []exactCache
}

// extendedNow marks in topicWindows.n a window the running poll extended.
const extendedNow = 1 << 31

// setCommitted writes partition p's committed offset v, compared with the
// end offset end, in slot of its window; ends are the topic's obsEnds
// ring, holding the ends of the window's older observations.
func (tw *topicWindows) setCommitted(p, slot, window int, v, end int64, ends []int64) {
	if tw.wide != nil {
		tw.wide[p*window+slot] = v
		return
	}
	if d := end - v; d == int64(int32(d)) {
		tw.deltas[p*window+slot] = int32(d)
		return
	}
	tw.wide = make([]int64, len(tw.deltas))
	for i, d := range tw.deltas {
		if i < len(ends) { // beyond: never part of a window
			tw.wide[i] = ends[i] - int64(d)
		}
	}
	tw.deltas = nil
	tw.wide[p*window+slot] = v
}

// committedAt is partition p's committed offset in slot; ends are the
// topic's obsEnds ring.
func (tw *topicWindows) committedAt(p, slot, window int, ends []int64) int64 {
	if tw.wide != nil {
		return tw.wide[p*window+slot]
	}
	return ends[p*window+slot] - int64(tw.deltas[p*window+slot])
}

// exactCache caches the record timestamp read at a committed offset: while
// the commit does not move, the record's time does not change, so it is
// not read again (a stopped consumer would otherwise cost a Fetch every
// poll). 16 bytes: the offset plus one (0: nothing cached) and the time in
// Unix nanoseconds (a time that does not fit is not cached).
type exactCache struct {
	atPlus1 int64
	nanos   int64
}

// get returns the cached time of the record at committed.
func (c *exactCache) get(committed int64) (time.Time, bool) {
	if c.atPlus1 == 0 || c.atPlus1-1 != committed {
		return time.Time{}, false
	}
	return time.Unix(0, c.nanos), true
}

// set caches t for committed, when t fits in Unix nanoseconds.
func (c *exactCache) set(committed int64, t time.Time) {
	n := t.UnixNano()
	if committed < 0 || !time.Unix(0, n).Equal(t) {
		*c = exactCache{}
		return
	}
	*c = exactCache{atPlus1: committed + 1, nanos: n}
}

// exactCand is a partition that wants an exact record-time read: where it
// is in groups, its lag (larger first) and its order of discovery (earlier
// first among equal lags).
type exactCand struct {
	lag        int64
	order      int
	gi, ti, pi int32
}

// grow makes room for partitions 0..parts-1 (never shrinks: a partition
// beyond the topic's count is simply never extended again).
func (tw *topicWindows) grow(parts, window int) {
	if parts <= len(tw.n) {
		return
	}
	tw.n = append(tw.n, make([]uint32, parts-len(tw.n))...)
	if tw.wide != nil {
		tw.wide = append(tw.wide, make([]int64, parts*window-len(tw.wide))...)
	} else {
		tw.deltas = append(tw.deltas, make([]int32, parts*window-len(tw.deltas))...)
	}
	if tw.exact != nil {
		tw.exact = append(tw.exact, make([]exactCache, parts-len(tw.exact))...)
	}
}

// exactOf returns partition p's exact cache, allocating the column.
func (tw *topicWindows) exactOf(p int32) *exactCache {
	if len(tw.exact) < len(tw.n) {
		tw.exact = append(tw.exact, make([]exactCache, len(tw.n)-len(tw.exact))...)
	}
	return &tw.exact[p]
}

// window returns the topic windows of a group, creating them.
func (tr *trends) window(group, topic string) *topicWindows {
	k := gtKey{group, topic}
	tw := tr.windows[k]
	if tw == nil {
		tw = &topicWindows{}
		tr.windows[k] = tw
	}
	return tw
}

// newTrendsClock is newTrends with the clock that times the exact reads
// (time.Now when nil).
func newTrendsClock(opts Config, clock func() time.Time) *trends {
	tr := newTrends(opts)
	if clock != nil {
		tr.clock = clock
	}
	return tr
}

func newTrends(opts Config) *trends {
	w := max(opts.Status.Window, 1)
	opts.Status.Window = w
	return &trends{opts: opts, ends: map[string]*topicEnds{}, windows: map[gtKey]*topicWindows{}, obsEnds: map[string]*endRing{},
		times: make([]time.Time, w), scratch: make([]observation, 0, w), clock: time.Now}
}

// apply records this poll's observations and fills the time lag, status
// and rate fields of groups. exact may be nil. It runs three phases:
// end-offset histories (recordEnds), time lag with exact reads (timeLag),
// status windows and rates (evaluate).
func (tr *trends) apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact recordTimes) map[string]int {
	tr.gen++
	tr.exactTook = 0
	slot := int(tr.gen % uint64(tr.opts.Status.Window))
	tr.times[slot] = now
	tr.recordEnds(snap, now)
	requests := tr.timeLag(ctx, snap, groups, now, exact)
	tr.evaluate(groups, slot)
	return requests
}

// recordEnds adds this poll's end offsets to the histories: one sample per
// partition per poll. The histories of topics gone from the snapshot are
// dropped.
func (tr *trends) recordEnds(snap *kafkaadmin.Snapshot, now time.Time) {
	for _, t := range snap.Topics {
		te := tr.ends[t.Name]
		if te == nil {
			te = &topicEnds{}
			tr.ends[t.Name] = te
		}
		te.gen = tr.gen
		if n := len(t.Partitions); len(te.parts) < n {
			te.parts = append(te.parts, make([]*endHistory, n-len(te.parts))...)
		}
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
}

// timeLag fills the time lag of every lagging partition: interpolated, then
// read exactly where the mode says. The partitions to read are the
// ExactBudget largest lags (earlier first among equals), selected with a
// bounded heap: at 3.5M lagging partitions a full sort was a third of the
// poll's CPU. It returns the requests the exact reads sent.
func (tr *trends) timeLag(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact recordTimes) map[string]int {
	cands := tr.cands[:0]
	order := 0
	for gi := range groups {
		for ti := range groups[gi].Topics {
			cands, order = tr.topicTimeLag(snap, groups, gi, ti, now, exact != nil, cands, order)
		}
	}
	var requests map[string]int
	if order > 0 { // some partition wanted a read (the budget may be 0)
		requests = tr.readExact(ctx, snap, groups, now, exact, cands)
	}
	clear(cands)
	tr.cands = cands[:0]
	return requests
}

// topicTimeLag interpolates the time lag of one group topic's lagging
// partitions (groups[gi].Topics[ti]) and adds those that want an exact read
// without a cached one to cands; order counts the candidates found so far.
func (tr *trends) topicTimeLag(snap *kafkaadmin.Snapshot, groups []result.GroupResult, gi, ti int, now time.Time, canRead bool, cands []exactCand, order int) ([]exactCand, int) {
	gt := &groups[gi].Topics[ti]
	te := tr.ends[gt.Topic]
	var tw *topicWindows // looked up once per group+topic, when needed
	looked := false
	var st *kafkaadmin.Topic
	for pi := range gt.Partitions {
		pl := &gt.Partitions[pi]
		if !pl.HasLag {
			continue
		}
		if !tr.interpolate(pl, te, now) || !canRead {
			continue
		}
		if !looked {
			tw, looked = tr.windows[gtKey{groups[gi].Name, gt.Topic}], true
		}
		if tw != nil && int(pl.Partition) < len(tw.exact) {
			if t, ok := tw.exact[pl.Partition].get(pl.Committed); ok {
				pl.LagSeconds, pl.LagSecondsSource = max(0, now.Sub(t).Seconds()), result.LagSourceExact
				continue
			}
		}
		if st == nil {
			st, _ = snap.TopicByName(gt.Topic)
		}
		if st == nil || int(pl.Partition) >= len(st.Partitions) {
			continue // not in this poll's snapshot (carried): no leader to ask
		}
		cands = pushCand(cands, tr.opts.TimeLag.ExactBudget, exactCand{lag: pl.Lag, order: order, gi: int32(gi), ti: int32(ti), pi: int32(pi)})
		order++
	}
	return cands, order
}

// interpolate sets a lagging partition's time lag from its topic's
// end-offset history (te may be nil) and reports whether the mode wants
// the record's timestamp read exactly.
func (tr *trends) interpolate(pl *result.PartitionLag, te *topicEnds, now time.Time) bool {
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
	return tr.opts.TimeLag.Mode != modeInterpolate && wantExact && pl.Lag > 0
}

// readExact reads the record timestamps of the selected candidates in one
// exact call, sets their time lag and caches what was read.
func (tr *trends) readExact(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact recordTimes, cands []exactCand) map[string]int {
	slices.SortFunc(cands, func(a, b exactCand) int {
		if a.lag != b.lag {
			if a.lag > b.lag {
				return -1
			}
			return 1
		}
		return a.order - b.order
	})
	reqs := make([]kafkaadmin.RecordTimeRequest, len(cands))
	for i, c := range cands {
		g := &groups[c.gi]
		gt := &g.Topics[c.ti]
		pl := &gt.Partitions[c.pi]
		t, _ := snap.TopicByName(gt.Topic)
		p := t.Partitions[pl.Partition]
		reqs[i] = kafkaadmin.RecordTimeRequest{Topic: gt.Topic, Partition: pl.Partition,
			Offset: pl.Committed, Leader: p.Leader, Start: p.Start}
	}
	t0 := tr.clock()
	times, requests := exact(ctx, reqs)
	tr.exactTook = tr.clock().Sub(t0)
	for i, rt := range times {
		c := cands[i]
		g := &groups[c.gi]
		gt := &g.Topics[c.ti]
		pl := &gt.Partitions[c.pi]
		switch {
		case rt.Err != nil:
			// keep the interpolated value, if any
		case rt.Found < 0:
			pl.LagSeconds, pl.LagSecondsSource = 0, result.LagSourceCaughtUp
		default:
			pl.LagSeconds, pl.LagSecondsSource = max(0, now.Sub(rt.Timestamp).Seconds()), result.LagSourceExact
			tw := tr.window(g.Name, gt.Topic)
			tw.grow(int(pl.Partition)+1+gt.PartitionsWithoutCommit, tr.opts.Status.Window)
			tw.exactOf(pl.Partition).set(pl.Committed, rt.Timestamp)
		}
	}
	return requests
}

// evaluate extends the status windows with this poll (at slot), sets the
// statuses, rates and time-lag aggregates of groups and their topics, and
// drops the windows of group topics this poll did not have.
func (tr *trends) evaluate(groups []result.GroupResult, slot int) {
	for gi := range groups {
		g := &groups[gi]
		gStatus := result.StatusOK
		for ti := range g.Topics {
			gt := &g.Topics[ti]
			tStatus := tr.topicStatus(g, gt, slot)
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
	for k, er := range tr.obsEnds {
		if er.gen != tr.gen {
			delete(tr.obsEnds, k)
		}
	}
}

// topicStatus extends group g's windows of one topic with this poll, sets
// the partitions' statuses, the topic's rates and its largest time lag, and
// returns the topic's (worst) status.
func (tr *trends) topicStatus(g *result.GroupResult, gt *result.GroupTopicResult, slot int) result.Status {
	W := tr.opts.Status.Window
	tStatus := result.StatusOK
	tw := tr.window(g.Name, gt.Topic)
	tw.gen = tr.gen
	er := tr.obsEnds[gt.Topic]
	if er == nil {
		er = &endRing{}
		tr.obsEnds[gt.Topic] = er
	}
	er.gen = tr.gen
	if n := len(gt.Partitions); n > 0 { // the topic's partitions at once
		parts := max(int(gt.Partitions[n-1].Partition)+1, n+gt.PartitionsWithoutCommit)
		tw.grow(parts, W)
		if len(er.ring) < parts*W {
			er.ring = append(er.ring, make([]int64, parts*W-len(er.ring))...)
		}
	}
	var dEnd, dCommit, lagSum int64
	var span time.Duration
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
		p := int(pl.Partition)
		tw.grow(p+1, W)
		n := min(int(tw.n[p]&^extendedNow)+1, W) // 0 unless extended by the last poll
		tw.n[p] = uint32(n) | extendedNow
		if len(er.ring) < (p+1)*W {
			er.ring = append(er.ring, make([]int64, (p+1)*W-len(er.ring))...)
		}
		tw.setCommitted(p, slot, W, pl.Committed, pl.End, er.ring)
		er.ring[p*W+slot] = pl.End
		w := tr.observations(p, n, tw, er)
		st := evaluatePartition(w, g.Members)
		pl.Status = st
		tStatus = max(tStatus, st)
		if n >= 2 { // computeRates over the windows: first and last of each
			first, last := w[0], w[n-1]
			dEnd += last.End - first.End
			dCommit += last.Committed - first.Committed
			lagSum += last.Lag()
			span = max(span, last.At.Sub(first.At))
		}
	}
	for i, n := range tw.n {
		tw.n[i] = n &^ extendedNow
		if n&extendedNow == 0 {
			tw.n[i] = 0 // no lag this poll: the window restarts
			if i < len(tw.exact) {
				tw.exact[i] = exactCache{}
			}
		}
	}
	r := ratesFrom(dEnd, dCommit, lagSum, span)
	gt.ProduceRate, gt.ConsumeRate, gt.HasRates = r.Produce, r.Consume, r.Valid
	gt.CatchUpSeconds, gt.HasCatchUp = r.CatchUp.Seconds(), r.CatchUpKnown
	gt.Status = tStatus.String()
	return tStatus
}

// observations materializes partition p's window of n observations (oldest
// first) from the rings into the reused scratch slice, for
// evaluatePartition.
func (tr *trends) observations(p, n int, tw *topicWindows, er *endRing) []observation {
	W := tr.opts.Status.Window
	w := tr.scratch[:n]
	s := int((tr.gen + uint64(W) - uint64(n-1)) % uint64(W)) // the oldest's slot
	ends := er.ring[p*W : p*W+W]
	for i := range w {
		w[i].At, w[i].Committed, w[i].End = tr.times[s], tw.committedAt(p, s, W, er.ring), ends[s]
		if s++; s == W {
			s = 0
		}
	}
	return w
}

// pushCand adds c to the selection of the budget best candidates, kept as
// a heap whose root is the worst selected: the smallest lag, the latest
// among equal lags. Candidates come in order of discovery, so a newcomer
// with the root's lag is worse than it and is left out, which selects
// exactly what a stable sort by lag truncated to the budget would.
func pushCand(h []exactCand, budget int, c exactCand) []exactCand {
	if budget <= 0 {
		return h
	}
	worse := func(a, b exactCand) bool { // a is worse than b
		return a.lag < b.lag || (a.lag == b.lag && a.order > b.order)
	}
	if len(h) < budget {
		h = append(h, c)
		for i := len(h) - 1; i > 0; { // sift up
			parent := (i - 1) / 2
			if !worse(h[i], h[parent]) {
				break
			}
			h[i], h[parent] = h[parent], h[i]
			i = parent
		}
		return h
	}
	if c.lag <= h[0].lag {
		return h
	}
	h[0] = c
	for i := 0; ; { // sift down
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && worse(h[l], h[m]) {
			m = l
		}
		if r < len(h) && worse(h[r], h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return h
}

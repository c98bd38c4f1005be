package exporter

// Honest partial data.
//
// A poll can fail in part: a broker that does not answer costs the log
// bounds of the partitions it leads and the groups it coordinates, while
// the other brokers answer. What a poll read is fresh; what it could not
// read is carried from the last good read of that same partition or group,
// for at most Options.StaleAfter, and the age of the oldest value served
// is exported (ClusterResult.OldestRead, GroupResult.ReadAt). After
// StaleAfter a value that still cannot be read is dropped: no series
// rather than a stale one passing for fresh.
//
// What is carried, per poll (patch):
//
//   - a partition's log end or log start whose ListOffsets failed;
//   - a group's description (state, members) whose DescribeGroups failed;
//   - a group's committed offsets whose OffsetFetch failed;
//   - a group absent from the poll because the ListGroups of its last
//     known coordinator failed (or any ListGroups failed and that
//     coordinator is no longer in the metadata): the whole group, marked
//     errNotRead (status ERR, as for any group whose commits were not read);
//   - commits missing from an answer that cannot be trusted to say they are
//     gone (groupAnswerTrusted false: the snapshot is incomplete, the
//     group's coordinator changed since the last poll, its description
//     failed, or the coordinator answered without any commit for it), and a
//     group absent from a complete poll, for one poll: a second consecutive
//     poll that agrees drops them. The expiry tracker concludes "deleted" or
//     "expired" by the same rule (expiry.go), so lag series and expiry
//     verdicts never disagree.
//
// A poll that read nothing at all (Source.Snapshot returned an error)
// changes no data: the last Result is served as it is, with up 0, and its
// age keeps growing (offsetlag_cluster_data_age_seconds).

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/offsetlag/offsetlag/exporter/internal/dense"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// defaultStaleAfterPolls is Options.StaleAfter in poll intervals when it
// is not set.
const defaultStaleAfterPolls = 3

// errNotRead is the DescribeErr and FetchErr of a group carried whole:
// nothing about it was read by the poll.
var errNotRead = errors.New("not read by this poll (carried from the last read)")

// carry is one cluster's last good reads. It belongs to the cluster's poll
// loop (polls of a cluster never overlap), like trends.
type carry struct {
	staleAfter time.Duration
	prevPoll   time.Time // the previous poll patched (zero: none)
	gen        uint64    // this poll's generation
	parts      map[string][]partRead
	groups     map[string]*groupRead
}

// partRead is the last good read of a partition's log bounds (a zero time:
// never read).
type partRead struct {
	start, end     int64
	startAt, endAt time.Time
}

// groupRead is the last good read of a group.
type groupRead struct {
	// desc is the last description read (Offsets nil), at describedAt.
	desc        kafkaadmin.Group
	describedAt time.Time
	// listedAt is the last poll that listed the group, coordinator the
	// coordinator that listed it.
	listedAt    time.Time
	coordinator int32
	topics      map[string]*topicRead
}

// topicRead is the last good read of a group's commits on a topic, kept
// compact: partitions and offsets in two columns (12 bytes a commit, not
// the answer's 48), rewritten in place every poll, and the per-partition
// errors only when the answer had some. Holding the answer's own slices
// instead kept every poll's whole OffsetFetch answer alive until the next.
type topicRead struct {
	parts []int32
	offs  []int64
	errs  []kafkaadmin.OffsetError // empty, or one per commit
	// shared is true when parts is dense.Iota's array (not ours to write).
	shared bool
	at     time.Time
	gen    uint64 // the poll that read them
	// missed is the last poll that saw the commits missing from a complete
	// but untrusted answer (zero: none).
	missed time.Time
}

// set records run (one topic's commits of an answer) in place of what was
// recorded, reusing the columns.
func (tr *topicRead) set(run []kafkaadmin.CommittedOffset) {
	if tr.shared {
		tr.parts, tr.shared = nil, false
	}
	tr.parts, tr.offs, tr.errs = tr.parts[:0], tr.offs[:0], tr.errs[:0]
	if cap(tr.offs) < len(run) { // sized once, not grown by appends
		tr.offs = make([]int64, 0, len(run))
	}
	isDense := true
	for i, co := range run {
		if co.Partition != int32(i) {
			isDense = false
			break
		}
	}
	if !isDense {
		if cap(tr.parts) < len(run) {
			tr.parts = make([]int32, 0, len(run))
		}
		tr.add(run)
		return
	}
	for i, co := range run { // partitions 0..n-1: only the offsets are kept
		tr.offs = append(tr.offs, co.Offset)
		tr.addErr(i, co.Err)
	}
	tr.parts, tr.shared = dense.Iota(len(run)), true
}

// addErr records commit i's error code (the column exists once one is set).
func (tr *topicRead) addErr(i int, e kafkaadmin.OffsetError) {
	if e != 0 && len(tr.errs) < i {
		tr.errs = append(tr.errs, make([]kafkaadmin.OffsetError, i-len(tr.errs))...)
	}
	if e != 0 || len(tr.errs) > 0 {
		tr.errs = append(tr.errs, e)
	}
}

// add appends run to what was recorded.
func (tr *topicRead) add(run []kafkaadmin.CommittedOffset) {
	if tr.shared && len(run) > 0 {
		tr.parts, tr.shared = slices.Clip(slices.Clone(tr.parts)), false
	}
	for _, co := range run {
		tr.addErr(len(tr.parts), co.Err)
		tr.parts = append(tr.parts, co.Partition)
		tr.offs = append(tr.offs, co.Offset)
	}
}

// appendTo appends the recorded commits, as committed offsets on topic, to
// dst.
func (tr *topicRead) appendTo(dst []kafkaadmin.CommittedOffset, topic string) []kafkaadmin.CommittedOffset {
	for i, p := range tr.parts {
		co := kafkaadmin.CommittedOffset{Topic: topic, Partition: p, Offset: tr.offs[i]}
		if len(tr.errs) > 0 {
			co.Err = tr.errs[i]
		}
		dst = append(dst, co)
	}
	return dst
}

func newCarry(staleAfter time.Duration) *carry {
	return &carry{staleAfter: staleAfter, parts: map[string][]partRead{}, groups: map[string]*groupRead{}}
}

// carryReport says how old the data of a patched snapshot is.
type carryReport struct {
	// oldest is the read time of the oldest value carried, zero when
	// everything was read by this poll.
	oldest time.Time
	// groups is, for each group with carried data, the read time of its
	// oldest value.
	groups map[string]time.Time
}

func (r *carryReport) note(group string, at time.Time) {
	if r.oldest.IsZero() || at.Before(r.oldest) {
		r.oldest = at
	}
	if group == "" {
		return
	}
	if g, ok := r.groups[group]; !ok || at.Before(g) {
		r.groups[group] = at
	}
}

// patch records what snap read and returns a copy of snap in which what it
// could not read is filled from the last good reads (see the file
// comment). snap is not modified; the copy shares what was not patched.
func (c *carry) patch(snap *kafkaadmin.Snapshot, now time.Time) (*kafkaadmin.Snapshot, carryReport) {
	out := *snap
	p := &carryPass{c: c, snap: snap, now: now, prevPoll: c.prevPoll, rep: carryReport{groups: map[string]time.Time{}}}
	c.prevPoll = now
	c.gen++
	out.Topics = p.bounds()
	groups, listed := p.listedGroups()
	groups = p.unlistedGroups(groups, listed)
	if len(groups) != len(snap.Groups) || len(p.rep.groups) > 0 {
		slices.SortFunc(groups, func(a, b kafkaadmin.Group) int {
			switch {
			case a.Name < b.Name:
				return -1
			case a.Name > b.Name:
				return 1
			}
			return 0
		})
		out.Groups = groups
	}
	return &out, p.rep
}

// carryPass is one patch: the snapshot, its poll time, the previous poll's
// and the report being written.
type carryPass struct {
	c        *carry
	snap     *kafkaadmin.Snapshot
	now      time.Time
	prevPoll time.Time
	rep      carryReport
}

// usable reports whether a read at at may still be served.
func (p *carryPass) usable(at time.Time) bool { return !at.IsZero() && p.now.Sub(at) <= p.c.staleAfter }

// bounds records the log bounds read and returns the snapshot's topics with
// those not read carried (a copy when any was).
func (p *carryPass) bounds() []kafkaadmin.Topic {
	c, snap := p.c, p.snap
	topics := snap.Topics
	copied := false
	seen := make(map[string]bool, len(snap.Topics))
	for ti := range snap.Topics {
		t := &snap.Topics[ti]
		seen[t.Name] = true
		reads := c.parts[t.Name]
		if len(reads) != len(t.Partitions) {
			reads = append(reads[:min(len(reads), len(t.Partitions))], make([]partRead, max(0, len(t.Partitions)-len(reads)))...)
			c.parts[t.Name] = reads
		}
		if parts := p.topicBounds(t, reads); parts != nil {
			if !copied {
				topics, copied = slices.Clone(snap.Topics), true
			}
			topics[ti].Partitions = parts
		}
	}
	for name := range c.parts {
		if !seen[name] {
			delete(c.parts, name) // topic gone: its bounds describe nothing
		}
	}
	return topics
}

// topicBounds records the bounds of t's partitions read into reads and
// returns a copy of t's partitions with those not read carried, or nil
// when nothing was carried.
func (p *carryPass) topicBounds(t *kafkaadmin.Topic, reads []partRead) []kafkaadmin.Partition {
	now := p.now
	var parts []kafkaadmin.Partition // copied on the first patch
	for pi := range t.Partitions {
		tp, r := &t.Partitions[pi], &reads[pi]
		endOK, startOK := tp.EndErr == nil && tp.End >= 0, tp.StartErr == nil && tp.Start >= 0
		if endOK {
			r.end, r.endAt = tp.End, now
		}
		if startOK {
			r.start, r.startAt = tp.Start, now
		}
		carryEnd, carryStart := !endOK && p.usable(r.endAt), !startOK && p.usable(r.startAt)
		if !carryEnd && !carryStart {
			continue
		}
		if parts == nil {
			parts = slices.Clone(t.Partitions)
		}
		if carryEnd {
			parts[pi].End, parts[pi].EndErr = r.end, nil
			p.rep.note("", r.endAt)
		}
		if carryStart {
			parts[pi].Start, parts[pi].StartErr = r.start, nil
			p.rep.note("", r.startAt)
		}
	}
	return parts
}

// listedGroups records what the poll read of the groups it listed and
// returns them with what was not read carried, and the set of their names.
func (p *carryPass) listedGroups() ([]kafkaadmin.Group, map[string]bool) {
	c, snap, now := p.c, p.snap, p.now
	groups := make([]kafkaadmin.Group, 0, len(snap.Groups))
	listed := make(map[string]bool, len(snap.Groups))
	for _, g := range snap.Groups {
		listed[g.Name] = true
		gr := c.groups[g.Name]
		if gr == nil {
			gr = &groupRead{topics: map[string]*topicRead{}}
			c.groups[g.Name] = gr
		}
		trusted := snap.GroupAnswerTrusted(&g, !gr.listedAt.IsZero(), gr.coordinator)
		gr.listedAt, gr.coordinator = now, g.Coordinator

		if g.DescribeErr == nil {
			gr.desc = g
			gr.desc.Offsets, gr.desc.DescribeErr, gr.desc.FetchErr = nil, nil, nil
			gr.describedAt = now
		} else if p.usable(gr.describedAt) {
			// Members are not listed by ListGroups; the state is, by
			// recent brokers: carry it only when it was not read.
			g.Members = gr.desc.Members
			if g.State == "" || g.State == "Unknown" {
				g.State = gr.desc.State
			}
			p.rep.note(g.Name, gr.describedAt)
		}

		read := p.recordCommits(gr, &g)
		var extra []kafkaadmin.CommittedOffset
		if read < len(gr.topics) { // some topic was not read this poll
			extra = p.unreadCommits(gr, &g, trusted)
		}
		if len(extra) > 0 {
			g.Offsets = sortedOffsets(append(slices.Clone(g.Offsets), extra...))
		}
		groups = append(groups, g)
	}
	return groups, listed
}

// recordCommits records the commits read of group g, per topic, and returns
// how many topics were read. Offsets are sorted by topic, so each topic's
// commits are one run of the answer.
func (p *carryPass) recordCommits(gr *groupRead, g *kafkaadmin.Group) int {
	c, now := p.c, p.now
	read := 0
	if g.FetchErr != nil {
		return read
	}
	for i := 0; i < len(g.Offsets); {
		topic := g.Offsets[i].Topic
		j := i + 1
		for j < len(g.Offsets) && g.Offsets[j].Topic == topic {
			j++
		}
		tr := gr.topics[topic]
		switch {
		case tr == nil:
			tr = &topicRead{}
			gr.topics[topic] = tr
		case tr.gen == c.gen: // unsorted answer: the topic again
			tr.add(g.Offsets[i:j])
			i = j
			continue
		}
		read++
		tr.set(g.Offsets[i:j])
		tr.at, tr.gen, tr.missed = now, c.gen, time.Time{}
		i = j
	}
	return read
}

// unreadCommits returns the commits of g's topics this poll did not read
// that are still served, and forgets the others.
func (p *carryPass) unreadCommits(gr *groupRead, g *kafkaadmin.Group, trusted bool) []kafkaadmin.CommittedOffset {
	c, snap, now := p.c, p.snap, p.now
	var extra []kafkaadmin.CommittedOffset
	for _, topic := range slices.Sorted(maps.Keys(gr.topics)) {
		tr := gr.topics[topic]
		if tr.gen == c.gen {
			continue
		}
		keep := p.usable(tr.at)
		if keep && g.FetchErr == nil {
			// Missing from an answer: gone when the answer is
			// trusted, or when the previous poll saw them missing
			// too.
			switch {
			case trusted:
				keep = false
			case snap.Complete():
				keep = tr.missed.IsZero() || !tr.missed.Equal(p.prevPoll)
				tr.missed = now
			}
		}
		if !keep {
			delete(gr.topics, topic)
			continue
		}
		extra = tr.appendTo(extra, topic)
		p.rep.note(g.Name, tr.at)
	}
	return extra
}

// unlistedGroups appends to groups the groups the poll did not list that
// are carried (their coordinator's ListGroups failed, or a complete poll
// missed them for the first time), and forgets the others.
func (p *carryPass) unlistedGroups(groups []kafkaadmin.Group, listed map[string]bool) []kafkaadmin.Group {
	c, snap := p.c, p.snap
	failedList := map[int32]bool{}
	for _, re := range snap.Errors {
		if re.API == "ListGroups" {
			failedList[re.Broker] = true
		}
	}
	inMetadata := map[int32]bool{}
	for _, b := range snap.Brokers {
		inMetadata[b.ID] = true
	}
	for _, name := range slices.Sorted(maps.Keys(c.groups)) {
		if listed[name] {
			continue
		}
		gr := c.groups[name]
		unknown := failedList[gr.coordinator] || (len(failedList) > 0 && !inMetadata[gr.coordinator])
		firstMiss := snap.Complete() && gr.listedAt.Equal(p.prevPoll)
		if !unknown && !firstMiss {
			delete(c.groups, name)
			continue
		}
		if g, ok := p.unlistedGroup(name, gr); ok {
			groups = append(groups, g)
		}
	}
	return groups
}

// unlistedGroup is a group the poll did not list, carried whole and marked
// errNotRead; ok is false (and the group forgotten) when nothing of it is
// left worth serving.
func (p *carryPass) unlistedGroup(name string, gr *groupRead) (kafkaadmin.Group, bool) {
	g := gr.desc
	g.Name, g.Coordinator = name, gr.coordinator
	g.DescribeErr, g.FetchErr = errNotRead, errNotRead
	if p.usable(gr.describedAt) {
		p.rep.note(name, gr.describedAt)
	} else {
		g.State, g.Members = "Unknown", nil
	}
	for _, topic := range slices.Sorted(maps.Keys(gr.topics)) {
		tr := gr.topics[topic]
		if !p.usable(tr.at) {
			delete(gr.topics, topic)
			continue
		}
		g.Offsets = tr.appendTo(g.Offsets, topic)
		p.rep.note(name, tr.at)
	}
	if len(g.Offsets) == 0 && !p.usable(gr.describedAt) {
		delete(p.c.groups, name) // nothing left worth serving
		return g, false
	}
	g.Offsets = sortedOffsets(g.Offsets)
	return g, true
}

func sortedOffsets(offs []kafkaadmin.CommittedOffset) []kafkaadmin.CommittedOffset {
	slices.SortFunc(offs, func(a, b kafkaadmin.CommittedOffset) int {
		switch {
		case a.Topic < b.Topic:
			return -1
		case a.Topic > b.Topic:
			return 1
		}
		return int(a.Partition) - int(b.Partition)
	})
	return offs
}

package expiry

// Committed-offset expiry: prediction and detection.
//
// Kafka deletes the committed offsets of a group that has had no members
// for offsets.retention.minutes (KIP-211; 7 days by default). The next
// consumer with that group id starts from its auto.offset.reset (a Lambda
// event source mapping: its StartingPosition): latest skips every record
// written meanwhile, earliest processes the whole topic again. The tracker
// here predicts when that will happen and notices when it did.
//
// # The broker's rule, and ours
//
// The group coordinator checks every offsets.retention.check.interval.ms
// (10 minutes by default) and deletes an offset when
//
//   - classic group with a protocol type, state Empty: the retention has
//     passed since the group became Empty (its state timestamp), whatever
//     the commit time;
//   - simple group (no protocol type, no members: admin tools, assign()
//     consumers, a Lambda ESM before its first poll): the retention has
//     passed since the offset was committed;
//   - KIP-848 ("consumer" protocol) group without members: the retention
//     has passed since the offset was committed;
//   - groups with members: never for subscribed topics (unsubscribed topics
//     follow the commit time; not predicted here).
//
// The exporter cannot read those timestamps, so it observes them:
//
//   - EmptySince is the first poll that saw the group Empty (late by less
//     than one poll interval);
//   - per topic, LastCommitChange is the first poll that saw the topic's
//     committed offsets as they are now. A consumer that commits the same
//     offsets again refreshes the broker's commit time without a visible
//     change, so for simple and KIP-848 groups the prediction is a lower
//     bound: the offsets expire at ExpiresAt or later, never earlier
//     (except by the one poll interval of observation lag). Tracking per
//     topic rather than per partition matches how consumers commit (all
//     assigned partitions at once, changed or not).
//
// ExpiresAt = base + retention, recomputed every poll, so a retention that
// changes while a group is Empty moves the prediction.
//
// # Expired or deleted on purpose
//
// Commits that were seen before and are now gone (the group is no longer
// listed, or it is listed without commits on the topic) are "expired" when
// they vanish at or after their predicted expiry minus a tolerance (by
// default two poll intervals, which covers the observation lag), and
// "deleted on purpose" (DeleteGroups, DeleteOffsets, kafka-consumer-groups
// --delete) when they vanish before it or while no expiry clock was
// running. Deleted state is forgotten; expired state is kept (and persisted)
// until the group commits on the topic again or one retention has passed.
// Commits on a topic that was itself deleted are forgotten.
//
// The configuration may list expected groups (a disabled Lambda ESM's group
// id), with their starting position and topics. They are watched before
// they are seen: a configured topic without commits counts as expired, and
// an expected group without any commit is Missing.
//
// # No conclusion from a degraded answer
//
// Commits missing from a degraded answer are unknown, never deleted or
// expired: a broker shutting down, a coordinator that moved or is loading
// the group, a request that failed make live commits look gone. A vanish
// is concluded only from consistent answers:
//
//   - nothing is concluded from a partial snapshot (any request failed: a
//     failed ListGroups or OffsetFetch would make live groups look gone),
//     and a group whose DescribeGroups or OffsetFetch failed keeps its
//     previous commits;
//   - commits missing from a group's answer are gone at once when that
//     answer is trusted (kafkaadmin's Snapshot.GroupAnswerTrusted: the
//     group was described and fetched without error, by the same
//     coordinator as in the previous poll, and the answer holds other
//     commits of the group);
//   - otherwise (the coordinator changed, the description failed, the
//     answer holds no commit at all, or the group is not listed), they are
//     gone only when a second consecutive complete poll agrees; the vanish
//     is then dated from the first of the two. A partial poll in between
//     breaks the sequence.
//
// The exporter carries the lag series of such commits meanwhile (carry.go),
// so series are not dropped for an answer that decides nothing.

import (
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// defaultOffsetsRetention is Kafka's default offsets.retention.minutes
// (7 days), used when neither the configuration nor the brokers say.
const defaultOffsetsRetention = 7 * 24 * time.Hour

// Retention sources (ClusterResult.OffsetsRetentionSource).
const (
	retentionFromConfig  = "config"
	retentionFromBroker  = "broker"
	retentionFromDefault = "default"
)

// clusterConfig configures one observation of a cluster (Tracker.Observe
// assembles it from Config and Options).
type clusterConfig struct {
	// Retention overrides the brokers' offsets.retention.minutes when > 0.
	Retention time.Duration
	// Expected groups of this cluster (configured and found at run time,
	// those of other replicas left out).
	Expected []ExpectedGroup
	// Tolerance: commits that vanish no earlier than ExpiresAt - Tolerance
	// expired; earlier, they were deleted on purpose (never 0: NewTracker
	// sets two poll intervals).
	Tolerance time.Duration
	// IncludeGroup, when set, says which groups are tracked (the groups
	// filter); state of other groups is dropped.
	IncludeGroup func(string) bool
}

// clusterState is what the tracker remembers of one cluster between polls.
// It is persisted as JSON (state.go); field names are part of the file
// format.
type clusterState struct {
	// LastPoll is the last snapshot observed.
	LastPoll time.Time              `json:"last_poll,omitzero"`
	Groups   map[string]*groupState `json:"groups"`
}

// groupState is the tracker's memory of one group.
type groupState struct {
	Type  string `json:"type,omitempty"`
	State string `json:"state,omitempty"`
	// EmptySince: see GroupExpiry.
	EmptySince      time.Time `json:"empty_since,omitzero"`
	EmptySinceExact bool      `json:"empty_since_exact,omitempty"`
	// GoneSince is the first complete poll that did not list the group,
	// once a second consecutive one agreed (AbsentSince and AbsentLast
	// track the polls that did not list it until then).
	GoneSince   time.Time `json:"gone_since,omitzero"`
	AbsentSince time.Time `json:"absent_since,omitzero"`
	AbsentLast  time.Time `json:"absent_last,omitzero"`
	// Coordinator is the broker that listed the group in the last poll
	// that did (nil: not known, as in a state file of an older version).
	Coordinator *int32 `json:"coordinator,omitempty"`
	// Missing: an expected group without commits (logged once).
	Missing bool                   `json:"missing,omitempty"`
	Topics  map[string]*topicState `json:"topics,omitempty"`
}

// topicState is the tracker's memory of one group's commits on one topic.
type topicState struct {
	LastChange time.Time `json:"last_change,omitzero"`
	// Offsets are the last committed offsets seen, by partition.
	Offsets commitOffsets `json:"offsets,omitzero"`
	// ExpiresAt is the last prediction, kept to judge a vanish.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Expired is the poll that saw the commits gone (expired), zero if not.
	Expired time.Time `json:"expired,omitzero"`
	// OutOfRange are the partitions last seen committed below the log
	// start (so the event is logged once per partition).
	OutOfRange []int32 `json:"out_of_range,omitempty"`
	// MissingSince and MissingLast are the first and last of the
	// consecutive complete polls whose untrusted answer for the group
	// lacked these commits (see "No conclusion from a degraded answer").
	MissingSince time.Time `json:"missing_since,omitzero"`
	MissingLast  time.Time `json:"missing_last,omitzero"`
}

// eventKind names a tracker event.
type eventKind string

// Events, each logged once when it happens (not once per poll).
const (
	// eventExpired: commits seen before are gone at or after the predicted
	// expiry (Warn).
	eventExpired eventKind = "expired"
	// eventMissing: an expected group has no commit at all (Warn).
	eventMissing eventKind = "missing"
	// eventOutOfRange: a commit fell below the log start (Warn).
	eventOutOfRange eventKind = "out_of_range"
	// eventDeleted: commits vanished before their predicted expiry, or
	// while no expiry clock ran: deleted on purpose (Info).
	eventDeleted eventKind = "deleted"
	// eventCommitsBack: an expired group committed on the topic again (Info).
	eventCommitsBack eventKind = "commits_back"
)

// event is one thing that happened, to be logged once.
type event struct {
	Kind  eventKind
	Group string
	// Topic and Partition, when the event concerns one (Partition -1 if
	// not).
	Topic     string
	Partition int32
	// ExpiresAt is the prediction the commits had; EmptySince the group's.
	ExpiresAt, EmptySince time.Time
	// Committed and LogStart for eventOutOfRange.
	Committed, LogStart int64
	// RecordsAtRisk for eventExpired and eventMissing.
	RecordsAtRisk []result.RecordsAtRisk
}

// write logs the event as one structured line.
func (ev event) write(log *slog.Logger) {
	attrs := []any{"group", ev.Group}
	if ev.Topic != "" {
		attrs = append(attrs, "topic", ev.Topic)
	}
	if ev.Partition >= 0 {
		attrs = append(attrs, "partition", ev.Partition)
	}
	if !ev.ExpiresAt.IsZero() {
		attrs = append(attrs, "predicted_expiry", ev.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !ev.EmptySince.IsZero() {
		attrs = append(attrs, "empty_since", ev.EmptySince.UTC().Format(time.RFC3339))
	}
	for _, r := range ev.RecordsAtRisk {
		attrs = append(attrs, "records_at_risk_"+r.StartingPosition, r.Records)
	}
	switch ev.Kind {
	case eventExpired:
		log.Warn("committed offsets expired: a consumer restarting with this group id starts from its starting position", attrs...)
	case eventMissing:
		log.Warn("expected consumer group has no committed offsets: it will start from its starting position", attrs...)
	case eventOutOfRange:
		attrs = append(attrs, "committed", ev.Committed, "log_start", ev.LogStart, "records_lost", ev.LogStart-ev.Committed)
		log.Warn("committed offset is below the log start: records were deleted by retention before the group read them", attrs...)
	case eventDeleted:
		log.Info("committed offsets deleted before their predicted expiry (deleted on purpose, not expired)", attrs...)
	case eventCommitsBack:
		log.Info("group commits again on a topic whose offsets had expired", attrs...)
	}
}

// outcome is the result of one observation.
type outcome struct {
	Retention       time.Duration
	RetentionSource string
	Groups          []result.GroupExpiry
	events          []event
	// Changed is true when the state changed; Transition when it changed in
	// a way that must be persisted at once (a group became Empty, commits
	// expired, ...), rather than with the next periodic save.
	Changed, Transition bool
}

// logEvents logs what happened in the observation (commits expired or
// deleted, expected groups missing, ...), one line each: every event is
// reported once, by the observation that saw it happen.
func (o *outcome) logEvents(log *slog.Logger) {
	for _, ev := range o.events {
		ev.write(log)
	}
}

// resolveRetention picks the retention: the override, else the brokers',
// else Kafka's default.
func resolveRetention(override, broker time.Duration) (time.Duration, string) {
	switch {
	case override > 0:
		return override, retentionFromConfig
	case broker > 0:
		return broker, retentionFromBroker
	default:
		return defaultOffsetsRetention, retentionFromDefault
	}
}

// observe advances st by one snapshot of its cluster, taken at now,
// and returns the cluster's expiry view (Tracker.Observe runs it under
// the tracker's lock). It is a pure function of st, the
// snapshot, the configuration and now (no clock, no I/O); it mutates st.
func observe(st *clusterState, snap *kafkaadmin.Snapshot, cfg clusterConfig, now time.Time) outcome {
	if st.Groups == nil {
		st.Groups = map[string]*groupState{}
	}
	o := &observation{st: st, snap: snap, cfg: cfg, now: now, complete: snap.Complete(),
		expected: map[string]ExpectedGroup{}}
	o.out.Retention, o.out.RetentionSource = resolveRetention(cfg.Retention, snap.OffsetsRetention)
	for _, eg := range cfg.Expected {
		o.expected[eg.Group] = eg
	}
	prevPoll := st.LastPoll
	present := map[string]*kafkaadmin.Group{}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		if o.included(g.Name) {
			present[g.Name] = g
		}
	}
	for _, name := range slices.Sorted(maps.Keys(present)) {
		o.present(name, present[name], prevPoll)
	}
	if o.complete {
		for _, name := range slices.Sorted(maps.Keys(st.Groups)) {
			if present[name] == nil {
				o.absent(name, prevPoll)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(o.expected)) {
			g := present[name]
			if g == nil || g.FetchErr == nil { // its commits are known
				o.expectedGroup(name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(st.Groups)) {
		o.prune(name, present[name] != nil)
	}
	st.LastPoll = now
	o.out.Groups = o.view(present)
	return o.out
}

type observation struct {
	st       *clusterState
	snap     *kafkaadmin.Snapshot
	cfg      clusterConfig
	now      time.Time
	complete bool
	expected map[string]ExpectedGroup
	out      outcome
	// commits and readTopics are present's scratch: a group's commits
	// and the topics it read, sorted.
	commits    []partOffset
	readTopics []string
}

func (o *observation) included(name string) bool {
	if _, ok := o.expected[name]; ok {
		return true
	}
	return o.cfg.IncludeGroup == nil || o.cfg.IncludeGroup(name)
}

func (o *observation) changed()    { o.out.Changed = true }
func (o *observation) transition() { o.out.Changed, o.out.Transition = true, true }
func (o *observation) event(ev event) {
	o.out.events = append(o.out.events, ev)
}

func isEmptyState(s string) bool { return strings.EqualFold(s, "Empty") }

// present updates a group listed by the snapshot.
func (o *observation) present(name string, g *kafkaadmin.Group, prevPoll time.Time) {
	gs := o.presentState(name)
	wasGone := !gs.GoneSince.IsZero()
	if wasGone {
		gs.GoneSince = time.Time{}
		o.transition()
	}
	if !gs.AbsentSince.IsZero() || !gs.AbsentLast.IsZero() {
		gs.AbsentSince, gs.AbsentLast = time.Time{}, time.Time{}
		o.changed()
	}
	coordKnown := gs.Coordinator != nil
	var prevCoord int32
	if coordKnown {
		prevCoord = *gs.Coordinator
	}
	if !coordKnown || prevCoord != g.Coordinator {
		c := g.Coordinator
		gs.Coordinator = &c
		o.changed()
	}
	if g.DescribeErr == nil {
		o.described(gs, g, prevPoll, wasGone)
	}
	if g.FetchErr != nil {
		o.predict(name, gs)
		return // commits unknown this poll: keep the previous ones
	}
	read := o.commitsRead(name, gs, g)
	if o.complete {
		trusted := o.snap.GroupAnswerTrusted(g, coordKnown, prevCoord)
		for _, topic := range slices.Sorted(maps.Keys(gs.Topics)) {
			if _, ok := slices.BinarySearch(read, topic); !ok {
				o.missing(name, gs, topic, trusted, prevPoll)
			}
		}
	}
	if gs.Missing && len(read) > 0 {
		gs.Missing = false
		o.transition()
	}
	o.predict(name, gs)
}

// presentState returns the state of a listed group, creating it.
func (o *observation) presentState(name string) *groupState {
	gs := o.st.Groups[name]
	if gs == nil {
		gs = &groupState{Topics: map[string]*topicState{}}
		o.st.Groups[name] = gs
		o.transition()
	}
	if gs.Topics == nil {
		gs.Topics = map[string]*topicState{}
	}
	return gs
}

// described updates a group's type, state and EmptySince from its
// description (g.DescribeErr is nil). wasGone is true when the group had
// been gone until this poll.
func (o *observation) described(gs *groupState, g *kafkaadmin.Group, prevPoll time.Time, wasGone bool) {
	typ := string(g.Type)
	if typ != string(kafkaadmin.GroupSimple) && isEmptyState(g.State) {
		if gs.EmptySince.IsZero() {
			// Exact when the previous poll, not long ago, saw members.
			knownBusy := gs.State != "" && !isEmptyState(gs.State) && !wasGone
			gs.EmptySince = o.now
			gs.EmptySinceExact = knownBusy && !prevPoll.IsZero() && o.now.Sub(prevPoll) <= o.tolerance()
			o.transition()
		}
	} else if !gs.EmptySince.IsZero() {
		gs.EmptySince, gs.EmptySinceExact = time.Time{}, false
		o.transition()
	}
	if gs.Type != typ || gs.State != g.State {
		gs.Type, gs.State = typ, g.State
		o.changed()
	}
}

// commitsRead records the commits the snapshot read of a group (its
// OffsetFetch answered) and returns the topics read, sorted.
func (o *observation) commitsRead(name string, gs *groupState, g *kafkaadmin.Group) []string {
	// The group's commits by topic, in a scratch reused from group to
	// group: no map per group topic per poll.
	cs := o.commits[:0]
	lastTopic, lastOK := "", false
	for _, co := range g.Offsets {
		if co.Err != 0 || co.Offset < 0 {
			continue
		}
		if co.Topic != lastTopic || len(cs) == 0 {
			_, lastOK = o.snap.TopicByName(co.Topic)
			lastTopic = co.Topic
		}
		if !lastOK {
			continue // deleted or filtered-out topic: not tracked, as for lag
		}
		cs = append(cs, partOffset{topic: co.Topic, p: co.Partition, off: co.Offset})
	}
	cs = normalizeCommits(cs)
	o.commits = cs
	read := o.readTopics[:0]
	for i := 0; i < len(cs); {
		topic := cs[i].topic
		j := i + 1
		for j < len(cs) && cs[j].topic == topic {
			j++
		}
		run := cs[i:j]
		i = j
		read = append(read, topic)
		o.topicCommits(name, gs, topic, run)
	}
	o.readTopics = read
	return read
}

// topicCommits records one topic's commits read of a group (run).
func (o *observation) topicCommits(name string, gs *groupState, topic string, run []partOffset) {
	ts := gs.Topics[topic]
	same := ts != nil && ts.Offsets.equal(run)
	if ts == nil {
		ts = &topicState{LastChange: o.now}
		gs.Topics[topic] = ts
		o.transition()
	} else if !same {
		ts.LastChange = o.now
		o.changed()
	}
	if !same {
		ts.Offsets.set(run)
	}
	if !ts.MissingSince.IsZero() || !ts.MissingLast.IsZero() {
		ts.MissingSince, ts.MissingLast = time.Time{}, time.Time{}
		o.changed()
	}
	if !ts.Expired.IsZero() {
		ts.Expired = time.Time{}
		o.transition()
		o.event(event{Kind: eventCommitsBack, Group: name, Topic: topic, Partition: -1})
	}
	o.outOfRange(name, topic, ts)
}

// outOfRange logs once each partition whose commit falls below the log
// start.
func (o *observation) outOfRange(group, topic string, ts *topicState) {
	t, _ := o.snap.TopicByName(topic)
	var now []int32
	for i, p := range ts.Offsets.partitions() {
		if p < 0 || int(p) >= len(t.Partitions) {
			continue
		}
		off := ts.Offsets.offs[i]
		part := t.Partitions[p]
		if part.StartErr != nil {
			if slices.Contains(ts.OutOfRange, p) {
				now = append(now, p) // unknown this poll: keep
			}
			continue
		}
		if oor, _ := result.OutOfRange(part.Start, off); oor {
			now = append(now, p)
			if !slices.Contains(ts.OutOfRange, p) {
				o.event(event{Kind: eventOutOfRange, Group: group, Topic: topic, Partition: p,
					Committed: off, LogStart: part.Start})
			}
		}
	}
	if !slices.Equal(now, ts.OutOfRange) {
		ts.OutOfRange = now
		o.transition()
	}
}

// settled reports whether commits seen before and missing now need no
// verdict: already expired (they stay so), or their topic is gone (the
// topic's state is dropped, not expired).
func (o *observation) settled(gs *groupState, topic string) bool {
	if !gs.Topics[topic].Expired.IsZero() {
		return true
	}
	if _, ok := o.snap.TopicByName(topic); !ok {
		delete(gs.Topics, topic)
		o.changed()
		return true
	}
	return false
}

// missing handles commits seen before and missing from a complete
// snapshot's answer for their group: gone at once when the answer is
// trusted, else when the previous poll already saw them missing.
func (o *observation) missing(group string, gs *groupState, topic string, trusted bool, prevPoll time.Time) {
	if o.settled(gs, topic) {
		return
	}
	ts := gs.Topics[topic]
	consecutive := !ts.MissingLast.IsZero() && ts.MissingLast.Equal(prevPoll)
	switch {
	case consecutive:
		o.vanished(group, gs, topic, ts.MissingSince)
	case trusted:
		o.vanished(group, gs, topic, o.now)
	default:
		ts.MissingSince, ts.MissingLast = o.now, o.now
		o.changed()
	}
}

// vanished decides about commits seen before and gone since at (complete
// and consistent snapshots only).
func (o *observation) vanished(group string, gs *groupState, topic string, at time.Time) {
	if o.settled(gs, topic) {
		return
	}
	ts := gs.Topics[topic]
	o.transition()
	ts.MissingSince, ts.MissingLast = time.Time{}, time.Time{}
	if !ts.ExpiresAt.IsZero() && !at.Before(ts.ExpiresAt.Add(-o.tolerance())) {
		ts.Expired = at
		o.event(event{Kind: eventExpired, Group: group, Topic: topic, Partition: -1,
			ExpiresAt: ts.ExpiresAt, EmptySince: gs.EmptySince,
			RecordsAtRisk: o.atRisk(group, topic, ts)})
		return
	}
	o.event(event{Kind: eventDeleted, Group: group, Topic: topic, Partition: -1, ExpiresAt: ts.ExpiresAt})
	delete(gs.Topics, topic)
}

// absent handles a tracked group the (complete) snapshot does not list:
// it is gone when the previous poll did not list it either.
func (o *observation) absent(name string, prevPoll time.Time) {
	gs := o.st.Groups[name]
	if !o.included(name) {
		delete(o.st.Groups, name)
		o.changed()
		return
	}
	if !gs.GoneSince.IsZero() {
		return
	}
	if gs.AbsentLast.IsZero() || !gs.AbsentLast.Equal(prevPoll) {
		gs.AbsentSince, gs.AbsentLast = o.now, o.now
		o.changed()
		return
	}
	at := gs.AbsentSince
	gs.GoneSince, gs.AbsentSince, gs.AbsentLast = at, time.Time{}, time.Time{}
	o.transition()
	for _, topic := range slices.Sorted(maps.Keys(gs.Topics)) {
		if gs.Topics[topic].Expired.IsZero() {
			o.vanished(name, gs, topic, at)
		}
	}
	gs.EmptySince, gs.EmptySinceExact = time.Time{}, false
}

// prune bounds the state: expired commits are forgotten one retention after
// they expired, and a gone group once nothing is left of it. Expected
// groups are never pruned (they would only be judged again at once).
func (o *observation) prune(name string, present bool) {
	if _, exp := o.expected[name]; exp {
		return
	}
	gs := o.st.Groups[name]
	for topic, ts := range gs.Topics {
		if !ts.Expired.IsZero() && o.now.Sub(ts.Expired) > o.out.Retention {
			delete(gs.Topics, topic)
			o.changed()
		}
	}
	if !present && !gs.GoneSince.IsZero() && len(gs.Topics) == 0 {
		delete(o.st.Groups, name)
		o.changed()
	}
}

// expectedGroup watches a configured group (complete snapshots, commits
// known). It runs after present/absent, so every topic state left either
// has live commits or is expired; a configured topic without one has no
// commits and counts as expired.
func (o *observation) expectedGroup(name string) {
	eg := o.expected[name]
	gs := o.st.Groups[name]
	// A group consumed by a running Lambda mapping that has not committed
	// yet (a new mapping) has nothing to lose: it is neither expired nor
	// missing until a disabled mapping leaves it without commits.
	running := runningMapping(eg)
	if running && gs == nil {
		return
	}
	if gs == nil {
		gs = &groupState{Topics: map[string]*topicState{}, GoneSince: o.now}
		o.st.Groups[name] = gs
		o.transition()
	}
	if gs.Topics == nil {
		gs.Topics = map[string]*topicState{}
	}
	for _, topic := range eg.Topics {
		if gs.Topics[topic] != nil {
			continue // live commits, or already expired
		}
		if _, ok := o.snap.TopicByName(topic); !ok {
			continue // no such topic (yet): nothing to lose
		}
		if running {
			continue
		}
		ts := &topicState{Expired: o.now}
		gs.Topics[topic] = ts
		o.transition()
		o.event(event{Kind: eventExpired, Group: name, Topic: topic, Partition: -1,
			RecordsAtRisk: o.atRisk(name, topic, ts)})
	}
	live := false
	for _, ts := range gs.Topics {
		if ts.Expired.IsZero() && ts.Offsets.count() > 0 {
			live = true
		}
	}
	if !live && !gs.Missing && !running {
		gs.Missing = true
		o.transition()
		o.event(event{Kind: eventMissing, Group: name, Partition: -1})
	}
	if live && gs.Missing {
		gs.Missing = false
		o.transition()
	}
}

// runningMapping reports whether a Lambda mapping consumes with the group
// and is running or about to (not Disabled, Disabling or Deleting).
func runningMapping(eg ExpectedGroup) bool {
	for _, m := range eg.Lambda {
		switch m.State {
		case "Disabled", "Disabling", "Deleting":
		default:
			return true
		}
	}
	return false
}

func (o *observation) tolerance() time.Duration { return o.cfg.Tolerance }

// predict computes each topic's ExpiresAt from the broker's rule.
func (o *observation) predict(name string, gs *groupState) {
	for _, ts := range gs.Topics {
		if !ts.Expired.IsZero() {
			continue
		}
		var base time.Time
		switch {
		case gs.Type == string(kafkaadmin.GroupSimple):
			base = ts.LastChange
		case gs.Type == string(kafkaadmin.GroupConsumer) && isEmptyState(gs.State):
			base = ts.LastChange
		case gs.Type == string(kafkaadmin.GroupClassic) && isEmptyState(gs.State):
			base = gs.EmptySince
		}
		var at time.Time
		if !base.IsZero() {
			at = base.Add(o.out.Retention)
		}
		if !at.Equal(ts.ExpiresAt) {
			ts.ExpiresAt = at
			o.changed()
		}
	}
}

// atRisk estimates what a restart without the group's commits on topic
// would cost, for the configured starting position or, when unknown, for
// both earliest and latest. Partitions whose log bounds are unknown are
// left out.
func (o *observation) atRisk(group, topic string, ts *topicState) []result.RecordsAtRisk {
	t, ok := o.snap.TopicByName(topic)
	if !ok {
		return nil
	}
	positions := []string{startEarliest, startLatest}
	if eg, ok := o.expected[group]; ok && eg.StartingPosition != "" {
		positions = []string{eg.StartingPosition}
	}
	var out []result.RecordsAtRisk
	parts, offs := ts.Offsets.parts, ts.Offsets.offs
	for _, pos := range positions {
		var n int64
		known := false
		j := 0 // the commits are sorted by partition, as the topic's partitions: one walk
		for _, p := range t.Partitions {
			if p.StartErr != nil || p.EndErr != nil {
				continue
			}
			if j > 0 && parts[j-1] > p.ID {
				j = 0 // partitions out of order: look again from the start
			}
			for j < len(parts) && parts[j] < p.ID {
				j++
			}
			var off int64
			committed := j < len(parts) && parts[j] == p.ID
			if committed {
				off = offs[j]
			}
			if r, ok := partitionRecordsAtRisk(pos, p.Start, p.End, off, committed, len(parts) > 0); ok {
				n += r
				known = true
			}
		}
		if known {
			out = append(out, result.RecordsAtRisk{StartingPosition: pos, Records: n})
		}
	}
	return out
}

// partitionRecordsAtRisk is one partition's share of RecordsAtRisk: what a
// consumer restarting at pos without its commit would process again
// (earliest) or skip (latest), counting only records the retained log
// [start, end) holds:
//
//   - earliest: clamp(committed, start, end) - start, the processed records
//     still in the log (a commit beyond the log end, after a topic was
//     recreated or truncated, cannot make it re-read more than the log
//     holds; a commit below the log start re-reads nothing already
//     processed); end - start when the group never committed on the topic
//     (topicCommitted false: the whole log);
//   - latest: end - clamp(committed, start, end), the unprocessed records
//     still in the log (records deleted by retention before the group read
//     them are lost already, whatever the starting position: they are
//     records_lost, not at risk).
//
// So 0 <= records <= end - start. ok is false when the estimate is unknown:
// a log bound is unknown (negative), the position is not estimated
// (timestamp), or latest for a partition without a commit (nothing to
// skip that a commit would have saved) and earliest for an uncommitted
// partition of a topic with commits on other partitions.
func partitionRecordsAtRisk(pos string, start, end, committed int64, hasCommit, topicCommitted bool) (int64, bool) {
	if start < 0 || end < 0 {
		return 0, false
	}
	end = max(end, start) // a log end below its start is a torn read
	c := min(max(committed, start), end)
	switch pos {
	case startEarliest:
		switch {
		case hasCommit:
			return c - start, true
		case !topicCommitted:
			return end - start, true
		}
	case startLatest:
		if hasCommit {
			return end - c, true
		}
	}
	return 0, false
}

// view builds the published expiry view of every tracked group.
func (o *observation) view(present map[string]*kafkaadmin.Group) []result.GroupExpiry {
	names := slices.Sorted(maps.Keys(o.st.Groups))
	for name := range o.expected {
		if o.st.Groups[name] == nil {
			names = append(names, name) // not yet judged (no complete poll)
		}
	}
	sort.Strings(names)
	out := make([]result.GroupExpiry, 0, len(names))
	for _, name := range names {
		gs := o.st.Groups[name]
		if gs == nil {
			gs = &groupState{}
		}
		eg, expected := o.expected[name]
		ge := result.GroupExpiry{Group: name, Type: gs.Type, State: gs.State, Present: present[name] != nil,
			Expected: expected, StartingPosition: eg.StartingPosition, Missing: gs.Missing,
			EmptySince: gs.EmptySince, EmptySinceExact: gs.EmptySinceExact}
		// A group not listed by the last poll keeps its view until it is
		// concluded gone (a partial poll, or the first of two polls).
		live := ge.Present || gs.GoneSince.IsZero()
		if !live {
			ge.EmptySince, ge.EmptySinceExact = time.Time{}, false
		}
		for _, topic := range slices.Sorted(maps.Keys(gs.Topics)) {
			ts := gs.Topics[topic]
			te := result.TopicExpiry{Topic: topic, LastCommitChange: ts.LastChange, Expired: !ts.Expired.IsZero(),
				ExpiredAt: ts.Expired}
			if live && !te.Expired {
				te.ExpiresAt = ts.ExpiresAt
			}
			if te.Expired || !te.ExpiresAt.IsZero() {
				te.RecordsAtRisk = o.atRisk(name, topic, ts)
			}
			if !te.ExpiresAt.IsZero() && (ge.ExpiresAt.IsZero() || te.ExpiresAt.Before(ge.ExpiresAt)) {
				ge.ExpiresAt = te.ExpiresAt
			}
			ge.Topics = append(ge.Topics, te)
		}
		if !ge.ExpiresAt.IsZero() {
			ge.ExpiresIn = max(0, ge.ExpiresAt.Sub(o.now))
		}
		for _, l := range eg.Lambda {
			l.ExpiresWithinHorizon = inactive(l) && l.Horizon > 0 && !ge.ExpiresAt.IsZero() &&
				ge.ExpiresAt.Sub(o.now) <= l.Horizon
			ge.Lambda = append(ge.Lambda, l)
		}
		out = append(out, ge)
	}
	return out
}

// inactive reports whether a Lambda mapping is Disabled or Disabling: its
// group has no members and its offsets are on the expiry clock.
func inactive(l result.LambdaESM) bool { return l.State == "Disabled" || l.State == "Disabling" }

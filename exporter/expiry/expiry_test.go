package expiry

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Expiry tracker tests: the tracker is driven by hand-built snapshots and an
// explicit clock. Every case is a script of polls; each poll names the
// snapshot and checks the outcome.

var expT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testRetention = 7 * 24 * time.Hour
	testInterval  = 30 * time.Second
)

// at is expT0 plus d.
func expAt(d time.Duration) time.Time { return expT0.Add(d) }

// snapT builds a complete snapshot with topic "t" (2 partitions, log 10..100
// and 20..200) and the given groups; the broker retention is testRetention.
func snapT(groups ...kafkaadmin.Group) *kafkaadmin.Snapshot {
	return &kafkaadmin.Snapshot{
		Cluster: "c",
		Topics: []kafkaadmin.Topic{{Name: "t", Partitions: []kafkaadmin.Partition{
			{ID: 0, Start: 10, End: 100}, {ID: 1, Start: 20, End: 200},
		}}},
		Groups:           groups,
		OffsetsRetention: testRetention,
	}
}

// grp builds a group committed on t at the given offsets (partition i at
// offs[i]); members > 0 means a group with that many members.
func grp(name string, typ kafkaadmin.GroupType, state string, members int, offs ...int64) kafkaadmin.Group {
	g := kafkaadmin.Group{Name: name, Type: typ, State: state}
	for i := 0; i < members; i++ {
		g.Members = append(g.Members, kafkaadmin.Member{ID: string(rune('a' + i))})
	}
	for p, o := range offs {
		g.Offsets = append(g.Offsets, kafkaadmin.CommittedOffset{Topic: "t", Partition: int32(p), Offset: o})
	}
	return g
}

func classic(state string, offs ...int64) kafkaadmin.Group {
	members := 0
	if state != "Empty" {
		members = 1
	}
	return grp("g", kafkaadmin.GroupClassic, state, members, offs...)
}

func partial(s *kafkaadmin.Snapshot) *kafkaadmin.Snapshot {
	s.Errors = []kafkaadmin.RequestError{{API: "ListGroups", Broker: 2, Err: errors.New("timeout")}}
	return s
}

func findGroup(t *testing.T, o outcome, name string) *result.GroupExpiry {
	t.Helper()
	for i := range o.Groups {
		if o.Groups[i].Group == name {
			return &o.Groups[i]
		}
	}
	return nil
}

func kinds(o outcome) []eventKind {
	var ks []eventKind
	for _, ev := range o.events {
		ks = append(ks, ev.Kind)
	}
	return ks
}

type poll struct {
	at    time.Duration // after expT0
	snap  *kafkaadmin.Snapshot
	cfg   *clusterConfig // nil: the case's config
	check func(t *testing.T, o outcome, g *result.GroupExpiry)
	// restart round-trips the state through the file encoding before this
	// poll, as an exporter restart does.
	restart bool
}

func wantExpires(want time.Time) func(*testing.T, outcome, *result.GroupExpiry) {
	return func(t *testing.T, _ outcome, g *result.GroupExpiry) {
		t.Helper()
		if g == nil || !g.ExpiresAt.Equal(want) {
			t.Fatalf("group = %+v, want expires at %s", g, want)
		}
	}
}

func wantNoExpiry(t *testing.T, _ outcome, g *result.GroupExpiry) {
	t.Helper()
	if g == nil || !g.ExpiresAt.IsZero() || !g.EmptySince.IsZero() {
		t.Fatalf("group = %+v, want no expiry clock", g)
	}
}

func wantExpired(expired bool, events ...eventKind) func(*testing.T, outcome, *result.GroupExpiry) {
	return func(t *testing.T, o outcome, g *result.GroupExpiry) {
		t.Helper()
		got := g != nil && len(g.Topics) > 0 && g.Topics[0].Expired
		if got != expired {
			t.Fatalf("expired = %v, want %v (group %+v)", got, expired, g)
		}
		if !slices.Equal(kinds(o), events) {
			t.Fatalf("events = %v, want %v", kinds(o), events)
		}
	}
}

func TestObserveExpiry(t *testing.T) {
	R := testRetention
	cases := []struct {
		name  string
		cfg   clusterConfig
		polls []poll
	}{
		{
			// Classic: the clock runs from the first poll that saw Empty,
			// stops when members come back, and starts over.
			name: "classic Empty then Stable then Empty again",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(classic("Empty", 50, 60)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if !g.EmptySince.Equal(expAt(testInterval)) || !g.EmptySinceExact {
						t.Fatalf("empty since %s exact %v", g.EmptySince, g.EmptySinceExact)
					}
					wantExpires(expAt(testInterval+R))(t, o, g)
					if g.ExpiresIn != R {
						t.Fatalf("expires in %s", g.ExpiresIn)
					}
					if !o.Transition {
						t.Fatal("becoming Empty is not a transition")
					}
				}},
				// A commit while Empty (an admin reset) does not move the
				// clock of a classic group: Kafka counts from Empty.
				{at: time.Hour, snap: snapT(classic("Empty", 70, 60)), check: wantExpires(expAt(testInterval + R))},
				{at: 2 * time.Hour, snap: snapT(classic("Stable", 70, 60)), check: wantNoExpiry},
				{at: 3 * time.Hour, snap: snapT(classic("Empty", 70, 60)), check: wantExpires(expAt(3*time.Hour + R))},
			},
		},
		{
			name: "already Empty when first seen is not exact",
			polls: []poll{
				{at: 0, snap: snapT(classic("Empty", 50, 60)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if !g.EmptySince.Equal(expT0) || g.EmptySinceExact {
						t.Fatalf("empty since %s exact %v", g.EmptySince, g.EmptySinceExact)
					}
				}},
			},
		},
		{
			// The state file carries empty_since across a restart: the
			// prediction does not restart from the restart.
			name: "restart with persisted state",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(classic("Empty", 50, 60)), check: wantExpires(expAt(testInterval + R))},
				{at: 5 * time.Hour, restart: true, snap: snapT(classic("Empty", 50, 60)), check: wantExpires(expAt(testInterval + R))},
				// Gone: the first poll that does not list the group decides
				// nothing, the second (after another restart) concludes.
				{at: testInterval + R + time.Minute, restart: true, snap: snapT(), check: wantExpired(false)},
				{at: testInterval + R + 2*time.Minute, restart: true, snap: snapT(), check: wantExpired(true, eventExpired)},
				{at: testInterval + R + 3*time.Minute, restart: true, snap: snapT(), check: wantExpired(true)},
			},
		},
		{
			// Simple groups count from the last commit change, per topic.
			name: "simple group counts from the last commit change",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)), check: wantExpires(expT0.Add(R))},
				{at: time.Hour, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpires(expT0.Add(R))(t, o, g)
					if !g.EmptySince.IsZero() {
						t.Fatal("simple group has an empty_since")
					}
					if g.ExpiresIn != R-time.Hour {
						t.Fatalf("expires in %s", g.ExpiresIn)
					}
				}},
				{at: 2 * time.Hour, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 55, 60)), check: wantExpires(expAt(2*time.Hour + R))},
			},
		},
		{
			// KIP-848: no clock while members are there; without members
			// it counts from the last commit change, not from Empty.
			name: "KIP-848 group counts from the last commit change once Empty",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupConsumer, "Stable", 1, 50, 60)), check: wantNoExpiry},
				{at: time.Hour, snap: snapT(grp("g", kafkaadmin.GroupConsumer, "Stable", 1, 50, 60)), check: wantNoExpiry},
				{at: 5 * time.Hour, snap: snapT(grp("g", kafkaadmin.GroupConsumer, "Empty", 0, 50, 60)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpires(expT0.Add(R))(t, o, g)
					if !g.EmptySince.Equal(expAt(5 * time.Hour)) {
						t.Fatalf("empty since %s", g.EmptySince)
					}
				}},
			},
		},
		{
			// The prediction follows the retention: the brokers' value
			// when read, the override when configured.
			name: "retention changed while Empty",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(classic("Empty", 50, 60)), check: wantExpires(expAt(testInterval + R))},
				{at: time.Hour, snap: func() *kafkaadmin.Snapshot {
					s := snapT(classic("Empty", 50, 60))
					s.OffsetsRetention = 24 * time.Hour
					return s
				}(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpires(expAt(testInterval+24*time.Hour))(t, o, g)
					if o.RetentionSource != retentionFromBroker {
						t.Fatalf("source %s", o.RetentionSource)
					}
				}},
				{at: 2 * time.Hour, cfg: &clusterConfig{Retention: time.Hour, Tolerance: 2 * testInterval}, snap: snapT(classic("Empty", 50, 60)),
					check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
						wantExpires(expAt(testInterval+time.Hour))(t, o, g)
						if g.ExpiresIn != 0 || o.RetentionSource != retentionFromConfig {
							t.Fatalf("expires in %s (want clamped at 0), source %s", g.ExpiresIn, o.RetentionSource)
						}
					}},
			},
		},
		{
			// DeleteGroups before the predicted expiry is not an expiry.
			name: "group deleted on purpose",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(classic("Empty", 50, 60)), check: wantExpires(expAt(testInterval + R))},
				{at: R / 2, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g == nil || len(o.events) != 0 || g.ExpiresAt.IsZero() {
						t.Fatalf("first poll without the group: %+v %v, want still tracked, its countdown kept, no event", g, kinds(o))
					}
				}},
				{at: R/2 + testInterval, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g != nil {
						t.Fatalf("deleted group still tracked: %+v", g)
					}
					if !slices.Equal(kinds(o), []eventKind{eventDeleted}) {
						t.Fatalf("events %v", kinds(o))
					}
				}},
			},
		},
		{
			name: "group with members deleted between two polls is not expired",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(), check: wantExpired(false)},
				{at: 2 * testInterval, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g != nil || !slices.Equal(kinds(o), []eventKind{eventDeleted}) {
						t.Fatalf("group %+v events %v", g, kinds(o))
					}
				}},
			},
		},
		{
			// Gone at the predicted expiry (a little early is within the
			// tolerance): expired, logged once, kept until commits return.
			name: "group expired, does not flap, clears on commit",
			polls: []poll{
				{at: 0, snap: snapT(classic("Stable", 50, 60)), check: wantNoExpiry},
				{at: testInterval, snap: snapT(classic("Empty", 50, 60)), check: wantExpires(expAt(testInterval + R))},
				{at: R, snap: snapT(), check: wantExpired(false)},
				{at: R + testInterval/2, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpired(true, eventExpired)(t, o, g)
					if g.Present || !g.ExpiresAt.IsZero() || g.Topics[0].ExpiredAt != expAt(R) {
						t.Fatalf("expired group %+v", g)
					}
					if !o.Transition {
						t.Fatal("expiry is not a transition")
					}
					ev := o.events[0]
					if ev.Topic != "t" || !ev.ExpiresAt.Equal(expAt(testInterval+R)) {
						t.Fatalf("event %+v", ev)
					}
					// Last commits 50, 60; log 10..100, 20..200.
					want := []result.RecordsAtRisk{{StartingPosition: "earliest", Records: 40 + 40}, {StartingPosition: "latest", Records: 50 + 140}}
					if !slices.Equal(g.Topics[0].RecordsAtRisk, want) || !slices.Equal(ev.RecordsAtRisk, want) {
						t.Fatalf("at risk %+v / %+v, want %+v", g.Topics[0].RecordsAtRisk, ev.RecordsAtRisk, want)
					}
				}},
				{at: R + testInterval, snap: snapT(), check: wantExpired(true)},
				{at: R + 2*testInterval, snap: partial(snapT()), check: wantExpired(true)},
				// A consumer joins: still expired until it commits.
				{at: R + 3*testInterval, snap: snapT(grp("g", kafkaadmin.GroupClassic, "Stable", 1)), check: wantExpired(true)},
				{at: R + 4*testInterval, snap: snapT(classic("Stable", 100, 200)), check: wantExpired(false, eventCommitsBack)},
			},
		},
		{
			// Commits gone while the group is still listed count the same;
			// an answer without any commit of the group (a coordinator
			// unloading it) needs a second poll to agree.
			name: "commits vanish while the group is listed",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)), check: wantExpires(expT0.Add(R))},
				{at: R + time.Second, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0)), check: wantExpired(false)},
				{at: R + 2*time.Second, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0)), check: wantExpired(true, eventExpired)},
			},
		},
		{
			// A failed ListGroups makes a live group look gone: no
			// conclusion until a complete snapshot.
			name: "partial snapshot does not mark expired",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)), check: wantExpires(expT0.Add(R))},
				{at: R + time.Minute, snap: partial(snapT()), check: wantExpired(false)},
				{at: R + 2*time.Minute, snap: partial(snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0))), check: wantExpired(false)},
				{at: R + 3*time.Minute, snap: snapT(), check: wantExpired(false)},
				{at: R + 4*time.Minute, snap: snapT(), check: wantExpired(true, eventExpired)},
			},
		},
		{
			// A failed OffsetFetch for one group keeps its commits.
			name: "fetch error keeps the commits",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)), check: wantExpires(expT0.Add(R))},
				{at: R + time.Minute, snap: func() *kafkaadmin.Snapshot {
					g := grp("g", kafkaadmin.GroupSimple, "Empty", 0)
					g.FetchErr = errors.New("coordinator load in progress")
					return snapT(g)
				}(), check: wantExpired(false)},
			},
		},
		{
			// A disabled Lambda ESM: configured, never seen.
			name: "expected group never seen",
			cfg: clusterConfig{Expected: []ExpectedGroup{{Group: "g", StartingPosition: startEarliest, Topics: []string{"t", "not-yet"}}},
				Tolerance: 2 * testInterval},
			polls: []poll{
				{at: 0, snap: partial(snapT()), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g == nil || !g.Expected || g.Missing || len(o.events) != 0 {
						t.Fatalf("before a complete poll: %+v %v", g, kinds(o))
					}
				}},
				{at: testInterval, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpired(true, eventExpired, eventMissing)(t, o, g)
					if !g.Missing || g.StartingPosition != "earliest" || len(g.Topics) != 1 {
						t.Fatalf("group %+v", g)
					}
					// Never committed: earliest reads the whole log.
					if want := []result.RecordsAtRisk{{StartingPosition: "earliest", Records: 90 + 180}}; !slices.Equal(g.Topics[0].RecordsAtRisk, want) {
						t.Fatalf("at risk %+v", g.Topics[0].RecordsAtRisk)
					}
				}},
				{at: 2 * testInterval, restart: true, snap: snapT(), check: wantExpired(true)},
				{at: 3 * testInterval, snap: snapT(grp("g", kafkaadmin.GroupClassic, "Stable", 1, 100, 200)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					wantExpired(false, eventCommitsBack)(t, o, g)
					if g.Missing {
						t.Fatal("still missing")
					}
				}},
			},
		},
		{
			name: "commit below the log start is logged once",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 5, 60)), check: func(t *testing.T, o outcome, _ *result.GroupExpiry) {
					if len(o.events) != 1 || o.events[0].Kind != eventOutOfRange || o.events[0].Partition != 0 ||
						o.events[0].Committed != 5 || o.events[0].LogStart != 10 {
						t.Fatalf("events %+v", o.events)
					}
				}},
				{at: testInterval, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 5, 60)), check: wantExpired(false)},
				{at: 2 * testInterval, restart: true, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 5, 60)), check: wantExpired(false)},
			},
		},
		{
			name: "expired gone group is pruned one retention later",
			polls: []poll{
				{at: 0, snap: snapT(grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60))},
				{at: R, snap: snapT()},
				{at: R + testInterval, snap: snapT(), check: wantExpired(true, eventExpired)},
				{at: 2*R + time.Minute, snap: snapT(), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g != nil {
						t.Fatalf("not pruned: %+v", g)
					}
				}},
			},
		},
		{
			name: "groups filtered out are not tracked",
			cfg:  clusterConfig{IncludeGroup: func(string) bool { return false }, Tolerance: 2 * testInterval},
			polls: []poll{
				{at: 0, snap: snapT(classic("Empty", 50, 60)), check: func(t *testing.T, o outcome, g *result.GroupExpiry) {
					if g != nil {
						t.Fatalf("filtered group tracked: %+v", g)
					}
				}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Tolerance == 0 {
				cfg.Tolerance = 2 * testInterval
			}
			st := &clusterState{Groups: map[string]*groupState{}}
			for i, p := range tc.polls {
				if p.restart {
					st = restarted(t, st, expAt(p.at))
				}
				c := cfg
				if p.cfg != nil {
					c = *p.cfg
				}
				o := observe(st, p.snap, c, expAt(p.at))
				if p.check != nil {
					t.Run(string(rune('0'+i)), func(t *testing.T) { p.check(t, o, findGroup(t, o, "g")) })
				}
			}
		})
	}
}

func TestResolveRetention(t *testing.T) {
	for _, tc := range []struct {
		name             string
		override, broker time.Duration
		want             time.Duration
		source           string
	}{
		{"override wins", time.Hour, 2 * time.Hour, time.Hour, retentionFromConfig},
		{"broker", 0, 2 * time.Hour, 2 * time.Hour, retentionFromBroker},
		{"default", 0, 0, defaultOffsetsRetention, retentionFromDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, src := resolveRetention(tc.override, tc.broker)
			if got != tc.want || src != tc.source {
				t.Errorf("= %s %s, want %s %s", got, src, tc.want, tc.source)
			}
		})
	}
}

// A new, Enabled Lambda mapping whose group has not committed yet is not
// reported expired or missing; once the mapping is Disabled without
// commits, it is.
func TestExpectedGroupOfRunningMappingWithoutCommits(t *testing.T) {
	st := &clusterState{Groups: map[string]*groupState{}}
	cfg := func(state string) clusterConfig {
		return clusterConfig{Expected: []ExpectedGroup{{Group: "esm", StartingPosition: startLatest, Topics: []string{"t"},
			Lambda: []result.LambdaESM{{FunctionName: "f", UUID: "esm", State: state}}}}}
	}
	expired := func(g result.GroupExpiry) int {
		n := 0
		for _, te := range g.Topics {
			if te.Expired {
				n++
			}
		}
		return n
	}
	find := func(out outcome) (result.GroupExpiry, bool) {
		for _, g := range out.Groups {
			if g.Group == "esm" {
				return g, true
			}
		}
		return result.GroupExpiry{}, false
	}
	for i, state := range []string{"Creating", "Enabled"} {
		out := observe(st, snapT(), cfg(state), expAt(time.Duration(i)*testInterval))
		if g, ok := find(out); ok && (g.Missing || expired(g) > 0) {
			t.Fatalf("%s mapping without commits reported missing/expired: %+v", state, g)
		}
		for _, ev := range out.events {
			t.Errorf("%s mapping without commits: unexpected event %+v", state, ev)
		}
	}
	out := observe(st, snapT(), cfg("Disabled"), expAt(3*testInterval))
	g, ok := find(out)
	if !ok || !g.Missing || expired(g) != 1 {
		t.Errorf("Disabled mapping without commits not reported missing and expired: %+v", g)
	}
}

// Records at risk never exceed what the retained log holds.
func TestPartitionRecordsAtRisk(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		pos                       string
		start, end, committed     int64
		hasCommit, topicCommitted bool
		want                      int64
		ok                        bool
	}{
		// The case: a commit at 1,737 on a log spanning 100-781.
		{"earliest, commit beyond the log end: at most the log", startEarliest, 100, 781, 1737, true, true, 681, true},
		{"latest, commit beyond the log end: nothing skipped", startLatest, 100, 781, 1737, true, true, 0, true},
		{"earliest, commit inside the log", startEarliest, 100, 781, 500, true, true, 400, true},
		{"latest, commit inside the log", startLatest, 100, 781, 500, true, true, 281, true},
		// Records below the log start are gone already: records_lost.
		{"earliest, commit below the log start: nothing to re-read", startEarliest, 100, 781, 40, true, true, 0, true},
		{"latest, commit below the log start: only retained records", startLatest, 100, 781, 40, true, true, 681, true},
		{"earliest, commit at the log end", startEarliest, 100, 781, 781, true, true, 681, true},
		{"latest, commit at the log end", startLatest, 100, 781, 781, true, true, 0, true},
		{"earliest, topic never committed: the whole log", startEarliest, 100, 781, 0, false, false, 681, true},
		{"earliest, uncommitted partition of a committed topic: unknown", startEarliest, 100, 781, 0, false, true, 0, false},
		{"latest, no commit: unknown", startLatest, 100, 781, 0, false, false, 0, false},
		{"unknown log start", startEarliest, -1, 781, 500, true, true, 0, false},
		{"unknown log end", startLatest, 100, -1, 500, true, true, 0, false},
		{"empty log", startEarliest, 781, 781, 1737, true, true, 0, true},
		{"torn read: end below start", startLatest, 800, 781, 500, true, true, 0, true},
		{"timestamp is not estimated", startTimestamp, 100, 781, 500, true, true, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := partitionRecordsAtRisk(tc.pos, tc.start, tc.end, tc.committed, tc.hasCommit, tc.topicCommitted)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("= %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
			if ok && (got < 0 || got > max(tc.end-tc.start, 0)) {
				t.Fatalf("%d records at risk outside the retained log [%d, %d)", got, tc.start, tc.end)
			}
		})
	}
}

// snapTU is snapT with a second topic "u" (1 partition, log 0..50).
func snapTU(groups ...kafkaadmin.Group) *kafkaadmin.Snapshot {
	s := snapT(groups...)
	s.Topics = append(s.Topics, kafkaadmin.Topic{Name: "u", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 50}}})
	return s
}

// grpTU is an Empty simple group "g" coordinated by coord, committed on t
// (partitions 0 and 1 at 50, 60) when onT and on u (at 40) when onU.
func grpTU(coord int32, onT, onU bool) kafkaadmin.Group {
	g := grp("g", kafkaadmin.GroupSimple, "Empty", 0)
	if onT {
		g = grp("g", kafkaadmin.GroupSimple, "Empty", 0, 50, 60)
	}
	if onU {
		g.Offsets = append(g.Offsets, kafkaadmin.CommittedOffset{Topic: "u", Partition: 0, Offset: 40})
	}
	g.Coordinator = coord
	return g
}

// topicExpired reports topic's expired flag in g (false when absent).
func topicExpired(g *result.GroupExpiry, topic string) (expired, tracked bool) {
	if g == nil {
		return false, false
	}
	for _, te := range g.Topics {
		if te.Topic == topic {
			return te.Expired, true
		}
	}
	return false, false
}

// wantT checks the state of g's commits on t: "tracked" (still there, not
// concluded), "expired", or "forgotten" (deleted on purpose), and the
// events of the poll.
func wantT(state string, events ...eventKind) func(*testing.T, outcome, *result.GroupExpiry) {
	return func(t *testing.T, o outcome, g *result.GroupExpiry) {
		t.Helper()
		exp, tracked := topicExpired(g, "t")
		got := "forgotten"
		switch {
		case exp:
			got = "expired"
		case tracked:
			got = "tracked"
		}
		if got != state || !slices.Equal(kinds(o), events) {
			t.Fatalf("commits on t %s with events %v, want %s with %v", got, kinds(o), state, events)
		}
		if state == "tracked" && (g == nil || g.ExpiresAt.IsZero()) {
			t.Fatalf("commits still tracked but the countdown is gone: %+v", g)
		}
	}
}

// No conclusions from a degraded answer (issue 15): commits missing from
// an answer that cannot be trusted are unknown; a deletion or expiry is
// concluded from one trusted answer (same coordinator as the last poll,
// described and fetched without error, other commits present) or from two
// consecutive complete polls that agree. Early (R/2) vanishes are
// "deleted", late (past R) ones "expired".
func TestObserveExpiryDegradedAnswers(t *testing.T) {
	R := testRetention
	describeErr := func(g kafkaadmin.Group) kafkaadmin.Group {
		g.DescribeErr = errors.New("COORDINATOR_LOAD_IN_PROGRESS")
		return g
	}
	cases := []struct {
		name  string
		polls []poll
	}{
		{
			name: "trusted answer: same coordinator, other commits present: deleted at once",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R / 2, snap: snapTU(grpTU(1, false, true)), check: wantT("forgotten", eventDeleted)},
			},
		},
		{
			name: "trusted answer past the predicted expiry: expired at once",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R + time.Minute, snap: snapTU(grpTU(1, false, true)), check: wantT("expired", eventExpired)},
			},
		},
		{
			// A coordinator move (broker restart, rehash) is the moment
			// a new coordinator may answer before it loaded the group.
			name: "coordinator changed: unknown, then a second poll agrees",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R / 2, snap: snapTU(grpTU(2, false, true)), check: wantT("tracked")},
				{at: R/2 + testInterval, snap: snapTU(grpTU(2, false, true)), check: wantT("forgotten", eventDeleted)},
			},
		},
		{
			name: "coordinator changed for one poll, commits back: nothing concluded",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R + time.Minute, snap: snapTU(grpTU(2, false, true)), check: wantT("tracked")},
				{at: R + 2*time.Minute, snap: snapTU(grpTU(2, true, true)), check: wantT("tracked")},
				{at: R + 3*time.Minute, snap: snapTU(grpTU(2, true, true)), check: wantT("tracked")},
			},
		},
		{
			name: "describe failed: unknown for one poll",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R / 2, snap: snapTU(describeErr(grpTU(1, false, true))), check: wantT("tracked")},
				{at: R/2 + testInterval, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
			},
		},
		{
			// The e2e broker restart: a broker shutting down answered
			// without any commit of the group.
			name: "answer without any commit (coordinator unloading), back next poll: nothing concluded",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R / 2, snap: snapTU(grpTU(1, false, false)), check: wantT("tracked")},
				{at: R/2 + testInterval, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
			},
		},
		{
			name: "group not listed for one poll (broker shutting down), back next poll: nothing concluded",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R + time.Minute, snap: snapTU(), check: wantT("tracked")},
				{at: R + 2*time.Minute, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
			},
		},
		{
			name: "group not listed twice in a row: gone, dated from the first",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R - 2*testInterval - time.Second, snap: snapTU(), check: wantT("tracked")},
				// Dated from the first miss, which is before the
				// tolerance window: deleted, not expired.
				{at: R + time.Minute, snap: snapTU(), check: wantT("forgotten", eventDeleted, eventDeleted)},
			},
		},
		{
			name: "a partial poll between two misses breaks the sequence",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R + time.Minute, snap: snapTU(), check: wantT("tracked")},
				{at: R + 2*time.Minute, snap: partial(snapTU()), check: wantT("tracked")},
				{at: R + 3*time.Minute, snap: snapTU(), check: wantT("tracked")},
				{at: R + 4*time.Minute, snap: snapTU(), check: wantT("expired", eventExpired, eventExpired)},
			},
		},
		{
			name: "failed OffsetFetch: unknown however long it lasts",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R + time.Minute, snap: func() *kafkaadmin.Snapshot {
					g := grpTU(1, false, false)
					g.FetchErr = errors.New("i/o timeout")
					return snapTU(g)
				}(), check: wantT("tracked")},
				{at: R + 2*time.Minute, snap: func() *kafkaadmin.Snapshot {
					g := grpTU(1, false, false)
					g.FetchErr = errors.New("i/o timeout")
					return snapTU(g)
				}(), check: wantT("tracked")},
			},
		},
		{
			// A state file written before the coordinator was recorded:
			// the first answer after the upgrade is not trusted.
			name: "coordinator unknown (state file of an older version): unknown for one poll",
			polls: []poll{
				{at: 0, snap: snapTU(grpTU(1, true, true)), check: wantT("tracked")},
				{at: R / 2, restart: true, snap: snapTU(grpTU(1, false, true)), check: wantT("tracked")},
				{at: R/2 + testInterval, snap: snapTU(grpTU(1, false, true)), check: wantT("forgotten", eventDeleted)},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := clusterConfig{Tolerance: 2 * testInterval}
			st := &clusterState{Groups: map[string]*groupState{}}
			for i, p := range tc.polls {
				if p.restart && tc.name == "coordinator unknown (state file of an older version): unknown for one poll" {
					for _, gs := range st.Groups {
						gs.Coordinator = nil
					}
				}
				if p.restart {
					st = restarted(t, st, expAt(p.at))
				}
				o := observe(st, p.snap, cfg, expAt(p.at))
				t.Run(string(rune('0'+i)), func(t *testing.T) { p.check(t, o, findGroup(t, o, "g")) })
			}
		})
	}
}

// restarted is st after a round trip through the state file written at
// now, as after a restart of the exporter.
func restarted(t *testing.T, st *clusterState, now time.Time) *clusterState {
	t.Helper()
	raw, err := encodeState(map[string]*clusterState{"c": st}, now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeState(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m["c"]
}

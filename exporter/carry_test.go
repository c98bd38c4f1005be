package exporter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// carrySnap is a cluster of brokers 1 and 2 with topic "t" (partition 0
// led by 1, partition 1 by 2; ends end0, end1), group "h" coordinated by 1
// (committed at 10 on both) and group "x" coordinated by 2 (committed at 5
// on both).
func carrySnap(end0, end1 int64) *kafkaadmin.Snapshot {
	offs := func(o int64) []kafkaadmin.CommittedOffset {
		return []kafkaadmin.CommittedOffset{{Topic: "t", Partition: 0, Offset: o}, {Topic: "t", Partition: 1, Offset: o}}
	}
	return &kafkaadmin.Snapshot{
		Cluster: "c",
		Brokers: []kafkaadmin.Broker{{ID: 1}, {ID: 2}},
		Topics: []kafkaadmin.Topic{{Name: "t", Partitions: []kafkaadmin.Partition{
			{ID: 0, Leader: 1, Start: 0, End: end0}, {ID: 1, Leader: 2, Start: 0, End: end1},
		}}},
		Groups: []kafkaadmin.Group{
			{Name: "h", Type: kafkaadmin.GroupSimple, State: "Empty", Coordinator: 1, Offsets: offs(10)},
			{Name: "x", Type: kafkaadmin.GroupSimple, State: "Empty", Coordinator: 2, Offsets: offs(5)},
		},
	}
}

// hung2 is carrySnap as read while broker 2 does not answer: its
// ListOffsets and ListGroups fail, so partition 1's end is unknown and
// group x is not listed.
func hung2(end0 int64) *kafkaadmin.Snapshot {
	s := carrySnap(end0, 0)
	s.Topics[0].Partitions[1].End, s.Topics[0].Partitions[1].EndErr = kafkaadmin.OffsetUnknown, errors.New("i/o timeout")
	s.Groups = s.Groups[:1]
	s.Errors = []kafkaadmin.RequestError{
		{API: "ListGroups", Broker: 2, Err: errors.New("i/o timeout")},
		{API: "ListOffsets", Broker: 2, Err: errors.New("i/o timeout")},
	}
	return s
}

func lagOf(t *testing.T, c *result.ClusterResult, group string) map[int32]int64 {
	t.Helper()
	g, ok := resulttest.Group(c, group)
	if !ok {
		return nil
	}
	out := map[int32]int64{}
	for _, gt := range g.Topics {
		for _, p := range gt.Partitions {
			if p.HasLag {
				out[p.Partition] = p.Lag
			}
		}
	}
	return out
}

// A broker that stops answering: what it owned is carried from the last
// good read, with its age, for at most StaleAfter; what the healthy broker
// answered is fresh on every poll.
func TestCarryPartialPoll(t *testing.T) {
	src := &fakeSource{name: "c"}
	now := at(0)
	const interval = 10 * time.Second
	e, err := New([]Source{src}, Options{Config: pollEvery(interval, 0), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	poll := func(s *kafkaadmin.Snapshot) *result.ClusterResult {
		now = now.Add(interval)
		src.set(s, nil)
		c, _ := resulttest.Cluster(e.PollAll(context.Background()), "c")
		return c
	}
	good := poll(carrySnap(100, 200))
	if !good.Up || !good.OldestRead.Equal(good.LastPoll) {
		t.Fatalf("good poll: up %v, oldest read %s, last poll %s", good.Up, good.OldestRead, good.LastPoll)
	}
	goodAt := good.LastPoll

	// Broker 2 hangs for 4 polls; partition 0 keeps growing. StaleAfter
	// is 3 intervals (30 s): polls 1-3 carry, poll 4 drops.
	for i := 1; i <= 4; i++ {
		c := poll(hung2(100 + int64(i)))
		age := c.LastPoll.Sub(goodAt)
		carried := age <= 3*interval
		h, x := lagOf(t, c, "h"), lagOf(t, c, "x")
		if c.Up {
			t.Fatalf("poll %d: partial poll up", i)
		}
		// h (healthy coordinator): fresh on partition 0, its partition 1
		// lag from the carried end while it is carried.
		if h[0] != 90+int64(i) {
			t.Errorf("poll %d: h lag on the healthy partition %d, want the fresh %d", i, h[0], 90+i)
		}
		hg, _ := resulttest.Group(c, "h")
		if !hg.ReadAt.Equal(c.LastPoll) {
			t.Errorf("poll %d: h read at %s, want the last poll %s", i, hg.ReadAt, c.LastPoll)
		}
		xg, xok := resulttest.Group(c, "x")
		if carried {
			if h[1] != 190 {
				t.Errorf("poll %d: h lag on the hung broker's partition %v, want 190 from the carried end", i, h[1])
			}
			// x (hung coordinator): carried whole, fresh end on partition 0.
			if !xok || x[0] != 95+int64(i) || x[1] != 195 || !xg.ReadAt.Equal(goodAt) || xg.Status != result.StatusErr.String() {
				t.Errorf("poll %d: x = %v (%+v), want lag {0:%d 1:195} read at %s, status ERR", i, x, xg, 95+i, goodAt)
			}
			if !c.OldestRead.Equal(goodAt) {
				t.Errorf("poll %d: oldest read %s, want %s", i, c.OldestRead, goodAt)
			}
		} else {
			if _, ok := h[1]; ok {
				t.Errorf("poll %d: h lag on partition 1 carried %s, beyond StaleAfter", i, age)
			}
			if xok {
				t.Errorf("poll %d: x carried %s, beyond StaleAfter: %+v", i, age, xg)
			}
			if !c.OldestRead.Equal(c.LastPoll) {
				t.Errorf("poll %d: oldest read %s with nothing carried, want %s", i, c.OldestRead, c.LastPoll)
			}
		}
		if len(c.BrokerHealth) != 2 || !c.BrokerHealth[0].Up || c.BrokerHealth[1].Up ||
			len(c.BrokerHealth[1].Failed) != 2 {
			t.Errorf("poll %d: broker health %+v, want 1 up, 2 down (ListGroups, ListOffsets)", i, c.BrokerHealth)
		}
	}
	// A poll that reads nothing changes no data: the last result is
	// served as it is (no stale-after bound), every known broker down.
	last, _ := resulttest.Cluster(e.Latest(), "c")
	lastOldest, lastGroups := last.OldestRead, len(last.Groups)
	now = now.Add(time.Minute)
	src.set(nil, errors.New("metadata: no broker answered"))
	down, _ := resulttest.Cluster(e.PollAll(context.Background()), "c")
	if !down.OldestRead.Equal(lastOldest) || len(down.Groups) != lastGroups || lagOf(t, down, "h")[0] != 94 {
		t.Errorf("poll that read nothing: oldest read %s (want %s), %d groups (want %d), h %v",
			down.OldestRead, lastOldest, len(down.Groups), lastGroups, lagOf(t, down, "h"))
	}
	if len(down.BrokerHealth) != 2 || down.BrokerHealth[0].Up || down.BrokerHealth[1].Up {
		t.Errorf("poll that read nothing: broker health %+v, want both down", down.BrokerHealth)
	}
	back := poll(carrySnap(110, 220))
	if !back.Up || lagOf(t, back, "x")[1] != 215 || !back.OldestRead.Equal(back.LastPoll) {
		t.Errorf("after recovery: up %v, x %v, oldest read %s", back.Up, lagOf(t, back, "x"), back.OldestRead)
	}
}

// A failed OffsetFetch keeps the group's last commits (status ERR); a
// failed DescribeGroups its members. A group not listed by a complete poll
// is carried for that poll only; the second poll that agrees drops it.
func TestCarryGroupFailures(t *testing.T) {
	src := &fakeSource{name: "c"}
	now := at(0)
	e, err := New([]Source{src}, Options{Config: pollEvery(time.Second, 0), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	poll := func(s *kafkaadmin.Snapshot) *result.ClusterResult {
		now = now.Add(time.Second)
		src.set(s, nil)
		c, _ := resulttest.Cluster(e.PollAll(context.Background()), "c")
		return c
	}
	s := carrySnap(100, 200)
	s.Groups[0].State, s.Groups[0].Type = "Stable", kafkaadmin.GroupClassic
	s.Groups[0].Members = []kafkaadmin.Member{{ID: "m1"}}
	first := poll(s)

	s = carrySnap(100, 200)
	s.Groups[0].State, s.Groups[0].Type = "Unknown", kafkaadmin.GroupClassic
	s.Groups[0].DescribeErr = errors.New("COORDINATOR_LOAD_IN_PROGRESS")
	s.Groups[1].Offsets, s.Groups[1].FetchErr = nil, errors.New("i/o timeout")
	c := poll(s)
	h, _ := resulttest.Group(c, "h")
	if h.Members != 1 || h.State != "Stable" || !h.ReadAt.Equal(first.LastPoll) {
		t.Errorf("describe failed: h = %+v, want the last description (1 member, Stable) read at %s", h, first.LastPoll)
	}
	x, _ := resulttest.Group(c, "x")
	if got := lagOf(t, c, "x"); got[0] != 95 || got[1] != 195 || x.Status != result.StatusErr.String() {
		t.Errorf("fetch failed: x lag %v status %s, want the last commits (95, 195) and ERR", got, x.Status)
	}

	// x not listed by two complete polls: carried once, then dropped.
	s = carrySnap(100, 200)
	s.Groups = s.Groups[:1]
	c = poll(s)
	if got := lagOf(t, c, "x"); got[0] != 95 {
		t.Errorf("first complete poll without x: lag %v, want carried", got)
	}
	c = poll(s)
	if _, ok := resulttest.Group(c, "x"); ok {
		t.Error("x still served after two complete polls without it")
	}
}

// Commits are recorded per topic without a copy of the answer; an answer
// not sorted by topic (against the Snapshot contract) loses nothing.
func TestCarryUnsortedAnswer(t *testing.T) {
	c := newCarry(time.Minute)
	s := carrySnap(100, 200)
	s.Topics = append(s.Topics, kafkaadmin.Topic{Name: "u", Partitions: []kafkaadmin.Partition{{ID: 0, Start: 0, End: 10}}})
	s.Groups[0].Offsets = []kafkaadmin.CommittedOffset{
		{Topic: "t", Partition: 0, Offset: 10}, {Topic: "u", Partition: 0, Offset: 3}, {Topic: "t", Partition: 1, Offset: 11},
	}
	c.patch(s, at(1))
	s = carrySnap(100, 200)
	s.Groups[0].Offsets, s.Groups[0].FetchErr = nil, errors.New("i/o timeout")
	p, rep := c.patch(s, at(2))
	got := fmt.Sprint(p.Groups[0].Offsets)
	if want := fmt.Sprint([]kafkaadmin.CommittedOffset{{Topic: "t", Partition: 0, Offset: 10}, {Topic: "t", Partition: 1, Offset: 11},
		{Topic: "u", Partition: 0, Offset: 3}}); got != want {
		t.Errorf("carried commits %s, want %s", got, want)
	}
	if !rep.groups["h"].Equal(at(1)) {
		t.Errorf("h read at %s, want %s", rep.groups["h"], at(1))
	}
}

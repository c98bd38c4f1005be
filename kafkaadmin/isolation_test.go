package kafkaadmin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// hungBroker is a TCP listener that accepts connections and never answers
// (a broker stopped with SIGSTOP, a black-holing proxy). Its connections
// are closed when the test ends, so the client's reads fail and nothing is
// left waiting.
func hungBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestSnapshotHungBootstrap: the first bootstrap address accepts TCP and
// never answers. The first poll already succeeds, complete and correct:
// Metadata is hedged to the next address after the attempt timeout, and
// the hung address, not a cluster member, is never asked again.
func TestSnapshotHungBootstrap(t *testing.T) {
	f := newFixture(t)
	hung := hungBroker(t)
	c := f.client(t, func(cfg *kafkaadmin.Config) {
		cfg.Brokers = append([]string{hung}, f.cluster.ListenAddrs()...)
	})
	for i := 1; i <= 3; i++ {
		s := snapshot(t, c) // fails the test unless complete
		checkSnapshot(t, f, s)
		want := 1
		if i == 1 {
			want = 2 // the hung address, then a healthy one
		}
		if got := s.Requests["Metadata"]; got != want {
			t.Errorf("poll %d: Metadata requests = %d, want %d", i, got, want)
		}
		t.Logf("poll %d: complete and correct in %s; requests %v", i, s.Finished.Sub(s.Started).Round(time.Millisecond), s.Requests)
	}
}

// TestSnapshotHungBootstrapOnly: the only bootstrap address hangs. The
// poll fails at its deadline (not later) with an error naming the address.
func TestSnapshotHungBootstrapOnly(t *testing.T) {
	hung := hungBroker(t)
	c, err := kafkaadmin.New(kafkaadmin.Config{Name: "hung", Brokers: []string{hung}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = c.Snapshot(ctx)
	if err == nil {
		t.Fatal("snapshot of a hung broker succeeded")
	}
	want := "metadata: no broker answered: bootstrap " + hung + ": context deadline exceeded"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// freezer freezes one kfake broker: every request it receives sleeps (on
// kfake's sleep machinery, so the other brokers keep answering) until
// thaw. Connections are still accepted, as by a broker stopped with
// SIGSTOP; the slept requests are answered after the thaw.
type freezer struct {
	c    *kfake.Cluster
	mu   sync.Mutex
	node int32 // -1: none frozen
	ch   chan struct{}
}

func newFreezer(t *testing.T, c *kfake.Cluster) *freezer {
	fz := &freezer{c: c, node: -1}
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		fz.mu.Lock()
		node, ch := fz.node, fz.ch
		fz.mu.Unlock()
		if node >= 0 && c.CurrentNode() == node {
			c.SleepControl(func() { <-ch })
		}
		return nil, nil, false
	})
	t.Cleanup(fz.thaw)
	return fz
}

func (fz *freezer) freeze(node int32) {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	fz.node, fz.ch = node, make(chan struct{})
}

func (fz *freezer) thaw() {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	if fz.node >= 0 {
		close(fz.ch)
		fz.node = -1
	}
}

// TestSnapshotFrozenBroker: one broker of three accepts connections and
// answers nothing (it is also the first bootstrap address). On every poll
// the groups of the two healthy coordinators are complete and correct, the
// frozen broker's groups are absent with its ListGroups failure in Errors,
// every error names the frozen broker, the error texts are the same from
// poll to poll, and Metadata goes to a healthy broker first after the
// first poll. A NOT_LEADER_OR_FOLLOWER of a healthy leader and a
// NOT_COORDINATOR of a healthy coordinator are retried within the poll,
// without waiting for the frozen broker. After the thaw the next poll is
// complete and correct.
func TestSnapshotFrozenBroker(t *testing.T) {
	f := newFixture(t)
	coord := map[string]int32{}
	count := map[int32]int{}
	for _, w := range wantGroups {
		coord[w.group] = f.cluster.CoordinatorFor(w.group)
		count[coord[w.group]]++
	}
	frozen := int32(-1)
	for id := int32(0); id < 3 && frozen < 0; id++ {
		if count[id] > 0 && count[id] < len(wantGroups) {
			frozen = id
		}
	}
	if frozen < 0 {
		t.Fatalf("no broker coordinates some but not all groups: %v", coord)
	}
	addrs := f.cluster.ListenAddrs()
	brokers := []string{addrs[frozen]}
	for id, a := range addrs {
		if int32(id) != frozen {
			brokers = append(brokers, a)
		}
	}
	fz := newFreezer(t, f.cluster.Cluster)
	fz.freeze(frozen)
	c := f.client(t, func(cfg *kafkaadmin.Config) { cfg.Brokers = brokers })

	const deadline = 4 * time.Second
	poll := func() *kafkaadmin.Snapshot {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		type res struct {
			s   *kafkaadmin.Snapshot
			err error
		}
		ch := make(chan res, 1)
		go func() { s, err := c.Snapshot(ctx); ch <- res{s, err} }()
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatalf("snapshot with broker %d frozen: %v", frozen, r.err)
			}
			return r.s
		case <-time.After(deadline + 30*time.Second): // a hang, not a timing
			t.Fatalf("snapshot did not return after its %s deadline", deadline)
			return nil
		}
	}
	// Poll 4 also gets NOT_LEADER_OR_FOLLOWER on a partition of a healthy
	// leader and NOT_COORDINATOR on a group of a healthy coordinator: both
	// are retried and correct in that poll, without waiting for the frozen
	// broker.
	var faultTopic string
	var faultPart int32 = -1
	for p := int32(0); p < 6 && faultPart < 0; p++ {
		if f.cluster.LeaderFor("orders", p) != frozen {
			faultTopic, faultPart = "orders", p
		}
	}
	var faultGroup string
	for _, w := range wantGroups {
		if coord[w.group] != frozen && faultGroup == "" {
			faultGroup = w.group
		}
	}
	var faults []*kfake.FaultHandle
	var texts []string
	for i := 1; i <= 4; i++ {
		if i == 4 {
			faults = append(faults,
				f.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.ListOffsets}, Topic: faultTopic,
					Partitions: []int32{faultPart}, Err: kerr.NotLeaderForPartition, Count: 1}),
				f.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.OffsetFetch}, Group: faultGroup,
					Err: kerr.NotCoordinator, Count: 1}))
		}
		s := poll()
		if len(s.Brokers) != 3 {
			t.Errorf("poll %d: brokers = %d, want 3", i, len(s.Brokers))
		}
		// Broker configs are read from a broker that answered.
		if s.ConfigErr != nil || s.OffsetsRetention <= 0 {
			t.Errorf("poll %d: offsets retention %s, config error %v", i, s.OffsetsRetention, s.ConfigErr)
		}
		for _, w := range wantGroups {
			var g *kafkaadmin.Group
			for j := range s.Groups {
				if s.Groups[j].Name == w.group {
					g = &s.Groups[j]
				}
			}
			switch {
			case coord[w.group] == frozen && g != nil:
				t.Errorf("poll %d: group %s of the frozen coordinator present: %+v", i, w.group, *g)
			case coord[w.group] == frozen:
			case g == nil:
				t.Errorf("poll %d: group %s (coordinator %d, healthy) absent", i, w.group, coord[w.group])
			case g.DescribeErr != nil || g.FetchErr != nil:
				t.Errorf("poll %d: group %s: describe %v fetch %v", i, w.group, g.DescribeErr, g.FetchErr)
			case fmt.Sprint(offsets(*g)) != fmt.Sprint(w.offsets) || g.State != w.state || len(g.Members) != w.members:
				t.Errorf("poll %d: group %s: offsets %v state %s members %d, want %v %s %d", i, w.group,
					offsets(*g), g.State, len(g.Members), w.offsets, w.state, w.members)
			}
		}
		for _, tp := range s.Topics {
			for _, p := range tp.Partitions {
				if p.Leader != frozen && p.End != f.ends[tp.Name][p.ID] {
					t.Errorf("poll %d: %s/%d (leader %d): end %d (%v), want %d", i, tp.Name, p.ID, p.Leader, p.End, p.EndErr, f.ends[tp.Name][p.ID])
				}
				if p.Leader == frozen && (p.End != kafkaadmin.OffsetUnknown || p.EndErr == nil) {
					t.Errorf("poll %d: %s/%d led by the frozen broker: end %d err %v, want unknown", i, tp.Name, p.ID, p.End, p.EndErr)
				}
			}
		}
		listFailed := false
		for _, e := range s.Errors {
			if e.Broker != frozen {
				t.Errorf("poll %d: error of a healthy broker: %v", i, e)
			}
			listFailed = listFailed || e.API == "ListGroups"
		}
		if !listFailed {
			t.Errorf("poll %d: no ListGroups failure of the frozen broker in %v", i, s.Errors)
		}
		if i == 2 || i == 3 {
			if s.Requests["Metadata"] != 1 {
				t.Errorf("poll %d: Metadata requests = %d, want 1 (a healthy broker first)", i, s.Requests["Metadata"])
			}
		}
		for _, h := range faults {
			if h.Hits() != 1 {
				t.Errorf("poll %d: a fault answered %d requests, want 1", i, h.Hits())
			}
		}
		texts = append(texts, fmt.Sprint(s.Errors))
		t.Logf("poll %d with broker %d frozen: %s, requests %v (total %d), errors %v", i, frozen,
			s.Finished.Sub(s.Started).Round(time.Millisecond), s.Requests, s.TotalRequests(), s.Errors)
	}
	if texts[1] != texts[2] {
		t.Errorf("error texts changed between polls:\n%s\n%s", texts[1], texts[2])
	}

	fz.thaw()
	s := snapshot(t, c) // fails unless complete
	checkSnapshot(t, f, s)
	t.Logf("first poll after the thaw: complete in %s, requests %v (total %d)",
		s.Finished.Sub(s.Started).Round(time.Millisecond), s.Requests, s.TotalRequests())
	s = snapshot(t, c)
	checkSnapshot(t, f, s)
	t.Logf("healthy poll: requests %v (total %d)", s.Requests, s.TotalRequests())
}

// TestSnapshotGroupDead: a coordinator that lists a group, then describes
// it as Dead and answers OffsetFetch with no offsets and no error (as a
// real broker does while it unloads a group it is giving up). Once: the
// group is listed again and retried, correct in the same poll. Always: the
// group keeps FetchErr = ErrGroupDead, never an empty, error-free list.
func TestSnapshotGroupDead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	c.Produce(t, "t", 0, 1)
	c.Commit(t, "g", "t", map[int32]int64{0: 1})
	// unloading answers g's DescribeGroups with Dead and its OffsetFetch
	// with nothing, count times each (-1: always).
	unloading := func(count int) (described, fetched *atomic.Int32) {
		described, fetched = new(atomic.Int32), new(atomic.Int32)
		answer := func(key kmsg.Key, n *atomic.Int32, resp func(kmsg.Request) kmsg.Response) {
			c.ControlKey(int16(key), func(kr kmsg.Request) (kmsg.Response, error, bool) {
				if count < 0 {
					c.KeepControl()
				}
				n.Add(1)
				return resp(kr), nil, true
			})
		}
		answer(kmsg.DescribeGroups, described, func(kr kmsg.Request) kmsg.Response {
			req := kr.(*kmsg.DescribeGroupsRequest)
			resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
			for _, name := range req.Groups {
				g := kmsg.NewDescribeGroupsResponseGroup()
				g.Group, g.State = name, "Dead"
				resp.Groups = append(resp.Groups, g)
			}
			return resp
		})
		answer(kmsg.OffsetFetch, fetched, func(kr kmsg.Request) kmsg.Response {
			req := kr.(*kmsg.OffsetFetchRequest)
			resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
			for _, rg := range req.Groups {
				g := kmsg.NewOffsetFetchResponseGroup()
				g.Group = rg.Group
				resp.Groups = append(resp.Groups, g)
			}
			return resp
		})
		return described, fetched
	}
	ac := c.Source(t, "dead")
	snap := func() (*kafkaadmin.Group, map[string]int) {
		t.Helper()
		s, err := ac.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s.Groups {
			if s.Groups[i].Name == "g" {
				return &s.Groups[i], s.Requests
			}
		}
		t.Fatalf("group g not in the snapshot: %+v", s.Groups)
		return nil, nil
	}
	if g, _ := snap(); g.FetchErr != nil || fmt.Sprint(offsets(*g)) != "map[t/0:1]" {
		t.Fatalf("baseline: offsets %v fetch error %v", offsets(*g), g.FetchErr)
	}

	described, fetched := unloading(1)
	g, reqs := snap()
	if described.Load() != 1 || fetched.Load() != 1 {
		t.Fatalf("unloading answered %d DescribeGroups and %d OffsetFetch, want 1 and 1", described.Load(), fetched.Load())
	}
	if g.FetchErr != nil || g.State != "Empty" || fmt.Sprint(offsets(*g)) != "map[t/0:1]" {
		t.Errorf("Dead once: state %s offsets %v fetch error %v, want Empty, the commit, no error (retried)",
			g.State, offsets(*g), g.FetchErr)
	}
	if reqs["ListGroups"] != 2 || reqs["OffsetFetch"] != 2 {
		t.Errorf("Dead once: requests %v, want ListGroups 2 and OffsetFetch 2 (one retry)", reqs)
	}

	described, _ = unloading(-1)
	for i := 1; i <= 2; i++ {
		g, _ = snap()
		if !errors.Is(g.FetchErr, kafkaadmin.ErrGroupDead) || len(g.Offsets) != 0 {
			t.Errorf("Dead on poll %d: offsets %v fetch error %v, want ErrGroupDead", i, offsets(*g), g.FetchErr)
		}
	}
	if described.Load() != 4 {
		t.Errorf("DescribeGroups answered Dead %d times in 2 polls, want 4 (one retry each)", described.Load())
	}
}

package kafkaadmin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/IBM/sarama"
)

// OffsetFetchChunk is the most groups one OffsetFetch request carries.
const OffsetFetchChunk = 1000

// listedGroup is a group as ListGroups named it.
type listedGroup struct {
	name         string
	protocolType string
	state        string
	groupType    string // v5+: classic, consumer, share; "" before
	coordinator  int32
}

func (lg listedGroup) typ() GroupType {
	switch {
	case lg.groupType == "consumer":
		return GroupConsumer
	case lg.groupType != "" && lg.groupType != "classic":
		return GroupOther
	case lg.protocolType == "":
		return GroupSimple
	case lg.protocolType == "consumer":
		return GroupClassic
	default:
		return GroupOther
	}
}

// groups lists, describes and fetches the offsets of every included group.
//
// Each broker is a pipeline of its own: its ListGroups, then at once the
// DescribeGroups, ConsumerGroupDescribe and OffsetFetch of the groups it
// coordinates. No pipeline waits for another, so a broker that does not
// answer costs only the groups it coordinates: they are absent from the
// result (its ListGroups failure is in Snapshot.Errors), and the groups of
// every other coordinator are complete.
//
// A group whose coordinator answers NOT_COORDINATOR or
// COORDINATOR_LOAD_IN_PROGRESS (it moved, or is moving) is retried once on
// the coordinator a second ListGroups names. That second listing is sent
// once per round, to every broker whose first ListGroups did not fail, and
// a retry waits only for the brokers it needs (groupRound.find).
func (r *round) groups(ctx context.Context) []Group {
	gr := &groupRound{claimed: map[string]bool{}, listFailed: map[int32]bool{}}
	var mu sync.Mutex
	out := map[string]*Group{}
	var wg sync.WaitGroup
	for _, bc := range r.c.brokerList() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := r.coordinatorGroups(ctx, bc, gr)
			mu.Lock()
			defer mu.Unlock()
			for name, g := range got {
				out[name] = g
			}
		}()
	}
	wg.Wait()
	gr.relists.Wait()
	// A second ListGroups that failed on a broker whose first one
	// answered is a failed request of its own; on a broker whose first
	// one failed, it says nothing new.
	for id, err := range gr.relistErrs {
		if !gr.listFailed[id] {
			r.fail("ListGroups", id, err)
		}
	}

	groups := make([]Group, 0, len(out))
	for _, g := range out {
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups
}

// coordinatorGroups is one broker's pipeline: ListGroups, then describe and
// fetch the groups it coordinates, then retry once those that moved.
func (r *round) coordinatorGroups(ctx context.Context, bc *brokerConn, gr *groupRound) map[string]*Group {
	listed, err := r.listGroupsOn(ctx, bc)
	if err != nil {
		gr.mu.Lock()
		gr.listFailed[bc.id] = true
		gr.mu.Unlock()
		r.fail("ListGroups", bc.id, err)
		return nil
	}
	out := r.describeAndFetch(ctx, gr.claim(listed))
	var moved []string
	for name, g := range out {
		if isNotCoordinator(g.DescribeErr) || isNotCoordinator(g.FetchErr) {
			moved = append(moved, name)
		}
	}
	if len(moved) == 0 || ctx.Err() != nil {
		return out
	}
	for name, g := range r.describeAndFetch(ctx, gr.find(ctx, r, moved)) {
		out[name] = g
	}
	return out
}

// groupRound is what the brokers' group pipelines of one round share.
type groupRound struct {
	mu sync.Mutex
	// claimed are the groups a pipeline took: a group listed by two
	// brokers (while its coordinator moves) is described by the first.
	claimed map[string]bool
	// listFailed are the brokers whose first ListGroups failed.
	listFailed map[int32]bool

	// The second listing (find): started once, its answers merged into
	// relisted as they come; changed is closed and replaced at each.
	relistOnce sync.Once
	relists    sync.WaitGroup
	relisted   map[string]listedGroup
	relistErrs map[int32]error
	pending    int
	changed    chan struct{}
}

// claim returns the listed groups no other pipeline has taken.
func (gr *groupRound) claim(listed map[string]listedGroup) map[string]listedGroup {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	for name := range listed {
		if gr.claimed[name] {
			delete(listed, name)
			continue
		}
		gr.claimed[name] = true
	}
	return listed
}

// find lists the groups again (once per round, on every broker whose first
// ListGroups did not fail) and returns where the named groups are now. It
// returns as soon as every named group is found, every broker answered, or
// ctx ends: a hung broker delays only a retry of a group that moved to it.
func (gr *groupRound) find(ctx context.Context, r *round, names []string) map[string]listedGroup {
	gr.relistOnce.Do(func() {
		gr.mu.Lock()
		defer gr.mu.Unlock()
		gr.relisted, gr.relistErrs = map[string]listedGroup{}, map[int32]error{}
		gr.changed = make(chan struct{})
		for _, bc := range r.c.brokerList() {
			if gr.listFailed[bc.id] {
				continue
			}
			gr.pending++
			gr.relists.Add(1)
			go func() {
				defer gr.relists.Done()
				listed, err := r.listGroupsOn(ctx, bc)
				gr.mu.Lock()
				defer gr.mu.Unlock()
				if err != nil {
					gr.relistErrs[bc.id] = err
				}
				for name, lg := range listed {
					if _, dup := gr.relisted[name]; !dup {
						gr.relisted[name] = lg
					}
				}
				gr.pending--
				close(gr.changed)
				gr.changed = make(chan struct{})
			}()
		}
	})
	for {
		gr.mu.Lock()
		found := make(map[string]listedGroup, len(names))
		for _, name := range names {
			if lg, ok := gr.relisted[name]; ok {
				found[name] = lg
			}
		}
		ch := gr.changed
		pending := gr.pending
		gr.mu.Unlock()
		if len(found) == len(names) || pending == 0 {
			return found
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return found
		}
	}
}

// ErrGroupDead is Group.FetchErr of a group that ListGroups named but its
// coordinator then described as Dead with no committed offset, even after
// the one retry: a coordinator unloading its groups (shutting down, or
// losing the group's __consumer_offsets partition) or a group deleted
// during the poll. Its empty Offsets are not "no commits".
var ErrGroupDead = errors.New("group listed, then described as Dead without offsets (coordinator unloading, or group deleted)")

// isNotCoordinator reports whether a group's error means its coordinator
// is elsewhere or not ready: the group is listed again and retried once.
func isNotCoordinator(err error) bool {
	return errors.Is(err, sarama.ErrNotCoordinatorForConsumer) || errors.Is(err, sarama.ErrOffsetsLoadInProgress) ||
		errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable) || errors.Is(err, ErrGroupDead)
}

// listGroupsOn sends ListGroups to one broker. It answers with the groups
// it coordinates, which tells each group's coordinator without a
// FindCoordinator per group. Groups not included are left out.
func (r *round) listGroupsOn(ctx context.Context, bc *brokerConn) (map[string]listedGroup, error) {
	r.rc.add("ListGroups")
	resp, err := onLane(ctx, r.c, bc, laneGroups, func(b *sarama.Broker) (*sarama.ListGroupsResponse, error) {
		return b.ListGroups(&sarama.ListGroupsRequest{Version: r.c.listGroupsVersion()})
	})
	if err == nil && resp.Err != sarama.ErrNoError {
		err = resp.Err
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]listedGroup, len(resp.Groups))
	for name, pt := range resp.Groups {
		if r.c.cfg.IncludeGroup != nil && !r.c.cfg.IncludeGroup(name) {
			continue
		}
		gd := resp.GroupsData[name]
		out[name] = listedGroup{name: name, protocolType: pt, state: gd.GroupState,
			groupType: gd.GroupType, coordinator: bc.id}
	}
	return out, nil
}

// describeAndFetch describes and fetches the offsets of the listed groups:
// per coordinator one DescribeGroups (classic and simple groups), one
// ConsumerGroupDescribe (KIP-848 groups) and one OffsetFetch per chunk of
// groups, on separate connections so they run at the same time.
func (r *round) describeAndFetch(ctx context.Context, listed map[string]listedGroup) map[string]*Group {
	out := make(map[string]*Group, len(listed))
	byCoord := map[int32][]*Group{}
	for _, lg := range listed {
		state := lg.state
		if state == "" {
			state = "Unknown"
		}
		g := &Group{Name: lg.name, Type: lg.typ(), ProtocolType: lg.protocolType, State: state,
			Coordinator: lg.coordinator}
		out[lg.name] = g
		byCoord[lg.coordinator] = append(byCoord[lg.coordinator], g)
	}
	var wg sync.WaitGroup
	for coord, gs := range byCoord {
		sort.Slice(gs, func(i, j int) bool { return gs[i].Name < gs[j].Name })
		bc := r.c.broker(coord)
		if bc == nil {
			err := fmt.Errorf("coordinator %d not in metadata", coord)
			for _, g := range gs {
				g.DescribeErr, g.FetchErr = err, err
			}
			continue
		}
		var classic, consumer []*Group
		for _, g := range gs {
			switch g.Type {
			case GroupConsumer:
				consumer = append(consumer, g)
			case GroupOther:
			default:
				classic = append(classic, g)
			}
		}
		wg.Add(3)
		go func() { defer wg.Done(); r.describeClassic(ctx, bc, classic) }()
		go func() { defer wg.Done(); r.describeConsumer(ctx, bc, consumer) }()
		go func() { defer wg.Done(); r.fetchOffsets(ctx, bc, gs) }()
	}
	wg.Wait()
	for _, g := range out {
		// A group its coordinator listed, then described as Dead with no
		// commit: it is being unloaded (the coordinator is moving) or was
		// deleted meanwhile. Its empty offsets say nothing about its
		// commits, so they are an error, retried once like NOT_COORDINATOR.
		if (g.Type == GroupClassic || g.Type == GroupSimple) && g.State == "Dead" &&
			g.DescribeErr == nil && g.FetchErr == nil && len(g.Offsets) == 0 {
			g.FetchErr = ErrGroupDead
		}
	}
	return out
}

func (r *round) describeClassic(ctx context.Context, bc *brokerConn, gs []*Group) {
	if len(gs) == 0 {
		return
	}
	idx := make(map[string]*Group, len(gs))
	req := &sarama.DescribeGroupsRequest{Version: r.c.describeGroupsVersion()}
	for _, g := range gs {
		idx[g.Name] = g
		req.Groups = append(req.Groups, g.Name)
	}
	r.rc.add("DescribeGroups")
	resp, err := onLane(ctx, r.c, bc, laneGroups, func(b *sarama.Broker) (*sarama.DescribeGroupsResponse, error) {
		return b.DescribeGroups(req)
	})
	if err != nil {
		r.fail("DescribeGroups", bc.id, err)
		for _, g := range gs {
			g.DescribeErr = err
		}
		return
	}
	for _, d := range resp.Groups {
		g := idx[d.GroupId]
		if g == nil {
			continue
		}
		delete(idx, d.GroupId)
		if d.Err != sarama.ErrNoError {
			g.DescribeErr = d.Err
			continue
		}
		if d.State != "" {
			g.State = d.State
		}
		if d.ProtocolType != "" {
			g.ProtocolType = d.ProtocolType
		}
		for id, m := range d.Members {
			mem := Member{ID: id, ClientID: m.ClientId, Host: m.ClientHost}
			if g.ProtocolType == "consumer" {
				if a, err := m.GetMemberAssignment(); err == nil && a != nil {
					mem.Assignment = a.Topics
					for _, ps := range mem.Assignment {
						sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
					}
				}
			}
			g.Members = append(g.Members, mem)
		}
		sort.Slice(g.Members, func(i, j int) bool { return g.Members[i].ID < g.Members[j].ID })
	}
	for _, g := range idx {
		g.DescribeErr = errors.New("group missing from DescribeGroups answer")
	}
}

func (r *round) describeConsumer(ctx context.Context, bc *brokerConn, gs []*Group) {
	if len(gs) == 0 {
		return
	}
	idx := make(map[string]*Group, len(gs))
	req := sarama.NewConsumerGroupDescribeRequest(r.c.sconf.Version)
	for _, g := range gs {
		idx[g.Name] = g
		req.GroupIDs = append(req.GroupIDs, g.Name)
	}
	r.rc.add("ConsumerGroupDescribe")
	resp, err := onLane(ctx, r.c, bc, laneEarliest, func(b *sarama.Broker) (*sarama.ConsumerGroupDescribeResponse, error) {
		return b.ConsumerGroupDescribe(req)
	})
	if err != nil {
		r.fail("ConsumerGroupDescribe", bc.id, err)
		for _, g := range gs {
			g.DescribeErr = err
		}
		return
	}
	for _, d := range resp.Groups {
		g := idx[d.GroupID]
		if g == nil {
			continue
		}
		delete(idx, d.GroupID)
		if d.ErrorCode != sarama.ErrNoError {
			g.DescribeErr = d.ErrorCode
			continue
		}
		if d.GroupState != "" {
			g.State = d.GroupState
		}
		for _, m := range d.Members {
			mem := Member{ID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assignment: map[string][]int32{}}
			for _, tp := range m.Assignment.TopicPartitions {
				ps := append([]int32(nil), tp.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				mem.Assignment[tp.TopicName] = ps
			}
			g.Members = append(g.Members, mem)
		}
		sort.Slice(g.Members, func(i, j int) bool { return g.Members[i].ID < g.Members[j].ID })
	}
	for _, g := range idx {
		g.DescribeErr = errors.New("group missing from ConsumerGroupDescribe answer")
	}
}

// fetchOffsets reads the committed offsets of gs from their coordinator:
// many groups per request on brokers with OffsetFetch v8+, one request per
// group on older brokers.
func (r *round) fetchOffsets(ctx context.Context, bc *brokerConn, gs []*Group) {
	v, err := r.c.offsetFetchVersion(ctx, bc, r.rc)
	if err != nil {
		r.fail("ApiVersions", bc.id, err)
		for _, g := range gs {
			g.FetchErr = err
		}
		return
	}
	var dec offsetDecoder
	fetch := func(req *sarama.OffsetFetchRequest) (*sarama.OffsetFetchResponse, error) {
		return onLane(ctx, r.c, bc, laneLatest, func(b *sarama.Broker) (*sarama.OffsetFetchResponse, error) {
			return b.FetchOffset(req)
		})
	}
	if v < 8 || !r.c.sconf.Version.IsAtLeast(sarama.V3_0_0_0) {
		for _, g := range gs {
			if ctx.Err() != nil {
				g.FetchErr = ctx.Err()
				continue
			}
			req := &sarama.OffsetFetchRequest{Version: min(v, 7), ConsumerGroup: g.Name}
			r.rc.add("OffsetFetch")
			resp, err := fetch(req)
			if err != nil {
				r.fail("OffsetFetch", bc.id, err)
				g.FetchErr = err
				continue
			}
			if resp.Err != sarama.ErrNoError {
				g.FetchErr = resp.Err
				continue
			}
			g.Offsets = dec.offsets(resp.Blocks)
		}
		return
	}
	for start := 0; start < len(gs); start += OffsetFetchChunk {
		chunk := gs[start:min(start+OffsetFetchChunk, len(gs))]
		req := &sarama.OffsetFetchRequest{Version: 8}
		idx := make(map[string]*Group, len(chunk))
		for _, g := range chunk {
			idx[g.Name] = g
			req.Groups = append(req.Groups, sarama.OffsetFetchRequestGroup{GroupId: g.Name})
		}
		r.rc.add("OffsetFetch")
		resp, err := fetch(req)
		if err != nil {
			r.fail("OffsetFetch", bc.id, err)
			for _, g := range chunk {
				g.FetchErr = err
			}
			continue
		}
		for i := range resp.Groups {
			rg := &resp.Groups[i]
			g := idx[rg.GroupId]
			if g == nil {
				continue
			}
			delete(idx, rg.GroupId)
			if rg.Err != sarama.ErrNoError {
				g.FetchErr = rg.Err
				continue
			}
			g.Offsets = dec.offsets(rg.Blocks)
			rg.Blocks = nil // converted: the decoded maps can go while the rest is
		}
		for _, g := range idx {
			g.FetchErr = errors.New("group missing from OffsetFetch answer")
		}
	}
}

// offsetsFrom turns an OffsetFetch answer into sorted committed offsets.
// Partitions answered with offset -1 have no commit and are left out.
// Topics are sorted by name; each topic's partitions, which the answer
// holds in a map, are placed by id when their ids are dense (the usual
// case: a group commits on most partitions of its topics), else sorted.
// At 4M commits a comparison sort of every topic's commits was a fifth of
// the poll's CPU. One topic name string is shared by the topic's commits.
func offsetsFrom(blocks map[string]map[int32]*sarama.OffsetFetchResponseBlock) []CommittedOffset {
	var d offsetDecoder
	return d.offsets(blocks)
}

// offsetDecoder is offsetsFrom with scratch space reused from group to
// group.
type offsetDecoder struct {
	byID []*sarama.OffsetFetchResponseBlock
}

func (d *offsetDecoder) offsets(blocks map[string]map[int32]*sarama.OffsetFetchResponseBlock) []CommittedOffset {
	n := 0
	topics := make([]string, 0, len(blocks))
	for topic, ps := range blocks {
		n += len(ps)
		topics = append(topics, topic)
	}
	slices.Sort(topics)
	out := make([]CommittedOffset, 0, n)
	add := func(topic string, p int32, blk *sarama.OffsetFetchResponseBlock) {
		if blk == nil {
			return
		}
		co := CommittedOffset{Topic: topic, Partition: p, Offset: blk.Offset}
		if blk.Err != sarama.ErrNoError {
			co.Err, co.Offset = OffsetError(blk.Err), OffsetUnknown
		} else if blk.Offset < 0 {
			return
		}
		out = append(out, co)
	}
	for _, topic := range topics {
		ps := blocks[topic]
		lo, hi := int32(math.MaxInt32), int32(-1)
		for p := range ps {
			lo, hi = min(lo, p), max(hi, p)
		}
		if lo >= 0 && int(hi) < 2*len(ps)+64 { // dense ids: place them
			d.byID = append(d.byID[:0], make([]*sarama.OffsetFetchResponseBlock, int(hi)+1)...)
			for p, blk := range ps {
				d.byID[p] = blk
			}
			for p, blk := range d.byID {
				add(topic, int32(p), blk)
			}
			clear(d.byID)
			continue
		}
		first := len(out)
		for p, blk := range ps {
			add(topic, p, blk)
		}
		slices.SortFunc(out[first:], func(a, b CommittedOffset) int { return cmp.Compare(a.Partition, b.Partition) })
	}
	return out
}

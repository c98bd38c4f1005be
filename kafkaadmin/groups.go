package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
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
func (r *round) groups(ctx context.Context) []Group {
	listed := r.listGroups(ctx)
	out := r.describeAndFetch(ctx, listed)

	// Groups whose coordinator moved between ListGroups and the next
	// request: list again (every broker, one request each) and retry them
	// once.
	var moved []string
	for name, g := range out {
		if isNotCoordinator(g.DescribeErr) || isNotCoordinator(g.FetchErr) {
			moved = append(moved, name)
		}
	}
	if len(moved) > 0 && ctx.Err() == nil {
		relisted := r.listGroups(ctx)
		retry := map[string]listedGroup{}
		for _, name := range moved {
			if lg, ok := relisted[name]; ok {
				retry[name] = lg
			}
		}
		for name, g := range r.describeAndFetch(ctx, retry) {
			out[name] = g
		}
	}

	groups := make([]Group, 0, len(out))
	for _, g := range out {
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups
}

func isNotCoordinator(err error) bool {
	return errors.Is(err, sarama.ErrNotCoordinatorForConsumer) || errors.Is(err, sarama.ErrOffsetsLoadInProgress)
}

// listGroups sends ListGroups to every broker. Each broker answers with
// the groups it coordinates, which tells each group's coordinator without
// a FindCoordinator per group.
func (r *round) listGroups(ctx context.Context) map[string]listedGroup {
	brokers := r.c.brokerList()
	var mu sync.Mutex
	out := map[string]listedGroup{}
	var wg sync.WaitGroup
	for _, bc := range brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.rc.add("ListGroups")
			resp, err := onLane(ctx, r.c, bc, laneGroups, func(b *sarama.Broker) (*sarama.ListGroupsResponse, error) {
				return b.ListGroups(&sarama.ListGroupsRequest{Version: r.c.listGroupsVersion()})
			})
			if err == nil && resp.Err != sarama.ErrNoError {
				err = resp.Err
			}
			if err != nil {
				r.fail("ListGroups", bc.id, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for name, pt := range resp.Groups {
				if r.c.cfg.IncludeGroup != nil && !r.c.cfg.IncludeGroup(name) {
					continue
				}
				if _, dup := out[name]; dup {
					continue
				}
				gd := resp.GroupsData[name]
				out[name] = listedGroup{name: name, protocolType: pt, state: gd.GroupState,
					groupType: gd.GroupType, coordinator: bc.id}
			}
		}()
	}
	wg.Wait()
	return out
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
			g.Offsets = offsetsFrom(resp.Blocks)
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
			g.Offsets = offsetsFrom(rg.Blocks)
		}
		for _, g := range idx {
			g.FetchErr = errors.New("group missing from OffsetFetch answer")
		}
	}
}

// offsetsFrom turns an OffsetFetch answer into sorted committed offsets.
// Partitions answered with offset -1 have no commit and are left out.
func offsetsFrom(blocks map[string]map[int32]*sarama.OffsetFetchResponseBlock) []CommittedOffset {
	n := 0
	for _, ps := range blocks {
		n += len(ps)
	}
	out := make([]CommittedOffset, 0, n)
	for topic, ps := range blocks {
		for p, blk := range ps {
			if blk == nil {
				continue
			}
			co := CommittedOffset{Topic: topic, Partition: p, Offset: blk.Offset, Metadata: blk.Metadata}
			if blk.Err != sarama.ErrNoError {
				co.Err, co.Offset = blk.Err, OffsetUnknown
			} else if blk.Offset < 0 {
				continue
			}
			out = append(out, co)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// ErrClosed is returned by Snapshot after Close.
var ErrClosed = errors.New("kafkaadmin: client closed")

// Snapshot performs one poll round (see the package comment) and returns
// what it learned. It returns an error only when nothing could be learned
// (no broker answered Metadata, or the client is closed); failures of
// individual requests are in Snapshot.Errors and on the partitions and
// groups they concern.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	r := &round{
		c:    c,
		rc:   &roundCounter{m: map[string]int{}},
		snap: &Snapshot{Cluster: c.cfg.Name, Started: time.Now()},
	}
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	r.snap.Finished = time.Now()
	r.snap.Requests = r.rc.m
	return r.snap, nil
}

// round is the state of one Snapshot call.
type round struct {
	c    *Client
	rc   *roundCounter
	snap *Snapshot

	errMu sync.Mutex
	// topicIdx maps a topic name to its index in snap.Topics.
	topicIdx map[string]int
}

func (r *round) fail(api string, broker int32, err error) {
	r.errMu.Lock()
	r.snap.Errors = append(r.snap.Errors, RequestError{API: api, Broker: broker, Err: err})
	r.errMu.Unlock()
}

func (r *round) run(ctx context.Context) error {
	md, err := r.metadata(ctx)
	if err != nil {
		return err
	}
	r.applyMetadata(md)

	var wg sync.WaitGroup
	var groups []Group
	wg.Add(4)
	go func() { defer wg.Done(); r.describeConfigs(ctx) }()
	go func() { defer wg.Done(); r.listOffsets(ctx, sarama.OffsetNewest) }()
	go func() { defer wg.Done(); r.listOffsets(ctx, sarama.OffsetOldest) }()
	go func() { defer wg.Done(); groups = r.groups(ctx) }()
	wg.Wait()

	r.retryPartitions(ctx)
	r.snap.Groups = groups
	sort.Slice(r.snap.Errors, func(i, j int) bool {
		a, b := r.snap.Errors[i], r.snap.Errors[j]
		if a.API != b.API {
			return a.API < b.API
		}
		return a.Broker < b.Broker
	})
	return nil
}

// metadata asks a known broker, then the bootstrap addresses, for the
// cluster's metadata (all topics).
func (r *round) metadata(ctx context.Context) (*sarama.MetadataResponse, error) {
	var errs []error
	for _, bc := range r.c.brokerList() {
		r.rc.add("Metadata")
		md, err := onLane(ctx, r.c, bc, laneGroups, func(b *sarama.Broker) (*sarama.MetadataResponse, error) {
			return b.GetMetadata(sarama.NewMetadataRequest(r.c.sconf.Version, nil))
		})
		if err == nil {
			return md, nil
		}
		errs = append(errs, fmt.Errorf("broker %d (%s): %w", bc.id, bc.addr, err))
		if ctx.Err() != nil {
			return nil, fmt.Errorf("metadata: %w", joinErrs(errs))
		}
	}
	for _, addr := range r.c.cfg.Brokers {
		b := sarama.NewBroker(addr)
		if err := b.Open(r.c.sconf); err != nil {
			errs = append(errs, fmt.Errorf("bootstrap %s: %w", addr, err))
			continue
		}
		r.rc.add("Metadata")
		md, err := call(ctx, func() (*sarama.MetadataResponse, error) {
			return b.GetMetadata(sarama.NewMetadataRequest(r.c.sconf.Version, nil))
		})
		go func() { _ = b.Close() }() // Close waits for an abandoned request
		if err == nil {
			return md, nil
		}
		errs = append(errs, fmt.Errorf("bootstrap %s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("metadata: no broker answered: %w", joinErrs(errs))
}

func (r *round) applyMetadata(md *sarama.MetadataResponse) {
	r.c.updateBrokers(md.Brokers)
	r.snap.Brokers = r.snap.Brokers[:0]
	for _, b := range md.Brokers {
		r.snap.Brokers = append(r.snap.Brokers, Broker{ID: b.ID(), Addr: b.Addr(), Rack: b.Rack()})
	}
	sort.Slice(r.snap.Brokers, func(i, j int) bool { return r.snap.Brokers[i].ID < r.snap.Brokers[j].ID })

	topics := make([]Topic, 0, len(md.Topics))
	for _, tm := range md.Topics {
		if tm.IsInternal || strings.HasPrefix(tm.Name, "__") {
			continue
		}
		if r.c.cfg.IncludeTopic != nil && !r.c.cfg.IncludeTopic(tm.Name) {
			continue
		}
		if tm.Err != sarama.ErrNoError && len(tm.Partitions) == 0 {
			continue // a topic being deleted or created
		}
		n := int32(0)
		for _, pm := range tm.Partitions {
			n = max(n, pm.ID+1)
		}
		t := Topic{Name: tm.Name, Partitions: make([]Partition, n)}
		for i := range t.Partitions {
			t.Partitions[i] = Partition{ID: int32(i), Leader: -1, Start: OffsetUnknown, End: OffsetUnknown,
				Err: sarama.ErrUnknownTopicOrPartition}
		}
		for _, pm := range tm.Partitions {
			p := &t.Partitions[pm.ID]
			p.Leader = pm.Leader
			p.Err = nil
			if pm.Err != sarama.ErrNoError && pm.Leader < 0 {
				p.Err = pm.Err
			}
		}
		topics = append(topics, t)
	}
	sort.Slice(topics, func(i, j int) bool { return topics[i].Name < topics[j].Name })
	r.snap.Topics = topics
	r.topicIdx = make(map[string]int, len(topics))
	for i, t := range topics {
		r.topicIdx[t.Name] = i
	}
}

// listOffsets reads one end of every partition with one ListOffsets
// request per leader, all leaders in parallel.
func (r *round) listOffsets(ctx context.Context, which int64) {
	byLeader := map[int32][]pref{}
	for ti := range r.snap.Topics {
		t := &r.snap.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if p.Leader >= 0 {
				byLeader[p.Leader] = append(byLeader[p.Leader], pref{t.Name, p})
			}
		}
	}
	r.listOffsetsBy(ctx, which, byLeader)
}

// pref is a partition with its topic's name.
type pref struct {
	topic string
	p     *Partition
}

func (r *round) listOffsetsBy(ctx context.Context, which int64, byLeader map[int32][]pref) {
	lane := laneLatest
	if which == sarama.OffsetOldest {
		lane = laneEarliest
	}
	var wg sync.WaitGroup
	for leader, parts := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.listOffsetsOne(ctx, which, lane, leader, parts)
		}()
	}
	wg.Wait()
}

func (r *round) listOffsetsOne(ctx context.Context, which int64, lane int, leader int32, parts []pref) {
	set := func(p *Partition, off int64, err error) {
		if which == sarama.OffsetOldest {
			p.Start, p.StartErr = off, err
		} else {
			p.End, p.EndErr = off, err
		}
	}
	bc := r.c.broker(leader)
	if bc == nil {
		for _, pr := range parts {
			set(pr.p, OffsetUnknown, sarama.ErrLeaderNotAvailable)
		}
		return
	}
	req := sarama.NewOffsetRequest(r.c.sconf.Version)
	if r.c.cfg.Isolation == ReadCommitted {
		req.IsolationLevel = sarama.ReadCommitted
	}
	for _, pr := range parts {
		req.AddBlock(pr.topic, pr.p.ID, which, 1)
	}
	r.rc.add("ListOffsets")
	resp, err := onLane(ctx, r.c, bc, lane, func(b *sarama.Broker) (*sarama.OffsetResponse, error) {
		return b.GetAvailableOffsets(req)
	})
	if err != nil {
		r.fail("ListOffsets", leader, err)
		for _, pr := range parts {
			set(pr.p, OffsetUnknown, err)
		}
		return
	}
	for _, pr := range parts {
		p := pr.p
		blk := resp.GetBlock(pr.topic, p.ID)
		switch {
		case blk == nil:
			set(p, OffsetUnknown, fmt.Errorf("no answer for partition"))
		case blk.Err != sarama.ErrNoError:
			set(p, OffsetUnknown, blk.Err)
		case len(blk.Offsets) > 0 && blk.Offset == 0:
			set(p, blk.Offsets[0], nil)
		default:
			set(p, blk.Offset, nil)
		}
	}
}

// retriable reports whether a per-partition error calls for fresh
// metadata and one more try.
func retriable(err error) bool {
	var ke sarama.KError
	if err == nil || !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable, sarama.ErrUnknownTopicOrPartition,
		sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch, sarama.ErrOffsetNotAvailable:
		return true
	}
	return false
}

// retryPartitions refreshes the metadata once and reads again the
// partitions whose offsets failed with a retriable error. It reports
// whether it retried.
func (r *round) retryPartitions(ctx context.Context) bool {
	var failed []pref
	for ti := range r.snap.Topics {
		t := &r.snap.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if retriable(p.Err) || retriable(p.StartErr) || retriable(p.EndErr) {
				failed = append(failed, pref{t.Name, p})
			}
		}
	}
	if len(failed) == 0 || ctx.Err() != nil {
		return false
	}
	md, err := r.metadata(ctx)
	if err != nil {
		return false
	}
	r.c.updateBrokers(md.Brokers)
	leaders := map[string]map[int32]int32{}
	for _, tm := range md.Topics {
		m := make(map[int32]int32, len(tm.Partitions))
		for _, pm := range tm.Partitions {
			m[pm.ID] = pm.Leader
		}
		leaders[tm.Name] = m
	}
	latest, earliest := map[int32][]pref{}, map[int32][]pref{}
	for _, pr := range failed {
		p := pr.p
		l, ok := leaders[pr.topic][p.ID]
		if !ok || l < 0 {
			continue
		}
		p.Leader, p.Err = l, nil
		if p.EndErr != nil || p.End < 0 {
			latest[l] = append(latest[l], pr)
		}
		if p.StartErr != nil || p.Start < 0 {
			earliest[l] = append(earliest[l], pr)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.listOffsetsBy(ctx, sarama.OffsetNewest, latest) }()
	go func() { defer wg.Done(); r.listOffsetsBy(ctx, sarama.OffsetOldest, earliest) }()
	wg.Wait()
	return true
}

// joinErrs joins errors on one line ("a; b"), keeping them for errors.Is.
func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return oneLineErr{errs}
}

type oneLineErr struct{ errs []error }

func (e oneLineErr) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e oneLineErr) Unwrap() []error { return e.errs }

package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	err := r.run(ctx)
	r.noteHealth()
	if err != nil {
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
	// metaFailed are the addresses (known brokers' or bootstrap) whose
	// Metadata attempt failed or was overtaken by another broker's answer
	// (guarded by errMu).
	metaFailed map[string]bool
	// moved are the partitions read again from a new leader (noteLeader;
	// guarded by errMu).
	moved map[*Partition]int32

	// refreshOnce guards the one metadata refresh of a round and leaders,
	// its answer (refreshedLeaders).
	refreshOnce sync.Once
	leaders     map[string]map[int32]int32
	// topicIdx maps a topic name to its index in snap.Topics.
	topicIdx map[string]int
}

func (r *round) fail(api string, broker int32, err error) {
	r.errMu.Lock()
	r.snap.Errors = append(r.snap.Errors, RequestError{API: api, Broker: broker, Err: stableErr(err)})
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

	for p, leader := range r.moved {
		p.Leader, p.Err = leader, nil
	}
	r.snap.Groups = groups
	sortErrors(r.snap.Errors)
	return nil
}

// metadata asks the cluster's metadata (all topics) of the known brokers,
// then of the bootstrap addresses (metadataAttempts gives the order), hedged:
// the first is asked at once, and each next one when the previous attempts
// failed or stayed unanswered for the attempt timeout. The first answer
// wins; attempts still in flight are abandoned. A healthy first broker
// answers within the attempt timeout, so a healthy poll sends one Metadata.
func (r *round) metadata(ctx context.Context) (*sarama.MetadataResponse, error) {
	atts := r.c.metadataAttempts()
	actx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons the attempts still in flight
	type result struct {
		i   int
		md  *sarama.MetadataResponse
		err error
	}
	results := make(chan result, len(atts))
	errs := make([]error, len(atts))
	answered := make([]bool, len(atts))
	hedge := time.NewTimer(time.Hour)
	defer hedge.Stop()
	next, pending := 0, 0
	launch := func() {
		i := next
		next++
		pending++
		r.rc.add("Metadata")
		go func() {
			md, err := r.metadataFrom(actx, atts[i])
			results <- result{i, md, err}
		}()
		if next < len(atts) {
			hedge.Reset(r.c.attemptTimeout(ctx))
		}
	}
	launch()
	var won *sarama.MetadataResponse
	winner := -1
wait:
	for pending > 0 {
		select {
		case res := <-results:
			pending--
			answered[res.i] = true
			if res.err == nil {
				won, winner = res.md, res.i
				break wait
			}
			errs[res.i] = stableErr(res.err)
			if next < len(atts) {
				launch()
			}
		case <-hedge.C:
			if next < len(atts) {
				launch()
			}
		case <-ctx.Done():
			break wait
		}
	}
	// Known brokers that failed, or were asked and had not answered when
	// the round went on without them, are asked last next time.
	for i, a := range atts[:next] {
		if i != winner {
			r.noteMetadataFailed(a)
		}
	}
	if winner >= 0 {
		if a := atts[winner]; a.bc == nil {
			r.c.mu.Lock()
			r.c.bootstrapOK = a.addr
			r.c.mu.Unlock()
		}
		for i := range atts[:next] {
			if errs[i] != nil || !answered[i] {
				r.c.logger.Debug("metadata answered by another broker", "tried", atts[i].label(),
					"answered_by", atts[winner].label(), "err", errs[i])
			}
		}
		return won, nil
	}
	// Every attempt failed: the message lists them in a fixed order
	// (known brokers by id, then bootstrap addresses as configured), not
	// in the order they were tried, so that it is the same every poll.
	ranked := make([]int, 0, next)
	for i := range atts[:next] {
		if !answered[i] {
			errs[i] = ctx.Err()
		}
		ranked = append(ranked, i)
	}
	sort.Slice(ranked, func(a, b int) bool { return atts[ranked[a]].rank < atts[ranked[b]].rank })
	msgs := make([]error, 0, len(ranked))
	for _, i := range ranked {
		msgs = append(msgs, fmt.Errorf("%s: %w", atts[i].label(), errs[i]))
	}
	return nil, fmt.Errorf("metadata: no broker answered: %w", joinErrs(msgs))
}

// mdAttempt is one place the metadata can be asked for: a known broker (on
// its groups lane) or a bootstrap address (on a connection of its own).
type mdAttempt struct {
	bc   *brokerConn // nil for a bootstrap address
	addr string
	// rank orders error messages: known brokers by id, then bootstrap
	// addresses in the configured order.
	rank int
}

func (a mdAttempt) label() string {
	if a.bc != nil {
		return fmt.Sprintf("broker %d (%s)", a.bc.id, a.addr)
	}
	return "bootstrap " + a.addr
}

// metadataAttempts lists where to ask for metadata, in order: the known
// brokers that answered in the last round (by id), the other known brokers
// (by id), then the bootstrap addresses not already among the known
// brokers: the one that answered last time first, then as configured.
func (c *Client) metadataAttempts() []mdAttempt {
	known := c.brokerList()
	c.mu.Lock()
	ok := c.bootstrapOK
	c.mu.Unlock()
	byID := make([]int32, len(known))
	addrs := map[string]bool{}
	for i, bc := range known {
		byID[i] = bc.id
		addrs[bc.addr] = true
	}
	sort.Slice(byID, func(i, j int) bool { return byID[i] < byID[j] })
	out := make([]mdAttempt, 0, len(known)+len(c.cfg.Brokers))
	for _, bc := range known {
		out = append(out, mdAttempt{bc: bc, addr: bc.addr, rank: sort.Search(len(byID), func(i int) bool { return byID[i] >= bc.id })})
	}
	var boot []mdAttempt
	for i, addr := range c.cfg.Brokers {
		if addrs[addr] {
			continue
		}
		addrs[addr] = true
		a := mdAttempt{addr: addr, rank: len(known) + i}
		if addr == ok {
			boot = append([]mdAttempt{a}, boot...)
		} else {
			boot = append(boot, a)
		}
	}
	return append(out, boot...)
}

// metadataFrom sends one Metadata request for all topics.
func (r *round) metadataFrom(ctx context.Context, a mdAttempt) (*sarama.MetadataResponse, error) {
	req := func(b *sarama.Broker) (*sarama.MetadataResponse, error) {
		return b.GetMetadata(sarama.NewMetadataRequest(r.c.sconf.Version, nil))
	}
	if a.bc != nil {
		return onLane(ctx, r.c, a.bc, laneGroups, req)
	}
	b := sarama.NewBroker(a.addr)
	if err := b.Open(r.c.sconf); err != nil {
		return nil, err
	}
	defer func() { go func() { _ = b.Close() }() }() // Close waits for an abandoned request
	return call(ctx, func() (*sarama.MetadataResponse, error) { return req(b) })
}

func (r *round) noteMetadataFailed(a mdAttempt) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.metaFailed == nil {
		r.metaFailed = map[string]bool{}
	}
	r.metaFailed[a.addr] = true
}

// metaFailedAddrs returns the addresses noteMetadataFailed collected.
func (r *round) metaFailedAddrs() map[string]bool {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	out := make(map[string]bool, len(r.metaFailed))
	for a := range r.metaFailed {
		out[a] = true
	}
	return out
}

// noteHealth tells the client which brokers failed in this round: those
// named in a failed request, and those whose address did not answer a
// Metadata attempt before another broker did (brokerConn.failed).
func (r *round) noteHealth() {
	failed := map[int32]bool{}
	r.errMu.Lock()
	for _, e := range r.snap.Errors {
		failed[e.Broker] = true
	}
	r.errMu.Unlock()
	r.c.markHealth(failed, r.metaFailedAddrs())
}

// sortErrors orders the round's errors by API, broker, then message, so
// that the texts built from them are the same from poll to poll.
func sortErrors(errs []RequestError) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.API != b.API {
			return a.API < b.API
		}
		if a.Broker != b.Broker {
			return a.Broker < b.Broker
		}
		return a.Err.Error() < b.Err.Error()
	})
}

func (r *round) applyMetadata(md *sarama.MetadataResponse) {
	r.c.updateBrokers(md.Brokers)
	// A broker whose address did not answer Metadata (a bootstrap address
	// on the first poll) is asked last already in this round
	// (DescribeConfigs).
	r.c.markFailedAddrs(r.metaFailedAddrs())
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

// listOffsets reads one end (which) of every partition with one ListOffsets
// request per leader, every leader in parallel. The partitions a leader
// answers with a retriable error (NOT_LEADER_OR_FOLLOWER, ...) are read
// again once, from their leader in a refreshed metadata, as soon as that
// leader answered; partitions without a leader are read from the refreshed
// metadata at once. The refresh is one Metadata per round, shared (see
// refreshedLeaders), so a hung leader delays no other leader's retry.
func (r *round) listOffsets(ctx context.Context, which int64) {
	// Each leader's partitions sized at once (appending them one by one
	// allocated about twice their size, twice a poll).
	counts := map[int32]int{}
	for ti := range r.snap.Topics {
		for pi := range r.snap.Topics[ti].Partitions {
			if l := r.snap.Topics[ti].Partitions[pi].Leader; l >= 0 {
				counts[l]++
			}
		}
	}
	byLeader := make(map[int32][]pref, len(counts))
	for l, n := range counts {
		byLeader[l] = make([]pref, 0, n)
	}
	var orphans []pref
	for ti := range r.snap.Topics {
		t := &r.snap.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			switch {
			case p.Leader >= 0:
				byLeader[p.Leader] = append(byLeader[p.Leader], pref{t.Name, p})
			case retriable(p.Err):
				orphans = append(orphans, pref{t.Name, p})
			}
		}
	}
	var wg sync.WaitGroup
	for leader, parts := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.listOffsetsOne(ctx, which, leader, parts)
			var failed []pref
			for _, pr := range parts {
				// Each end's pass touches only its own fields.
				var err error
				if which == sarama.OffsetOldest {
					err = pr.p.StartErr
				} else {
					err = pr.p.EndErr
				}
				if retriable(err) {
					failed = append(failed, pr)
				}
			}
			r.retryOffsets(ctx, which, failed)
		}()
	}
	if len(orphans) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); r.retryOffsets(ctx, which, orphans) }()
	}
	wg.Wait()
}

// pref is a partition with its topic's name.
type pref struct {
	topic string
	p     *Partition
}

// retryOffsets reads one end of parts again, once, from their leaders in
// the refreshed metadata.
func (r *round) retryOffsets(ctx context.Context, which int64, parts []pref) {
	if len(parts) == 0 || ctx.Err() != nil {
		return
	}
	leaders := r.refreshedLeaders(ctx)
	if leaders == nil {
		return
	}
	byLeader := map[int32][]pref{}
	for _, pr := range parts {
		l, ok := leaders[pr.topic][pr.p.ID]
		if !ok || l < 0 {
			continue
		}
		r.noteLeader(pr.p, l)
		byLeader[l] = append(byLeader[l], pr)
	}
	var wg sync.WaitGroup
	for leader, ps := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.listOffsetsOne(ctx, which, leader, ps)
		}()
	}
	wg.Wait()
}

// refreshedLeaders reads the metadata again, once per round whoever asks
// first, and returns each partition's leader (topic -> partition ->
// leader), or nil when no broker answered.
func (r *round) refreshedLeaders(ctx context.Context) map[string]map[int32]int32 {
	r.refreshOnce.Do(func() {
		md, err := r.metadata(ctx)
		if err != nil {
			return
		}
		r.c.updateBrokers(md.Brokers)
		leaders := make(map[string]map[int32]int32, len(md.Topics))
		for _, tm := range md.Topics {
			m := make(map[int32]int32, len(tm.Partitions))
			for _, pm := range tm.Partitions {
				m[pm.ID] = pm.Leader
			}
			leaders[tm.Name] = m
		}
		r.leaders = leaders
	})
	return r.leaders
}

// noteLeader records a partition's leader from the refreshed metadata; it
// is set on the partition when the round's requests are done.
func (r *round) noteLeader(p *Partition, leader int32) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.moved == nil {
		r.moved = map[*Partition]int32{}
	}
	r.moved[p] = leader
}

func (r *round) listOffsetsOne(ctx context.Context, which int64, leader int32, parts []pref) {
	lane := laneLatest
	if which == sarama.OffsetOldest {
		lane = laneEarliest
	}
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

// stableErr returns err with the local address of a network error left
// out of its text ("read tcp 127.0.0.1:53712->10.0.0.5:9092: connection
// reset by peer" becomes "read tcp 10.0.0.5:9092: connection reset by
// peer"): the local port changes with every connection, and an error text
// that changes from poll to poll defeats logging a failure once. errors.Is
// and errors.As still see the original error.
func stableErr(err error) error {
	var oe *net.OpError
	if err == nil || !errors.As(err, &oe) || oe.Source == nil || oe.Addr == nil {
		return err
	}
	msg := err.Error()
	stable := strings.Replace(msg, oe.Source.String()+"->", "", 1)
	if stable == msg {
		return err
	}
	return textErr{stable, err}
}

// textErr is an error with its text replaced.
type textErr struct {
	msg string
	err error
}

func (e textErr) Error() string { return e.msg }
func (e textErr) Unwrap() error { return e.err }

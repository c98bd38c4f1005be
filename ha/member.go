package ha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/exporter"
)

// Defaults.
const (
	DefaultGroup             = "offsetlag-replicas"
	DefaultTopic             = "offsetlag-replicas"
	DefaultPartitions        = 64
	DefaultSessionTimeout    = 15 * time.Second
	DefaultMaxWritesPerPoll  = 5000
	DefaultRoutineWriteEvery = time.Minute
	// StartTimeout bounds creating or describing the coordination topic.
	StartTimeout = time.Minute
)

// Options configure a Member.
type Options struct {
	// Brokers are the seed brokers of the coordination cluster.
	Brokers []string
	// Client are extra franz-go options: TLS and SASL
	// (kafkasec.Config.FranzOpts), client id.
	Client []kgo.Opt
	// Group is the replicas' consumer group, Topic the coordination topic.
	Group, Topic string
	// Partitions is the shard count P used when the topic is created; an
	// existing topic's partition count wins (all replicas must agree).
	Partitions int
	// ReplicationFactor of a created topic; 0 or -1: the brokers' default.
	ReplicationFactor int16
	// SessionTimeout: a replica that stops heartbeating (kill -9, network
	// partition) loses its shards after this long.
	SessionTimeout time.Duration
	// MaxWritesPerPoll bounds the state records written after one poll of
	// one cluster; the rest are written after the next polls.
	MaxWritesPerPoll int
	// RoutineWriteEvery bounds how often a group's routine changes are
	// written (see signature).
	RoutineWriteEvery time.Duration
	Logger            *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Target is the exporter side of a Member that restores: the expiry
// tracker (*expiry.Tracker). (The exporter learns of lost shards through
// OnLoss: a Member is its exporter.Owner.)
type Target interface {
	// Restore installs restored group states (each group's state as the
	// tracker handed it to ObserveExpiry); commit runs under the tracker's
	// lock once they are in (the Member marks the shard owned there, so
	// no poll sees the shard owned without its state).
	Restore(cluster string, groups map[string]json.RawMessage, commit func())
}

// Member is one replica's membership in the replicas' group.
type Member struct {
	opts Options
	log  *slog.Logger

	cl     *kgo.Client
	target Target
	// onLoss is called when shards are lost or revoked (OnLoss).
	onLoss atomic.Pointer[func()]
	parts  int // P, set by Start
	done   chan struct{}

	// owned is the set of shards this replica exports (assigned and
	// restored), an immutable []bool swapped as a whole.
	owned atomic.Pointer[[]bool]

	// writing is held (read) while a poll's batch is computed and handed
	// to the producer; a revoke takes it (write) before it flushes, so
	// every write for a revoked shard is in Kafka before the shard moves.
	writing sync.RWMutex

	mu         sync.Mutex
	ownedSet   map[int32]bool
	restoring  map[int32]*restore
	written    map[string]written // by record key
	rebalances uint64
	lastRest   time.Duration
	restores   uint64
	deferred   uint64 // writes left for a later poll by MaxWritesPerPoll
	writeErr   string
	memberID   string
	generation int32
}

// restore is a shard being read before it is owned.
type restore struct {
	start   time.Time
	barrier int64 // offset of our barrier record, -1 until written
	maxSeen int64 // highest offset consumed, -1 before any
	groups  map[string]map[string]json.RawMessage
	bad     int // records that could not be decoded
	// finishing: the barrier was reached and the state is being handed
	// to the tracker (Target.Restore).
	finishing bool
}

// written is what was last written (or read) for a key.
type written struct {
	cluster   string
	partition int32
	full, sig uint64
	at        time.Time
}

// New checks opts and returns a Member. It connects nowhere.
func New(opts Options) (*Member, error) {
	if len(opts.Brokers) == 0 {
		return nil, errors.New("ha: no brokers")
	}
	if opts.Group == "" {
		opts.Group = DefaultGroup
	}
	if opts.Topic == "" {
		opts.Topic = DefaultTopic
	}
	if opts.Partitions <= 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.ReplicationFactor == 0 {
		opts.ReplicationFactor = -1
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	if opts.MaxWritesPerPoll <= 0 {
		opts.MaxWritesPerPoll = DefaultMaxWritesPerPoll
	}
	if opts.RoutineWriteEvery <= 0 {
		opts.RoutineWriteEvery = DefaultRoutineWriteEvery
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Member{opts: opts, log: opts.Logger.With("component", "ha", "ha_group", opts.Group, "ha_topic", opts.Topic),
		ownedSet: map[int32]bool{}, restoring: map[int32]*restore{}, written: map[string]written{}, done: make(chan struct{})}
	empty := []bool{}
	m.owned.Store(&empty)
	return m, nil
}

// OnLoss registers lost, called after shards were lost or revoked, once
// OwnsGroup and OwnsTopic report them gone (exporter.Owner: the exporter
// republishes without them). It replaces an earlier registration.
func (m *Member) OnLoss(lost func()) { m.onLoss.Store(&lost) }

// Partitions is P, the shard count (known after Start).
func (m *Member) Partitions() int { return m.parts }

// Start makes sure the coordination topic exists (compacted, Partitions
// partitions), joins the group and consumes the assigned partitions until
// Stop. target receives restored state (nil: none is restored). It returns
// once the client is running; shards come with the first assignment.
func (m *Member) Start(ctx context.Context, target Target) error {
	m.target = target
	// An unreachable coordinating cluster fails the start (the process
	// exits 1 and is restarted) rather than hanging silently.
	tctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	p, err := m.ensureTopic(tctx)
	if err != nil {
		return err
	}
	m.parts = p
	none := make([]bool, p)
	m.owned.Store(&none)
	opts := append(slices.Clone(m.opts.Client),
		kgo.SeedBrokers(m.opts.Brokers...),
		kgo.ConsumerGroup(m.opts.Group),
		kgo.ConsumeTopics(m.opts.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(m.opts.SessionTimeout),
		kgo.HeartbeatInterval(max(m.opts.SessionTimeout/10, 100*time.Millisecond)),
		kgo.DisableAutoCommit(), // never commit: a new owner always reads from the start
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// A fetch in flight when a barrier is written returns within this
		// even from a broker that does not wake fetches on new data; the
		// idle cost is one small fetch a second.
		kgo.FetchMaxWait(time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(m.assigned),
		kgo.OnPartitionsRevoked(m.revoked),
		kgo.OnPartitionsLost(m.lost),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("ha: coordination client: %w", err)
	}
	m.cl = cl
	go m.consume()
	m.log.Info("joining the replicas' group", "shards", p, "session_timeout", m.opts.SessionTimeout)
	return nil
}

// ensureTopic creates the topic if missing and returns its partition count.
func (m *Member) ensureTopic(ctx context.Context) (int, error) {
	cl, err := kgo.NewClient(append(slices.Clone(m.opts.Client), kgo.SeedBrokers(m.opts.Brokers...))...)
	if err != nil {
		return 0, fmt.Errorf("ha: admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	compact := "compact"
	_, err = adm.CreateTopic(ctx, int32(m.opts.Partitions), m.opts.ReplicationFactor,
		map[string]*string{"cleanup.policy": &compact}, m.opts.Topic)
	switch {
	case err == nil:
		m.log.Info("created the coordination topic", "partitions", m.opts.Partitions)
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		// No Create ACL is fine if the topic exists: describe it below.
		m.log.Debug("create coordination topic", "err", err)
	}
	var parts int
	for {
		td, err := adm.ListTopics(ctx, m.opts.Topic)
		if err != nil {
			return 0, fmt.Errorf("ha: describe topic %s: %w", m.opts.Topic, err)
		}
		t := td[m.opts.Topic]
		if t.Err == nil && len(t.Partitions) > 0 {
			parts = len(t.Partitions)
			break
		}
		if t.Err != nil && !errors.Is(t.Err, kerr.UnknownTopicOrPartition) && !errors.Is(t.Err, kerr.LeaderNotAvailable) {
			return 0, fmt.Errorf("ha: topic %s: %w", m.opts.Topic, t.Err)
		}
		select { // just created: metadata takes a moment to propagate
		case <-ctx.Done():
			return 0, fmt.Errorf("ha: topic %s not available: %w", m.opts.Topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if parts != m.opts.Partitions {
		m.log.Warn("the coordination topic exists with another partition count; using it as the shard count",
			"partitions", parts, "configured", m.opts.Partitions)
	}
	m.checkCompacted(ctx, adm)
	return parts, nil
}

// checkCompacted warns when the topic is not compacted (created by hand
// with the delete policy): state older than its retention.ms would be lost
// and the predictions of groups Empty for longer would restart. Without
// DescribeConfigs rights it says nothing.
func (m *Member) checkCompacted(ctx context.Context, adm *kadm.Client) {
	rcs, err := adm.DescribeTopicConfigs(ctx, m.opts.Topic)
	if err != nil || len(rcs) == 0 || rcs[0].Err != nil {
		return
	}
	for _, c := range rcs[0].Configs {
		if c.Key == "cleanup.policy" && c.Value != nil && !strings.Contains(*c.Value, "compact") {
			m.log.Warn("the coordination topic is not compacted: state older than its retention is lost (set cleanup.policy=compact)",
				"cleanup_policy", *c.Value)
		}
	}
}

// Stop flushes pending state writes and leaves the group at once (the other
// replicas take the shards over without waiting for the session timeout),
// then closes the client. Call it after the polls returned.
func (m *Member) Stop(ctx context.Context) {
	if m.cl == nil {
		return
	}
	if err := m.cl.Flush(ctx); err != nil {
		m.log.Warn("flushing the last state writes", "err", err)
	}
	if err := m.cl.LeaveGroupContext(ctx); err != nil {
		m.log.Warn("leaving the replicas' group", "err", err)
	}
	m.cl.Close()
	<-m.done
	m.log.Info("left the replicas' group")
}

// OwnsGroup reports whether this replica exports group of cluster.
func (m *Member) OwnsGroup(cluster, group string) bool { return m.owns(cluster, group) }

// OwnsTopic reports whether this replica exports the topic-level series of
// topic of cluster.
func (m *Member) OwnsTopic(cluster, topic string) bool { return m.owns(cluster, topic) }

func (m *Member) owns(cluster, name string) bool {
	o := *m.owned.Load()
	if len(o) == 0 {
		return false
	}
	return o[ShardOf(cluster, name, len(o))]
}

// publishOwnedLocked swaps the owned set; m.mu held.
func (m *Member) publishOwnedLocked() {
	o := make([]bool, m.parts)
	for p := range m.ownedSet {
		if int(p) < len(o) {
			o[p] = true
		}
	}
	m.owned.Store(&o)
}

// consume reads the assigned partitions: records of shards being restored
// are collected; once a restore reached its barrier the shard is owned.
func (m *Member) consume() {
	defer close(m.done)
	var lastErr string
	for {
		fs := m.cl.PollFetches(context.Background())
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			if msg := err.Error(); msg != lastErr {
				m.log.Warn("reading the coordination topic", "partition", p, "err", err)
				lastErr = msg
			}
		})
		var done []int32
		fs.EachRecord(func(r *kgo.Record) {
			if m.apply(r) {
				done = append(done, r.Partition)
			}
		})
		for _, p := range done {
			m.finish(p)
		}
	}
}

// apply adds a record to its shard's restore; it reports whether the
// restore reached its barrier.
func (m *Member) apply(r *kgo.Record) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.restoring[r.Partition]
	if rs == nil || rs.finishing {
		return false // owned already: our own writes coming back
	}
	rs.maxSeen = max(rs.maxSeen, r.Offset)
	k, err := decodeKey(r.Key)
	switch {
	case err != nil:
		rs.bad++
	case k.kind == kindGroup:
		gs, err := decodeGroup(r.Value)
		if err != nil {
			rs.bad++
			break
		}
		byGroup := rs.groups[k.cluster]
		if byGroup == nil {
			byGroup = map[string]json.RawMessage{}
			rs.groups[k.cluster] = byGroup
		}
		if gs == nil {
			delete(byGroup, k.group)
		} else {
			byGroup[k.group] = gs
		}
	}
	return rs.barrier >= 0 && rs.maxSeen >= rs.barrier
}

// finish hands a restored shard's state to the tracker (Target.Restore)
// and owns the shard.
func (m *Member) finish(p int32) {
	m.mu.Lock()
	rs := m.restoring[p]
	if rs == nil || rs.finishing || rs.barrier < 0 || rs.maxSeen < rs.barrier {
		m.mu.Unlock()
		return
	}
	rs.finishing = true
	m.mu.Unlock()

	own := func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.restoring[p] != rs {
			return // revoked (and maybe assigned again) meanwhile
		}
		delete(m.restoring, p)
		m.ownedSet[p] = true
		now := m.opts.Now()
		n := 0
		for cluster, groups := range rs.groups {
			n += len(groups)
			for g, gs := range groups {
				if sig, err := signature(gs); err == nil {
					m.written[string(groupKey(cluster, g))] = written{cluster: cluster, partition: p, full: hash64(gs), sig: sig, at: now}
				}
			}
		}
		took := now.Sub(rs.start)
		m.lastRest, m.restores = took, m.restores+1
		m.publishOwnedLocked()
		m.log.Info("shard owned", "shard", p, "restored_groups", n, "restore_duration", took, "undecodable_records", rs.bad)
	}
	if m.target == nil || len(rs.groups) == 0 {
		own()
		return
	}
	// One Restore per cluster; the shard is owned under the tracker's
	// lock of the last one, so no poll sees it owned without its state.
	clusters := slices.Sorted(maps.Keys(rs.groups))
	for i, c := range clusters {
		commit := func() {}
		if i == len(clusters)-1 {
			commit = own
		}
		m.target.Restore(c, rs.groups[c], commit)
	}
}

// assigned starts a restore of each new shard: write a barrier, read up to it.
func (m *Member) assigned(ctx context.Context, cl *kgo.Client, a map[string][]int32) {
	ps := a[m.opts.Topic]
	if len(ps) == 0 {
		return
	}
	now := m.opts.Now()
	m.mu.Lock()
	m.rebalances++
	m.memberID, m.generation = cl.GroupMetadata()
	for _, p := range ps {
		m.restoring[p] = &restore{start: now, barrier: -1, maxSeen: -1, groups: map[string]map[string]json.RawMessage{}}
	}
	m.mu.Unlock()
	m.log.Info("shards assigned", "shards", ps, "member_id", m.memberID)
	go m.barriers(ctx, cl, ps)
}

// barriers writes a barrier record into each partition being restored and
// records its offset; it retries until written or the restore is gone.
func (m *Member) barriers(ctx context.Context, cl *kgo.Client, ps []int32) {
	id, _ := cl.GroupMetadata()
	val, _ := json.Marshal(barrierValue{Member: id, At: m.opts.Now().UTC()})
	for attempt := 0; ; attempt++ {
		var recs []*kgo.Record
		for _, p := range ps {
			recs = append(recs, &kgo.Record{Topic: m.opts.Topic, Partition: p, Key: barrierKey(), Value: val})
		}
		res := cl.ProduceSync(ctx, recs...)
		var retry, done []int32
		m.mu.Lock()
		for _, r := range res {
			rs := m.restoring[r.Record.Partition]
			if rs == nil || rs.barrier >= 0 {
				continue
			}
			if r.Err != nil {
				retry = append(retry, r.Record.Partition)
				continue
			}
			rs.barrier = r.Record.Offset
			if rs.maxSeen >= rs.barrier {
				done = append(done, r.Record.Partition)
			}
		}
		m.mu.Unlock()
		for _, p := range done {
			m.finish(p)
		}
		if len(retry) == 0 || ctx.Err() != nil {
			return
		}
		if err := res.FirstErr(); err != nil && attempt == 0 {
			m.log.Warn("cannot write the restore barrier into the coordination topic; retrying (check the topic Write ACL)", "err", err)
		}
		ps = retry
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 5*time.Second)):
		}
	}
}

// revoked gives shards up: they leave the Result at once, and every state
// write for them is flushed before the callback returns (the rebalance
// waits for it), so the next owner reads it.
func (m *Member) revoked(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
	if !m.drop(r[m.opts.Topic], "revoked") {
		return
	}
	m.writing.Lock()
	//lint:ignore SA2001 a barrier: waits for the batch being enqueued
	m.writing.Unlock()
	fctx, cancel := context.WithTimeout(ctx, m.opts.SessionTimeout)
	defer cancel()
	if err := cl.Flush(fctx); err != nil {
		m.log.Warn("flushing state writes of revoked shards", "err", err)
	}
}

// lost: the session expired (or the group fenced us); another replica may
// own the shards already, so stop exporting them at once.
func (m *Member) lost(_ context.Context, _ *kgo.Client, l map[string][]int32) {
	m.drop(l[m.opts.Topic], "lost")
}

func (m *Member) drop(ps []int32, why string) bool {
	if len(ps) == 0 {
		return false
	}
	m.mu.Lock()
	m.rebalances++
	for _, p := range ps {
		delete(m.restoring, p)
		delete(m.ownedSet, p)
	}
	for k, w := range m.written {
		if slices.Contains(ps, w.partition) {
			delete(m.written, k)
		}
	}
	m.publishOwnedLocked()
	m.mu.Unlock()
	m.log.Info("shards "+why, "shards", ps)
	if lost := m.onLoss.Load(); lost != nil {
		(*lost)()
	}
	return true
}

// ObserveExpiry writes the changed state of the owned groups of cluster
// (expiry.Options.Share: groups yields each tracked group with its state).
// It is called under the tracker's lock after every poll; it hands what
// changed to the producer without waiting for the brokers.
func (m *Member) ObserveExpiry(cluster string, groups iter.Seq2[string, json.RawMessage]) {
	if m.cl == nil {
		return
	}
	m.writing.RLock()
	defer m.writing.RUnlock()
	recs := m.batch(cluster, groups)
	for _, r := range recs {
		key := string(r.Key)
		m.cl.TryProduce(context.Background(), r, func(r *kgo.Record, err error) {
			if err == nil {
				return
			}
			m.mu.Lock()
			delete(m.written, key) // written again after the next poll
			msg := err.Error()
			logIt := msg != m.writeErr
			m.writeErr = msg
			m.mu.Unlock()
			if logIt {
				m.log.Warn("cannot write expiry state to the coordination topic; predictions may restart on takeover", "err", err)
			}
		})
	}
}

// batch computes the records of one poll, at most MaxWritesPerPoll.
func (m *Member) batch(cluster string, groups iter.Seq2[string, json.RawMessage]) []*kgo.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	var recs []*kgo.Record
	seen := map[string]bool{}
	for name, raw := range groups {
		p := ShardOf(cluster, name, m.parts)
		if !m.ownedSet[p] {
			continue
		}
		key := groupKey(cluster, name)
		seen[string(key)] = true
		w, ok := m.written[string(key)]
		full := hash64(raw)
		if ok && w.full == full {
			continue
		}
		sig, err := signature(raw)
		if err != nil {
			continue
		}
		if ok && w.sig == sig && now.Sub(w.at) < m.opts.RoutineWriteEvery {
			continue
		}
		if len(recs) >= m.opts.MaxWritesPerPoll {
			m.deferred++
			continue
		}
		val, _ := json.Marshal(groupValue{Version: stateVersion, Written: now.UTC(), State: raw})
		recs = append(recs, &kgo.Record{Topic: m.opts.Topic, Partition: p, Key: key, Value: val})
		m.written[string(key)] = written{cluster: cluster, partition: p, full: full, sig: sig, at: now}
	}
	for k, w := range m.written {
		if w.cluster != cluster || seen[k] || !m.ownedSet[w.partition] || len(recs) >= m.opts.MaxWritesPerPoll {
			continue
		}
		// The tracker forgot the group: a tombstone lets compaction drop it.
		recs = append(recs, &kgo.Record{Topic: m.opts.Topic, Partition: w.partition, Key: []byte(k)})
		delete(m.written, k)
	}
	return recs
}

// Stats is a view of the Member for metrics and /api/v1/replicas.
type Stats struct {
	Group, Topic string
	MemberID     string
	Generation   int32
	Partitions   int
	// Owned are the shards this replica exports; Restoring those assigned
	// and still being read.
	Owned, Restoring []int32
	// Rebalances that changed this replica's shards.
	Rebalances uint64
	// LastRestore is how long the last restore took (assignment to owned);
	// Restores how many completed.
	LastRestore time.Duration
	Restores    uint64
	// DeferredWrites were left for a later poll by MaxWritesPerPoll.
	DeferredWrites uint64
}

// Stats returns the current view.
func (m *Member) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Group: m.opts.Group, Topic: m.opts.Topic, MemberID: m.memberID, Generation: m.generation, Partitions: m.parts,
		Owned: slices.Sorted(maps.Keys(m.ownedSet)), Restoring: slices.Sorted(maps.Keys(m.restoring)),
		Rebalances: m.rebalances, LastRestore: m.lastRest, Restores: m.restores, DeferredWrites: m.deferred}
}

var _ exporter.Owner = (*Member)(nil)

// Replica is one member of the replicas' group as the coordinator sees it.
type Replica struct {
	MemberID   string  `json:"member_id"`
	ClientID   string  `json:"client_id"`
	ClientHost string  `json:"client_host"`
	Shards     []int32 `json:"shards"`
	// Self marks this replica.
	Self bool `json:"self"`
}

// Replicas asks the group coordinator for the group's members and their
// shards (one DescribeGroups request).
func (m *Member) Replicas(ctx context.Context) ([]Replica, error) {
	if m.cl == nil {
		return nil, errors.New("ha: not started")
	}
	dg, err := kadm.NewClient(m.cl).DescribeGroups(ctx, m.opts.Group)
	if err != nil {
		return nil, fmt.Errorf("ha: describe group %s: %w", m.opts.Group, err)
	}
	g, ok := dg[m.opts.Group]
	if !ok {
		return nil, fmt.Errorf("ha: describe group %s: not in the answer", m.opts.Group)
	}
	if g.Err != nil {
		return nil, fmt.Errorf("ha: describe group %s: %w", m.opts.Group, g.Err)
	}
	self, _ := m.cl.GroupMetadata()
	out := make([]Replica, 0, len(g.Members))
	for _, mem := range g.Members {
		r := Replica{MemberID: mem.MemberID, ClientID: mem.ClientID, ClientHost: mem.ClientHost, Self: mem.MemberID == self, Shards: []int32{}}
		if c, ok := mem.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				if t.Topic == m.opts.Topic {
					r.Shards = append(r.Shards, t.Partitions...)
				}
			}
		}
		slices.Sort(r.Shards)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Replica) int {
		if a.MemberID < b.MemberID {
			return -1
		}
		if a.MemberID > b.MemberID {
			return 1
		}
		return 0
	})
	return out, nil
}

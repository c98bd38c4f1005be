package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/lag"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/exporter/status"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Source is one cluster's admin client: kafkaadmin.Client in production,
// a fake in tests.
type Source interface {
	// Name is the cluster name.
	Name() string
	// Snapshot performs one poll round.
	Snapshot(ctx context.Context) (*kafkaadmin.Snapshot, error)
}

// recordTimer is a Source that can also read record timestamps
// (kafkaadmin.Client): its clusters can have exact time lag
// (exporter/status, Trends.Apply). It is optional: the poll loop asserts it.
type recordTimer interface {
	RecordTimes(ctx context.Context, reqs []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int)
}

// Options configure the exporter.
type Options struct {
	// Config is the poll.* and shard.* options (config.go); the exporter
	// uses Poll (its caller applies InShard to the groups it polls).
	Config
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnResult, when set, is called after each poll with the new Result
	// (from the polling goroutine: it must not block).
	OnResult func(*result.Result)
	// Trends configure time lag and status (exporter/status): the
	// timelag.* and status.* options; the zero value is the defaults.
	Trends status.Config
	// Expiry is the committed-offset expiry tracker of the clusters
	// (exporter/expiry: its configuration, expected groups and state
	// file); nil: one with the defaults, in memory only (expiry_poll.go).
	Expiry *expiry.Tracker
	// Owner, when set, decides which groups and topics this replica
	// exports (owner.go, package ha); New registers with it to republish
	// when it loses some.
	Owner Owner
}

// Exporter polls clusters and publishes Results.
type Exporter struct {
	sources []Source
	opts    Options
	log     *slog.Logger

	mu       sync.Mutex
	clusters map[string]*clusterState
	latest   atomic.Pointer[result.Result]
}

// clusterState is what the exporter remembers about a cluster between
// polls. Guarded by Exporter.mu.
type clusterState struct {
	result   result.ClusterResult // the published one (immutable once published)
	requests map[string]uint64
	// failure is the ongoing failure, logged once when it starts or
	// changes and once when it clears (failure.go).
	failure failureLog
	// trends and carry are used by the cluster's poll only (never
	// concurrently).
	trends *status.Trends
	carry  *carry
}

// New returns an exporter for the given sources. It starts nothing.
func New(sources []Source, opts Options) (*Exporter, error) {
	if len(sources) == 0 {
		return nil, errors.New("no clusters")
	}
	if opts.Poll.Interval <= 0 {
		opts.Poll.Interval = defaultInterval
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Poll.Timeout <= 0 {
		opts.Poll.Timeout = opts.Poll.Interval
	}
	if opts.Poll.StaleAfter <= 0 {
		opts.Poll.StaleAfter = defaultStaleAfterPolls * opts.Poll.Interval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Trends == (status.Config{}) {
		opts.Trends.SetDefaults()
	}
	if err := opts.Trends.Validate(); err != nil {
		return nil, err
	}
	sources = limitPolls(sources, opts.Poll.MaxConcurrentClusters)
	e := &Exporter{sources: sources, opts: opts, log: opts.Logger.With("component", "exporter"),
		clusters: map[string]*clusterState{}}
	seen := map[string]bool{}
	for _, s := range sources {
		if seen[s.Name()] {
			return nil, fmt.Errorf("cluster %q configured twice", s.Name())
		}
		seen[s.Name()] = true
		e.clusters[s.Name()] = &clusterState{
			result:   result.ClusterResult{Name: s.Name(), Requests: map[string]uint64{}},
			requests: map[string]uint64{},
			trends:   status.NewTrends(opts.Trends, opts.Now),
			carry:    newCarry(opts.Poll.StaleAfter),
		}
	}
	if err := e.initExpiry(); err != nil {
		return nil, err
	}
	e.publish()
	if opts.Owner != nil {
		opts.Owner.OnLoss(e.republish)
	}
	return e, nil
}

// Latest returns the latest Result. It never blocks on Kafka.
func (e *Exporter) Latest() *result.Result { return e.latest.Load() }

// Run polls every cluster on its own goroutine until ctx ends. The first
// poll starts at once; a poll slower than the interval delays the next one
// (polls of a cluster never overlap or pile up).
func (e *Exporter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range e.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(e.opts.Poll.Interval)
			defer t.Stop()
			for {
				e.poll(ctx, s)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
	e.saveExpiry()
}

// PollAll polls every cluster once, in parallel, and returns the Result.
func (e *Exporter) PollAll(ctx context.Context) *result.Result {
	var wg sync.WaitGroup
	for _, s := range e.sources {
		wg.Add(1)
		go func() { defer wg.Done(); e.poll(ctx, s) }()
	}
	wg.Wait()
	return e.Latest()
}

// poll polls one cluster once and publishes the new Result.
func (e *Exporter) poll(ctx context.Context, s Source) {
	if ctx.Err() != nil {
		return
	}
	log := e.log.With("cluster_name", s.Name())
	pctx, cancel := context.WithTimeout(ctx, e.opts.Poll.Timeout)
	start := e.opts.Now()
	defer cancel()
	snap, err := s.Snapshot(pctx)
	end := e.opts.Now()
	if ctx.Err() != nil {
		return // shutting down: a cut-short poll is not a failure
	}

	// Compute outside the lock: the math is the expensive part. The
	// cluster's trends are only touched by its own (serial) polls.
	var topics []result.TopicResult
	var groups []result.GroupResult
	var expiry *expiryView
	phases := []result.PollPhase{{Phase: "requests", Duration: end.Sub(start)}}
	done := end
	var carried carryReport
	if snap != nil {
		phase := func(name string, t0 time.Time) time.Time {
			t := e.opts.Now()
			phases = append(phases, result.PollPhase{Phase: name, Duration: t.Sub(t0)})
			return t
		}
		// The expiry tracker judges the raw answer. It runs before lag,
		// the last reader of the answer's commits, which lets them go as it
		// goes (lag.Compute); the phases keep their documented
		// order.
		expiry = e.observeExpiry(s.Name(), snap, end)
		tExpiry := e.opts.Now()
		// What this poll could not read is carried from the last good
		// read (carry.go).
		var patched *kafkaadmin.Snapshot
		patched, carried = e.clusters[s.Name()].carry.patch(snap, end)
		patched.Groups = slices.Clone(patched.Groups) // ours to consume
		rest := *snap
		rest.Groups = nil // read no more: the answer's commits can go
		snap = &rest
		topics, groups = lag.Compute(patched)
		for i := range groups {
			groups[i].ReadAt = end
			if at, ok := carried.groups[groups[i].Name]; ok {
				groups[i].ReadAt = at
			}
		}
		tLag := e.opts.Now()
		phases = append(phases, result.PollPhase{Phase: "lag", Duration: tLag.Sub(tExpiry)},
			result.PollPhase{Phase: "expiry", Duration: tExpiry.Sub(done)})
		done = tLag
		if snap.Requests == nil {
			snap.Requests = map[string]int{}
		}
		var exact func(context.Context, []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int)
		if rt, ok := s.(recordTimer); ok {
			exact = rt.RecordTimes
		}
		tr := e.clusters[s.Name()].trends
		reqs, exactTook := tr.Apply(pctx, snap, groups, end, exact)
		for api, n := range reqs {
			snap.Requests[api] += n
		}
		done = phase("trends", done)
		phases[len(phases)-1].Duration -= exactTook
		phases = append(phases, result.PollPhase{Phase: "record_times", Duration: exactTook})
	}
	if took := done.Sub(start); e.opts.Poll.Interval > 0 && took > e.opts.Poll.Interval {
		log.Warn("poll took longer than the poll interval: polls run back to back and data is older than the interval",
			"duration", took, "interval", e.opts.Poll.Interval, "phases", phaseText(phases))
	}

	e.mu.Lock()
	st := e.clusters[s.Name()]
	prev := st.result
	cr := result.ClusterResult{
		Name:         s.Name(),
		LastPoll:     end,
		LastSuccess:  prev.LastSuccess,
		PollDuration: done.Sub(start),
		PollPhases:   phases,
		Polls:        prev.Polls + 1,
		PollErrors:   prev.PollErrors,
		Brokers:      prev.Brokers,
		Topics:       prev.Topics,
		Groups:       prev.Groups,
		OldestRead:   prev.OldestRead,

		OffsetsRetention:       prev.OffsetsRetention,
		OffsetsRetentionSource: prev.OffsetsRetentionSource,
		Expiry:                 prev.Expiry,
	}
	if expiry != nil {
		cr.OffsetsRetention, cr.OffsetsRetentionSource = expiry.Retention, expiry.RetentionSource
		cr.Expiry = expiry.Groups
	}
	if snap != nil {
		for api, n := range snap.Requests {
			st.requests[api] += uint64(n)
		}
	}
	cr.Requests = make(map[string]uint64, len(st.requests))
	for api, n := range st.requests {
		cr.Requests[api] = n
	}
	failure, failKey := describeFailure(err, snap)
	if snap != nil {
		// What this poll read is fresh, the rest carried (carry.go); up=0
		// tells that it is partial, OldestRead how old the data is.
		cr.Brokers, cr.Topics, cr.Groups = len(snap.Brokers), topics, groups
		cr.OldestRead = end
		if !carried.oldest.IsZero() {
			cr.OldestRead = carried.oldest
		}
	}
	cr.BrokerHealth = brokerHealth(snap, prev.BrokerHealth)
	if failure == "" {
		cr.Up, cr.LastSuccess = true, end
	} else {
		cr.LastError = failure
		cr.PollErrors++
	}
	st.result = cr
	note := st.failure.observe(failure, failKey, end)
	res := e.publishLocked()
	e.mu.Unlock()

	note.log(log, cr)
	if expiry != nil {
		expiry.LogEvents(log)
	}
	if e.opts.OnResult != nil {
		e.opts.OnResult(res)
	}
}

func (e *Exporter) publish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publishLocked()
}

func (e *Exporter) publishLocked() *result.Result {
	r := &result.Result{Generated: e.opts.Now(), Clusters: make([]result.ClusterResult, 0, len(e.clusters))}
	for _, st := range e.clusters {
		r.Clusters = append(r.Clusters, e.owned(st.result))
	}
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].Name < r.Clusters[j].Name })
	e.latest.Store(r)
	return r
}

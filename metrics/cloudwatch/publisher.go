package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/offsetlag/offsetlag/exporter"
)

// API is the part of the CloudWatch client the publisher uses.
type API interface {
	// PutMetricData publishes up to 1,000 datums of one namespace.
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Defaults of Options.
const (
	DefaultStorageResolution = 60
	DefaultMaxDatumsPerPoll  = 5000
	DefaultQueueSize         = 10
	DefaultConcurrency       = 4
	DefaultMaxAttempts       = 5
	DefaultMinBackoff        = 200 * time.Millisecond
	DefaultMaxBackoff        = 20 * time.Second
	DefaultRequestTimeout    = 15 * time.Second
)

// Options configure a Publisher. Exactly one of Client (PutMetricData) and
// EMF (Embedded Metric Format lines) is set.
type Options struct {
	Client API
	EMF    io.Writer

	// Namespace of every metric; DefaultNamespace when empty.
	Namespace string
	// StorageResolution is 60 (standard) or 1 (high resolution, billed
	// as such when alarms query it below a minute).
	StorageResolution int
	BuildOptions
	// MaxDatumsPerPoll is the datum budget of one cluster's poll (<= 0:
	// no budget); beyond it the lowest-priority datums are dropped.
	MaxDatumsPerPoll int
	// QueueSize is how many polls wait at most; when full, the oldest is
	// dropped.
	QueueSize int
	// Concurrency is the most PutMetricData requests in flight.
	Concurrency int
	// MaxAttempts per request (1: no retries); MinBackoff doubles per
	// retry up to MaxBackoff, with jitter.
	MaxAttempts            int
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one attempt.
	RequestTimeout time.Duration

	Logger *slog.Logger
}

// SetDefaults fills zero fields.
func (o *Options) SetDefaults() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.StorageResolution == 0 {
		o.StorageResolution = DefaultStorageResolution
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Publisher sends each poll's datums to CloudWatch in the background.
type Publisher struct {
	opts    Options
	log     *slog.Logger
	emf     *EMFWriter
	metrics *selfMetrics

	// abort ends every send: Stop's deadline passed.
	abortCtx context.Context
	abort    context.CancelFunc

	mu         sync.Mutex
	queue      []*pollBatch
	lastTS     map[string]time.Time // last published LastSuccess by cluster
	closed     bool                 // Stop called: Enqueue ignores
	dropping   bool                 // queue overflowing (log once)
	overBudget map[string]int       // datums dropped by budget at the last poll, by cluster
	notify     chan struct{}
	started    bool

	failMu  sync.Mutex
	failing bool // the last request failed (log once)

	sem     chan struct{}
	senders sync.WaitGroup
	done    chan struct{}
}

// pollBatch is one cluster poll's datums.
type pollBatch struct {
	cluster string
	datums  []Datum
}

// New returns a publisher. It makes no connection and starts nothing.
func New(opts Options) (*Publisher, error) {
	opts.SetDefaults()
	if (opts.Client == nil) == (opts.EMF == nil) {
		return nil, errors.New("cloudwatch: set exactly one of Client and EMF")
	}
	if opts.StorageResolution != 1 && opts.StorageResolution != 60 {
		return nil, fmt.Errorf("cloudwatch: storage resolution %d: want 1 or 60", opts.StorageResolution)
	}
	p := &Publisher{
		opts:       opts,
		log:        opts.Logger.With("component", "cloudwatch"),
		metrics:    newSelfMetrics(),
		lastTS:     map[string]time.Time{},
		overBudget: map[string]int{},
		notify:     make(chan struct{}, 1),
		sem:        make(chan struct{}, opts.Concurrency),
		done:       make(chan struct{}),
	}
	p.abortCtx, p.abort = context.WithCancel(context.Background())
	if opts.EMF != nil {
		p.emf = NewEMFWriter(opts.EMF, opts.Namespace, int32(opts.StorageResolution))
	}
	return p, nil
}

// Start starts the dispatcher. Call it once.
func (p *Publisher) Start() {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.mu.Unlock()
	go p.run()
}

// Enqueue queues the clusters of r whose last successful poll has not been
// published yet. It never blocks: it may be called from the polling
// goroutine (exporter.Options.OnResult). When the queue is full, the oldest
// poll is dropped and counted.
func (p *Publisher) Enqueue(r *exporter.Result) {
	if r == nil {
		return
	}
	var fresh []*exporter.ClusterResult
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	for i := range r.Clusters {
		cr := &r.Clusters[i]
		if cr.LastSuccess.IsZero() || !cr.LastSuccess.After(p.lastTS[cr.Name]) {
			continue
		}
		p.lastTS[cr.Name] = cr.LastSuccess
		fresh = append(fresh, cr)
	}
	p.mu.Unlock()

	for _, cr := range fresh {
		b := p.build(cr)
		p.push(b)
	}
}

// build makes one cluster's batch: valid datums within the budget.
func (p *Publisher) build(cr *exporter.ClusterResult) *pollBatch {
	all := Build(cr, p.opts.BuildOptions)
	ds := all[:0]
	invalid := 0
	for i := range all {
		if valid(&all[i]) {
			ds = append(ds, all[i])
		} else {
			invalid++
		}
	}
	if invalid > 0 {
		p.metrics.dropped.WithLabelValues(reasonInvalid).Add(float64(invalid))
		p.log.Debug("datums CloudWatch would reject left out", "cluster_name", cr.Name, "count", invalid)
	}
	kept, over := applyBudget(ds, p.opts.MaxDatumsPerPoll)
	if over > 0 {
		p.metrics.dropped.WithLabelValues(reasonBudget).Add(float64(over))
	}
	p.mu.Lock()
	prev := p.overBudget[cr.Name]
	p.overBudget[cr.Name] = over
	p.mu.Unlock()
	switch {
	case over > 0 && over != prev:
		p.log.Warn("poll exceeds the CloudWatch datum budget; dropping the lowest-priority datums (per-partition first)",
			"cluster_name", cr.Name, "datums", len(ds), "budget", p.opts.MaxDatumsPerPoll, "dropped", over)
	case over == 0 && prev > 0:
		p.log.Info("poll within the CloudWatch datum budget again", "cluster_name", cr.Name, "datums", len(ds))
	}
	return &pollBatch{cluster: cr.Name, datums: kept}
}

func (p *Publisher) push(b *pollBatch) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.metrics.dropped.WithLabelValues(reasonShutdown).Add(float64(len(b.datums)))
		return
	}
	p.queue = append(p.queue, b)
	var old *pollBatch
	if len(p.queue) > p.opts.QueueSize {
		old = p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
	}
	startDropping := old != nil && !p.dropping
	if old != nil {
		p.dropping = true
	}
	p.metrics.queueLength.Set(float64(len(p.queue)))
	p.mu.Unlock()
	if old != nil {
		p.metrics.dropped.WithLabelValues(reasonQueueFull).Add(float64(len(old.datums)))
		p.metrics.pollsDropped.Inc()
	}
	if startDropping {
		p.log.Warn("CloudWatch publishing falls behind; dropping the oldest queued polls",
			"queue_size", p.opts.QueueSize, "cluster_name", old.cluster)
	}
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// pop returns the oldest queued batch, waiting for one; ok is false when
// stopping and the queue is empty.
func (p *Publisher) pop() (*pollBatch, bool) {
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			b := p.queue[0]
			p.queue[0] = nil
			p.queue = p.queue[1:]
			if len(p.queue) == 0 {
				p.queue = nil
				p.dropping = false
			}
			p.metrics.queueLength.Set(float64(len(p.queue)))
			p.mu.Unlock()
			return b, true
		}
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return nil, false
		}
		<-p.notify
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	defer p.senders.Wait()
	for {
		b, ok := p.pop()
		if !ok {
			return
		}
		if p.abortCtx.Err() != nil {
			p.metrics.dropped.WithLabelValues(reasonShutdown).Add(float64(len(b.datums)))
			continue
		}
		p.dispatch(b)
	}
}

// dispatch sends one batch: EMF in one write, API in chunks on up to
// Concurrency goroutines. It returns once every chunk has a sender, so a
// slow endpoint backs the queue up (and the queue drops the oldest).
func (p *Publisher) dispatch(b *pollBatch) {
	if len(b.datums) == 0 {
		return
	}
	if p.emf != nil {
		start := time.Now()
		err := p.emf.Write(b.datums)
		p.metrics.duration.Observe(time.Since(start).Seconds())
		p.account(len(b.datums), err)
		return
	}
	for _, c := range chunk(b.datums, p.opts.Namespace, MaxDatumsPerRequest, MaxRequestBytes) {
		select {
		case p.sem <- struct{}{}:
		case <-p.abortCtx.Done():
			p.metrics.dropped.WithLabelValues(reasonShutdown).Add(float64(len(c)))
			continue
		}
		p.senders.Add(1)
		go func() {
			defer func() { <-p.sem; p.senders.Done() }()
			p.account(len(c), p.send(c))
		}()
	}
}

// account counts a finished request and logs a change between success and
// failure once.
func (p *Publisher) account(n int, err error) {
	if err == nil {
		p.metrics.sent.Add(float64(n))
	} else {
		p.metrics.failed.Add(float64(n))
	}
	p.failMu.Lock()
	was := p.failing
	p.failing = err != nil
	p.failMu.Unlock()
	switch {
	case err != nil && !was:
		p.log.Warn("publishing to CloudWatch failed; polling continues", "err", err, "datums", n)
	case err != nil:
		p.log.Debug("publishing to CloudWatch failed", "err", err, "datums", n)
	case was:
		p.log.Info("publishing to CloudWatch works again")
	}
}

// noSDKRetries turns the SDK's own retries off: send retries itself.
func noSDKRetries(o *cloudwatch.Options) {
	o.Retryer = aws.NopRetryer{}
	o.RetryMaxAttempts = 0
}

// send puts one chunk, retrying throttling, 5xx, network errors and
// attempt timeouts with exponential backoff and jitter.
func (p *Publisher) send(ds []Datum) error {
	in := &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String(p.opts.Namespace),
		MetricData: toSDK(ds, int32(p.opts.StorageResolution)),
	}
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(p.abortCtx, p.opts.RequestTimeout)
		start := time.Now()
		_, err := p.opts.Client.PutMetricData(ctx, in, noSDKRetries)
		cancel()
		p.metrics.duration.Observe(time.Since(start).Seconds())
		if err == nil {
			return nil
		}
		if p.abortCtx.Err() != nil {
			return fmt.Errorf("put metric data: abandoned at shutdown: %w", err)
		}
		if !retryable(err) {
			return fmt.Errorf("put metric data: %w", err)
		}
		if attempt >= p.opts.MaxAttempts {
			return fmt.Errorf("put metric data: %d attempts: %w", attempt, err)
		}
		p.metrics.retries.Inc()
		p.log.Debug("retrying PutMetricData", "attempt", attempt, "err", err)
		t := time.NewTimer(backoff(attempt, p.opts.MinBackoff, p.opts.MaxBackoff))
		select {
		case <-t.C:
		case <-p.abortCtx.Done():
			t.Stop()
			return fmt.Errorf("put metric data: abandoned at shutdown: %w", err)
		}
	}
}

var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// retryable reports whether err is worth another attempt: throttling,
// 5xx, connection errors and an attempt's own timeout; not a validation
// error.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true // the attempt's timeout (Stop's abort is checked first)
	}
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

// backoff is the wait before retry number attempt (1 = first retry): the
// exponential delay min*2^(attempt-1) capped at max, of which a random half
// is taken off ("equal jitter": it still grows, but retries spread out).
func backoff(attempt int, minB, maxB time.Duration) time.Duration {
	d := maxB
	if attempt < 32 {
		if e := minB << (attempt - 1); e > 0 && e < maxB {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Stop stops accepting polls and flushes the queue until ctx ends; then it
// abandons what is left (counted as dropped, reason shutdown, or failed when
// in flight). It returns ctx's error when the flush was cut short.
func (p *Publisher) Stop(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	started := p.started
	p.started = true
	p.mu.Unlock()
	if !started {
		close(p.done)
	}
	select {
	case p.notify <- struct{}{}:
	default:
	}
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		err = fmt.Errorf("cloudwatch flush: %w", ctx.Err())
		p.abort()
		<-p.done
	}
	p.abort()
	// Whatever is still queued (not started) is dropped.
	p.mu.Lock()
	left := 0
	for _, b := range p.queue {
		left += len(b.datums)
	}
	p.queue = nil
	p.metrics.queueLength.Set(0)
	p.mu.Unlock()
	if left > 0 {
		p.metrics.dropped.WithLabelValues(reasonShutdown).Add(float64(left))
	}
	return err
}

// Namespace is the namespace the publisher writes to.
func (p *Publisher) Namespace() string { return p.opts.Namespace }

package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/middleware"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/backoff"
	"github.com/offsetlag/offsetlag/internal/settings"
)

// API is the part of the CloudWatch client the publisher uses.
type API interface {
	// PutMetricData publishes up to 1,000 datums of one namespace.
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Defaults of the Options that are not in Config.
const (
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 20 * time.Second
)

// Options configure a Publisher: its Config and what the program adds.
// Exactly one of Client (PutMetricData) and EMF (Embedded Metric Format
// lines) is set. A Config field left zero where zero is not valid gets its
// default (Config.SetDefaults).
type Options struct {
	Config

	Client API
	EMF    io.Writer

	// ClusterNames maps an exporter cluster name to its Cluster Name
	// dimension value (e.g. the MSK cluster name); unlisted clusters use
	// their own name.
	ClusterNames map[string]string
	// RateWindow is the shortest interval a partition's consume rate is
	// measured over (EstimatedTimeLag); DefaultRateWindow when 0.
	RateWindow time.Duration
	// MinBackoff doubles per retry up to MaxBackoff, with jitter.
	MinBackoff, MaxBackoff time.Duration

	Logger *slog.Logger
}

// SetDefaults fills zero fields.
func (o *Options) SetDefaults() {
	settings.FillZero(&o.Config, DefaultConfig())
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
}

// Publisher sends the latest Result's datums to CloudWatch in the
// background.
type Publisher struct {
	opts    Options
	log     *slog.Logger
	emf     *EMFWriter
	metrics *selfMetrics

	// abort ends every send: Stop's deadline passed.
	abortCtx context.Context
	abort    context.CancelFunc
	// retryer retries PutMetricData (the SDK's standard retryer, see newRetryer).
	retryer aws.Retryer

	// pubMu serializes publishing (building, rates, budget, logs).
	pubMu       sync.Mutex
	latest      *result.Result
	lastTS      map[string]time.Time // last published LastSuccess by cluster
	observedTS  map[string]time.Time // last poll fed to the rate tracker, by cluster
	rates       *rateTracker
	cutKey      string          // what the budget cut at the last publish (log on change)
	mapped      map[string]bool // dimension values already logged as mapped or dropped
	mapCache    map[string]string
	rejectedLog map[string]bool // groups already logged as rejected
	// rejectedIDs are datums CloudWatch rejected on their own (by
	// identity): later publishes leave them out instead of bisecting
	// again; forgotten every hour (rejectedEpoch) to check again.
	rejectedIDs   map[string]bool
	rejectedEpoch int64
	// hourMetrics are the distinct metrics published in the current clock
	// hour (what CloudWatch bills for the hour), tracked with a budget.
	hourMetrics map[string]struct{}

	mu       sync.Mutex
	queue    []*pollBatch
	closed   bool // Stop called: Enqueue ignores
	dropping bool // queue overflowing (log once)
	notify   chan struct{}
	started  bool
	stopTick chan struct{}
	stopOnce sync.Once
	ticking  sync.WaitGroup

	failMu  sync.Mutex
	failing bool // the last request failed (log once)

	sem     chan struct{}
	senders sync.WaitGroup
	done    chan struct{}
}

// pollBatch is one publish's datums.
type pollBatch struct {
	clusters string
	datums   []Datum
}

// New returns a publisher. It makes no connection and starts nothing.
func New(opts Options) (*Publisher, error) {
	opts.SetDefaults()
	if (opts.Client == nil) == (opts.EMF == nil) {
		return nil, errors.New("cloudwatch: set exactly one of Client and EMF")
	}
	if err := settings.Check(&opts.Config, "cloudwatch: "); err != nil {
		return nil, err
	}
	p := &Publisher{
		opts:        opts,
		log:         opts.Logger.With("component", "cloudwatch"),
		metrics:     newSelfMetrics(),
		lastTS:      map[string]time.Time{},
		observedTS:  map[string]time.Time{},
		rates:       newRateTracker(opts.RateWindow),
		mapped:      map[string]bool{},
		mapCache:    map[string]string{},
		rejectedLog: map[string]bool{},
		rejectedIDs: map[string]bool{},
		hourMetrics: map[string]struct{}{},
		notify:      make(chan struct{}, 1),
		stopTick:    make(chan struct{}),
		sem:         make(chan struct{}, opts.Concurrency),
		done:        make(chan struct{}),
	}
	p.abortCtx, p.abort = context.WithCancel(context.Background())
	p.retryer = newRetryer(&p.opts)
	if opts.EMF != nil {
		p.emf = NewEMFWriter(opts.EMF, opts.Namespace, int32(opts.StorageResolution))
	}
	return p, nil
}

// Start starts the dispatcher (and, with a PublishPeriod, the publish
// ticker). Call it once.
func (p *Publisher) Start() {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.mu.Unlock()
	go p.run()
	if p.opts.PublishPeriod > 0 {
		p.ticking.Add(1)
		go p.tick()
	}
}

func (p *Publisher) tick() {
	defer p.ticking.Done()
	t := time.NewTicker(p.opts.PublishPeriod)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.publishLatest()
		case <-p.stopTick:
			return
		}
	}
}

// Enqueue takes a new Result. It never blocks: it may be called from the
// polling goroutine (exporter.Options.OnResult). Without a PublishPeriod
// it publishes the clusters of r whose last successful poll has not been
// published yet at once; with one, the next tick publishes the latest
// Result. When the queue is full, the oldest publish is dropped and
// counted.
func (p *Publisher) Enqueue(r *result.Result) {
	if r == nil {
		return
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return
	}
	p.pubMu.Lock()
	p.latest = r
	p.observe(r)
	p.pubMu.Unlock()
	if p.opts.PublishPeriod == 0 {
		p.publishLatest()
	}
}

// observe feeds each cluster's new successful poll to the rate tracker
// (pubMu held).
func (p *Publisher) observe(r *result.Result) {
	for i := range r.Clusters {
		cr := &r.Clusters[i]
		if cr.LastSuccess.IsZero() || !cr.LastSuccess.After(p.observedTS[cr.Name]) {
			continue
		}
		p.observedTS[cr.Name] = cr.LastSuccess
		p.rates.observe(cr)
	}
}

// publishLatest builds one batch of the latest Result's clusters whose
// last successful poll was not published yet, within the budget, and
// queues it.
func (p *Publisher) publishLatest() {
	p.pubMu.Lock()
	r := p.latest
	if r == nil {
		p.pubMu.Unlock()
		return
	}
	var all []Datum
	var names []string
	for i := range r.Clusters {
		cr := &r.Clusters[i]
		if cr.LastSuccess.IsZero() || !cr.LastSuccess.After(p.lastTS[cr.Name]) {
			continue
		}
		p.lastTS[cr.Name] = cr.LastSuccess
		names = append(names, cr.Name)
		all = append(all, Build(cr, BuildOptions{
			PartitionMetrics: p.opts.PartitionMetrics,
			ClusterName:      p.opts.ClusterNames[cr.Name],
			ConsumeRate:      p.rates.rate(cr.Name),
		})...)
	}
	if len(names) == 0 {
		p.pubMu.Unlock()
		return
	}
	hour := time.Now().Unix() / 3600
	if hour != p.rejectedEpoch {
		p.rejectedEpoch, p.rejectedIDs, p.hourMetrics = hour, map[string]bool{}, map[string]struct{}{}
	}
	ds := p.sanitize(all)
	kept, cut := applyBudget(ds, p.opts.MaxMetrics, hour)
	if len(cut) > 0 {
		p.metrics.dropped.WithLabelValues(reasonBudget).Add(float64(len(cut)))
	}
	summary, key := cutSummary(cut)
	switch {
	case key != "" && key != p.cutKey:
		p.log.Warn("CloudWatch metric budget exceeded; dropping the lowest-priority metrics (partition, then optional, then group+topic; within a level the smallest lag)",
			"metrics", len(ds), "budget", p.opts.MaxMetrics, "dropped", len(cut), "cut", summary)
	case key != "":
		p.log.Debug("CloudWatch metric budget exceeded", "metrics", len(ds), "dropped", len(cut), "cut", summary)
	case p.cutKey != "":
		p.log.Info("CloudWatch metrics within the budget again", "metrics", len(ds), "budget", p.opts.MaxMetrics)
	}
	p.cutKey = key
	p.metrics.published.Set(float64(len(kept)))
	if p.opts.MaxMetrics > 0 {
		for i := range kept {
			p.hourMetrics[identity(&kept[i])] = struct{}{}
		}
		p.metrics.hourMetrics.Set(float64(len(p.hourMetrics)))
	}
	p.pubMu.Unlock()
	p.push(&pollBatch{clusters: strings.Join(names, ","), datums: kept})
}

// sanitize leaves out datums CloudWatch would reject (NaN or Inf), and maps
// (or, with InvalidNames drop, leaves out) datums whose dimension values
// it would reject, counting them and logging each value once (pubMu held).
func (p *Publisher) sanitize(all []Datum) []Datum {
	ds := all[:0]
	invalid, mapped, droppedName := 0, 0, 0
	for i := range all {
		d := all[i]
		if !finite(d.Value) {
			invalid++
			continue
		}
		ok := true
		for j, dim := range d.Dimensions {
			if ValidDimensionValue(dim.Value) {
				continue
			}
			logKey := dim.Name + "\x00" + dim.Value
			if p.opts.InvalidNames == InvalidNamesDrop {
				if !p.mapped[logKey] && len(p.mapped) < maxLogged {
					p.mapped[logKey] = true
					p.log.Warn("CloudWatch would reject this dimension value (it must be 1 to 1,024 printable ASCII characters, not only spaces); its metrics are not published",
						"dimension", dim.Name, "value", dim.Value)
				}
				ok = false
				break
			}
			m, hit := p.mapCache[dim.Value]
			if !hit {
				m = MapDimensionValue(dim.Value)
				if len(p.mapCache) < maxLogged {
					p.mapCache[dim.Value] = m
				}
			}
			if !p.mapped[logKey] && len(p.mapped) < maxLogged {
				p.mapped[logKey] = true
				p.log.Warn("CloudWatch would reject this dimension value (it must be 1 to 1,024 printable ASCII characters, not only spaces); publishing it under a mapped value",
					"dimension", dim.Name, "value", dim.Value, "published_as", m)
			}
			if &d.Dimensions[0] == &all[i].Dimensions[0] {
				// Copy: the slice is shared by several datums.
				d.Dimensions = append([]Dimension(nil), d.Dimensions...)
			}
			d.Dimensions[j].Value = m
			mapped++
		}
		if !ok {
			droppedName++
			continue
		}
		if len(p.rejectedIDs) > 0 && p.rejectedIDs[identity(&d)] {
			p.metrics.dropped.WithLabelValues(reasonRejected).Inc()
			continue
		}
		if mapped > 0 {
			p.metrics.mapped.Inc()
			mapped = 0
		}
		ds = append(ds, d)
	}
	if invalid > 0 {
		p.metrics.dropped.WithLabelValues(reasonInvalid).Add(float64(invalid))
	}
	if droppedName > 0 {
		p.metrics.dropped.WithLabelValues(reasonInvalidName).Add(float64(droppedName))
	}
	return ds
}

// identity is a datum's metric identity: name and dimensions.
func identity(d *Datum) string {
	var b strings.Builder
	b.WriteString(d.Name)
	for _, dim := range d.Dimensions {
		b.WriteByte(0)
		b.WriteString(dim.Name)
		b.WriteByte(0)
		b.WriteString(dim.Value)
	}
	return b.String()
}

// maxLogged bounds the sets of values logged once.
const maxLogged = 10_000

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
		p.log.Warn("CloudWatch publishing falls behind; dropping the oldest queued publishes",
			"queue_size", p.opts.QueueSize, "cluster_name", old.clusters)
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
		if err != nil {
			p.account(0, len(b.datums), err)
		} else {
			p.account(len(b.datums), 0, nil)
		}
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
			p.account(p.sendSplit(c))
		}()
	}
}

// account counts a finished request and logs a change between success and
// failure once.
func (p *Publisher) account(sent, failed int, err error) {
	p.metrics.sent.Add(float64(sent))
	p.metrics.failed.Add(float64(failed))
	p.failMu.Lock()
	was := p.failing
	p.failing = err != nil
	p.failMu.Unlock()
	switch {
	case err != nil && !was:
		p.log.Warn("publishing to CloudWatch failed; polling continues", "err", err, "datums", failed)
	case err != nil:
		p.log.Debug("publishing to CloudWatch failed", "err", err, "datums", failed)
	case was:
		p.log.Info("publishing to CloudWatch works again")
	}
}

// sendSplit puts one chunk; when CloudWatch rejects the request as invalid
// (a 400 other than throttling, or 413), it splits the chunk in halves and
// puts each (bisecting down to the bad datums), so one datum CloudWatch
// rejects never costs the others. A single rejected datum is dropped
// (reason rejected) and its group logged once. It returns the datums sent
// and failed, and the last error of a failed request.
func (p *Publisher) sendSplit(ds []Datum) (sent, failed int, err error) {
	err = p.send(ds)
	if err == nil {
		return len(ds), 0, nil
	}
	if !splittable(err) || p.abortCtx.Err() != nil {
		return 0, len(ds), err
	}
	if len(ds) == 1 {
		p.rejected(&ds[0], err)
		return 0, 0, nil
	}
	p.metrics.splits.Inc()
	half := len(ds) / 2
	s1, f1, e1 := p.sendSplit(ds[:half])
	s2, f2, e2 := p.sendSplit(ds[half:])
	if e2 == nil {
		e2 = e1
	}
	return s1 + s2, f1 + f2, e2
}

// rejected counts a datum CloudWatch rejected on its own, remembers it
// (later publishes leave it out for the rest of the hour) and logs its
// group (or cluster) once.
func (p *Publisher) rejected(d *Datum, err error) {
	p.metrics.dropped.WithLabelValues(reasonRejected).Inc()
	var who []any
	key := ""
	for _, dim := range d.Dimensions {
		switch dim.Name {
		case DimClusterName:
			who = append(who, "cluster_name", dim.Value)
			key += dim.Value
		case DimConsumerGroup:
			who = append(who, "group", dim.Value)
			key += "\x00" + dim.Value
		}
	}
	p.pubMu.Lock()
	first := !p.rejectedLog[key] && len(p.rejectedLog) < maxLogged
	if first {
		p.rejectedLog[key] = true
	}
	if len(p.rejectedIDs) < maxLogged {
		p.rejectedIDs[identity(d)] = true
	}
	p.pubMu.Unlock()
	if first {
		p.log.Warn("CloudWatch rejected the metrics of a group; the other datums of the request were published",
			append(who, "metric", d.Name, "err", err)...)
	}
}

// splittable reports whether a failed request may succeed in parts: a
// validation error (HTTP 400 that is not throttling) or a body too large
// (413); not an authorization error or a retryable one.
func splittable(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) {
		return false
	}
	switch re.HTTPStatusCode() {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return !retryable(err)
	}
	return false
}

// retryables: the SDK's default classification (throttling, 5xx, connection
// errors), and an attempt's own timeout (attemptTimedOut) first, because the
// SDK counts a context error as a cancellation it never retries.
var retryables = retry.IsErrorRetryables(append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(attemptTimedOut)},
	retry.DefaultRetryables...))

// attemptTimedOut: an attempt that ran out of RequestTimeout (see
// attemptMiddleware) is worth another; the publisher's own context has no
// deadline, so a deadline error is always an attempt's (Stop's abort is a
// cancellation, checked by send).
func attemptTimedOut(err error) aws.Ternary {
	if errors.Is(err, context.DeadlineExceeded) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// retryable reports whether err is worth another attempt: throttling,
// 5xx, connection errors and an attempt's own timeout; not a validation
// error.
func retryable(err error) bool {
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

// newRetryer is the SDK's standard retryer with the publisher's options:
// MaxAttempts per request, the backoff.Exponential wait from MinBackoff to
// MaxBackoff with equal jitter, the retryables above, and no retry quota
// (the token bucket would stop all retries after a long outage; the queue
// already bounds what waits).
func newRetryer(o *Options) aws.Retryer {
	wait := backoff.Exponential{Min: o.MinBackoff, Max: o.MaxBackoff}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return wait.Jittered(attempt), nil
		})
		so.Retryables = []retry.IsErrorRetryable{retryables}
		so.RateLimiter = ratelimit.None
	})
}

// attemptMiddleware runs inside the SDK's retry loop (right after its Retry
// middleware), once per attempt of one PutMetricData call: it bounds the
// attempt by RequestTimeout, observes its duration, and counts every attempt
// after the first as a retry.
type attemptMiddleware struct {
	p       *Publisher
	n       int   // attempts started in this call
	lastErr error // the previous attempt's error
}

func (*attemptMiddleware) ID() string { return "OffsetlagAttempt" }

func (m *attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	m.n++
	if m.n > 1 {
		m.p.metrics.retries.Inc()
		m.p.log.Debug("retrying PutMetricData", "attempt", m.n, "err", m.lastErr)
	}
	ctx, cancel := context.WithTimeout(ctx, m.p.opts.RequestTimeout)
	defer cancel()
	start := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	m.p.metrics.duration.Observe(time.Since(start).Seconds())
	m.lastErr = err
	return out, md, err
}

// send puts one chunk. Throttling, 5xx, network errors and attempt
// timeouts are retried by the SDK's standard retryer (newRetryer), with
// exponential backoff and jitter; attemptMiddleware bounds, times and counts
// the attempts.
func (p *Publisher) send(ds []Datum) error {
	in := &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String(p.opts.Namespace),
		MetricData: toSDK(ds, int32(p.opts.StorageResolution)),
	}
	attempts := &attemptMiddleware{p: p}
	_, err := p.opts.Client.PutMetricData(p.abortCtx, in, func(o *cloudwatch.Options) {
		o.Retryer = p.retryer
		o.RetryMaxAttempts = 0 // else the client would wrap the retryer with its own count
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Insert(attempts, "Retry", middleware.After)
		})
	})
	switch {
	case err == nil:
		return nil
	case p.abortCtx.Err() != nil:
		return fmt.Errorf("put metric data: abandoned at shutdown: %w", err)
	}
	return fmt.Errorf("put metric data: %w", err)
}

// Stop stops accepting polls and flushes the queue until ctx ends; then it
// abandons what is left (counted as dropped, reason shutdown, or failed when
// in flight). It returns ctx's error when the flush was cut short.
func (p *Publisher) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		close(p.stopTick)
		p.ticking.Wait()
		// With a PublishPeriod, the latest Result may not be published
		// yet: publish it now.
		p.publishLatest()
	})
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

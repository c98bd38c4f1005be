package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/httpapi"
	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/internal/statuspage"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// DefaultShutdownTimeout is the shutdown budget when
// cloudwatch.flush-timeout is 0 (no flush): the polls and the HTTP
// requests in flight still get this long to finish.
const DefaultShutdownTimeout = time.Second

// A Component runs beside the polls, e.g. HA membership. Start is called
// before the first poll and returns once the component is ready (it may
// connect; ctx ends when the application stops). Stop is called after the
// last poll returned and before the Kafka clients close, with the shutdown
// deadline; it releases what Start took. A Component that can fail while
// running also implements Failer.
type Component interface {
	Name() string
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Failer is a Component that reports a failure while running: an error
// received from Failed stops the application (polls first), like a failing
// HTTP server, and Run returns it.
type Failer interface {
	Failed() <-chan error
}

// Options are what differs between the binaries; everything else comes
// from the appconfig.Config.
type Options struct {
	// Logger receives every component's logs.
	Logger *slog.Logger
	// Stdout receives the EMF lines of cloudwatch.emf-output stdout
	// (os.Stdout when nil).
	Stdout io.Writer
	// Registry holds collectors served on the telemetry path beside the
	// lag families (the demo's worker metrics); the version, Go and
	// process collectors and the CloudWatch self-metrics are added to it.
	// A new registry when nil.
	Registry *prometheus.Registry
	// Title and Refresh of the status page (statuspage defaults when
	// zero).
	Title   string
	Refresh time.Duration
	// Components start before the polls and stop after them, in reverse
	// order.
	Components []Component
	// IncludeGroup, when set, further restricts the groups this process
	// polls and exports (e.g. the groups an HA replica owns); like
	// shard.index it applies to expected and discovered groups too. It is
	// called from the polling goroutines: safe for concurrent use, no I/O.
	IncludeGroup func(group string) bool
	// OnResult are more sinks called with every new Result after the
	// built-in ones; each must not block.
	OnResult []func(*result.Result)
}

// App is a configured exporter process. New it, then Run it once.
type App struct {
	cfg  *appconfig.Config
	opts Options
	log  *slog.Logger

	clients   []*kafkaadmin.Client
	exp       *exporter.Exporter
	cw        *cloudWatch
	esm       *lambdaESM
	rep       *replicas // HA membership (--ha.enabled), nil when off
	listeners []net.Listener
	servers   []*http.Server // one per listener: the toolkit's Serve mutates its server
	webFlags  *web.FlagConfig
	// components are the HA membership (when on) and Options.Components.
	components []Component
	shutdown   time.Duration

	ran   atomic.Bool
	hooks hooks
}

// hooks are test seams: wrapSource wraps each cluster's client as the
// exporter sees it, closed is called once the clients are closed (to
// observe polls against Close).
type hooks struct {
	wrapSource func(exporter.Source) exporter.Source
	closed     func()
}

// New builds the application from a validated configuration and opens the
// listen sockets; it starts no poll. On error nothing stays open.
func New(ctx context.Context, cfg *appconfig.Config, opts Options) (*App, error) {
	return newApp(ctx, cfg, opts, hooks{})
}

func newApp(ctx context.Context, cfg *appconfig.Config, opts Options, h hooks) (_ *App, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	logger := opts.Logger
	a := &App{cfg: cfg, opts: opts, log: logger, shutdown: cfg.CloudWatch.FlushTimeout, hooks: h}
	if a.shutdown <= 0 {
		a.shutdown = DefaultShutdownTimeout
	}
	defer func() {
		if err != nil {
			a.release()
		}
	}()

	groups, err := cfg.Groups.Compile("groups")
	if err != nil {
		return nil, err
	}
	topics, err := cfg.Topics.Compile("topics")
	if err != nil {
		return nil, err
	}
	// Expected groups are polled even when the groups filter leaves them
	// out: they are watched by name.
	expected := map[string]bool{}
	for _, eg := range cfg.Expiry.ExpectedGroups {
		expected[eg.Group] = true
	}
	// Groups of discovered Lambda event source mappings likewise.
	if a.esm, err = newLambdaESM(ctx, cfg, logger); err != nil {
		return nil, err
	}
	// With --shard.count > 1 (or an IncludeGroup) this process polls only
	// its own groups.
	shard := cfg.Exporter.Shard
	own := cfg.Exporter.InShard
	if opts.IncludeGroup != nil {
		own = func(g string) bool { return cfg.Exporter.InShard(g) && opts.IncludeGroup(g) }
	}
	includeGroup := func(g string) bool { return own(g) && (expected[g] || a.esm.hasGroup(g) || groups(g)) }
	if shard.Count > 1 {
		logger.Info("sharding groups", "shard_index", shard.Index, "shard_count", shard.Count)
	}
	// With --ha.enabled this replica polls the groups of the shards it owns.
	if a.rep, err = newReplicas(cfg, logger); err != nil {
		return nil, err
	}
	tracker, err := a.newTracker(includeGroup, own)
	if err != nil {
		return nil, err
	}
	sources, err := a.newSources(includeGroup, topics, h.wrapSource)
	if err != nil {
		return nil, err
	}
	if a.cw, err = newCloudWatch(ctx, cfg, opts.Stdout, logger); err != nil {
		return nil, err
	}
	latest := func() *result.Result { return a.exp.Latest() }
	pageOpts := statuspage.Options{Title: opts.Title, Refresh: opts.Refresh, Version: version.Version,
		Links: []statuspage.Link{
			{Href: cfg.Web.TelemetryPath, Text: "Metrics"},
			{Href: "/healthz", Text: "Health"},
			{Href: "/readyz", Text: "Readiness"},
		}}
	if a.rep != nil {
		// HA replicas: the header names this replica as the owner of the
		// groups shown; the footer links every replica's shards.
		pageOpts.Links = append(pageOpts.Links, statuspage.Link{Href: "/api/v1/replicas", Text: "API: replicas"})
		pageOpts.Replica = a.rep.describe
	}
	page, err := statuspage.New(latest, pageOpts)
	if err != nil {
		return nil, err
	}
	// The /metrics exposition is rendered once per Result, when it is
	// published (collector.OnResult), and shared by every scrape.
	collector := metrics.NewCollector(latest, metrics.Options{Granularity: metrics.Granularity(cfg.Metrics.Granularity),
		Enums: metrics.Enums(cfg.Metrics.Enums), Compat: metrics.Compat(cfg.Metrics.Compat)})
	sinks := append([]func(*result.Result){a.cw.onResult(), page.Record, a.esm.onResult(), collector.OnResult}, opts.OnResult...)
	a.exp, err = exporter.New(sources, exporter.Options{
		Config: cfg.Exporter, Logger: logger,
		Trends: cfg.Trends, OnResult: onResults(sinks...),
		Expiry: tracker, Owner: a.rep.owner(),
	})
	if err != nil {
		return nil, err
	}
	if a.rep != nil {
		a.rep.target = tracker
	}
	// The HA membership starts before the polls and leaves after them, as
	// the first Component.
	a.components = append(a.rep.components(), opts.Components...)

	// The lag families are written straight to text from the latest Result
	// (a registry scrape of a million series takes tens of seconds); the
	// process families come from a small registry beside them.
	reg := opts.Registry
	for _, c := range append([]prometheus.Collector{versioncollector.NewCollector("offsetlag"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})},
		append(a.cw.collectors(), a.rep.collectors()...)...) {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, fmt.Errorf("register collector: %w", err)
		}
	}
	mux, err := httpapi.NewMux(latest, collector.Handler(reg), httpapi.Options{TelemetryPath: cfg.Web.TelemetryPath,
		Version: version.Info(), StatusPage: page})
	if err != nil {
		return nil, err
	}
	mux.Handle("/api/v1/replicas", a.rep.handler())
	if err := a.listen(mux); err != nil {
		return nil, err
	}
	return a, nil
}

// newSources makes one Kafka admin client per cluster.
func (a *App) newSources(includeGroup, includeTopic func(string) bool, wrap func(exporter.Source) exporter.Source) ([]exporter.Source, error) {
	var sources []exporter.Source
	for _, cl := range a.cfg.ClusterList() {
		kc := cl.Admin()
		kc.IncludeGroup, kc.IncludeTopic = a.rep.owns(cl.Name, includeGroup), includeTopic
		c, err := kafkaadmin.New(kc, a.log)
		if err != nil {
			return nil, err
		}
		a.clients = append(a.clients, c)
		var s exporter.Source = c
		if wrap != nil {
			s = wrap(c)
		}
		sources = append(sources, s)
		a.esm.watchBrokers(cl.Name, c.BrokerAddrs)
		for _, w := range cl.Security().Warnings() {
			a.log.Warn(w, "cluster_name", cl.Name)
		}
		a.log.Info("watching cluster", "cluster_name", cl.Name, "brokers", cl.Brokers, "security", cl.Security())
	}
	return sources, nil
}

// listen checks the web config file and opens the listen sockets, one
// server each.
func (a *App) listen(mux http.Handler) error {
	cfg := a.cfg
	a.webFlags = &web.FlagConfig{
		WebListenAddresses: &cfg.Web.ListenAddress,
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &cfg.Web.ConfigFile,
	}
	if cfg.Web.ConfigFile != "" {
		// The toolkit reads the file only when serving: check it now, so a
		// broken file fails before any poll.
		if err := web.Validate(cfg.Web.ConfigFile); err != nil {
			return fmt.Errorf("web.config-file %s: %w", cfg.Web.ConfigFile, err)
		}
	}
	// Listen now: a port in use fails here, before any Kafka connection.
	for _, addr := range cfg.Web.ListenAddress {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("web.listen-address: %w", err)
		}
		a.listeners = append(a.listeners, l)
		// Read, write and idle timeouts and a header cap (--web.*): a
		// scraper that stalls is cut off after the write timeout, idle
		// keep-alive connections after the idle timeout.
		a.servers = append(a.servers, httpserver.New(mux, cfg.Web.Limits))
	}
	return nil
}

// Addrs are the addresses the HTTP server listens on (a port 0 of
// web.listen-address resolved).
func (a *App) Addrs() []net.Addr {
	out := make([]net.Addr, len(a.listeners))
	for i, l := range a.listeners {
		out[i] = l.Addr()
	}
	return out
}

// ShutdownTimeout is the budget of the shutdown that follows the end of
// Run's ctx or a failure: cloudwatch.flush-timeout, or
// DefaultShutdownTimeout when that is 0.
func (a *App) ShutdownTimeout() time.Duration { return a.shutdown }

// Run starts the Components, the HTTP servers, the Lambda ESM discovery
// and the polls, and runs until ctx ends (nil is returned after a clean
// shutdown) or something fails (an HTTP server, a Component: its error is
// returned). Either way it shuts down in order (see the package comment)
// before it returns. Run may be called once.
func (a *App) Run(ctx context.Context) error {
	if a.ran.Swap(true) {
		return errors.New("app: Run called twice")
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan error, len(a.listeners)+len(a.components))
	var watchers sync.WaitGroup // forward Component failures until runCtx ends
	defer watchers.Wait()

	var started []Component
	for _, c := range a.components {
		if err := c.Start(runCtx); err != nil {
			err = fmt.Errorf("start %s: %w", c.Name(), err)
			a.log.Error("a component failed to start: stopping", "component", c.Name(), "err", err)
			cancel()
			sctx, scancel := context.WithTimeout(context.Background(), a.shutdown)
			defer scancel()
			a.stopComponents(sctx, started)
			a.cw.stop(sctx)
			a.release()
			return err
		}
		a.log.Info("component started", "component", c.Name())
		started = append(started, c)
		if f, ok := c.(Failer); ok {
			watchers.Add(1)
			go func() {
				defer watchers.Done()
				select {
				case err := <-f.Failed():
					if err != nil {
						failed <- fmt.Errorf("%s: %w", c.Name(), err)
					}
				case <-runCtx.Done():
				}
			}()
		}
	}

	var serving sync.WaitGroup
	for i, l := range a.listeners {
		srv := a.servers[i]
		serving.Add(1)
		go func() {
			defer serving.Done()
			if err := web.Serve(l, srv, a.webFlags, a.log); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("http server on %s: %w", l.Addr(), err)
			}
		}()
	}
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); a.exp.Run(runCtx) }()
	esmDone := make(chan struct{})
	go func() { defer close(esmDone); a.esm.run(runCtx) }()

	var cause error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "reason", context.Cause(ctx), "timeout", a.shutdown)
	case cause = <-failed:
		a.log.Error("shutting down: a component failed", "err", cause, "timeout", a.shutdown)
	}
	cancel() // the polls, the discovery and the failure watchers
	return errors.Join(cause, a.stop(pollDone, esmDone, &serving, started))
}

// stop is the ordered shutdown after runCtx was cancelled; it returns what
// did not stop in time.
func (a *App) stop(pollDone, esmDone <-chan struct{}, serving *sync.WaitGroup, started []Component) error {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), a.shutdown)
	defer cancel()
	var errs []error

	// 1. The HTTP servers stop accepting and finish the requests in
	// flight, while the polls stop.
	httpDone := make(chan error, 1)
	go func() {
		var errs []error
		for _, srv := range a.servers {
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close() // drop what is still in flight
				errs = append(errs, err)
			}
		}
		serving.Wait()
		httpDone <- errors.Join(errs...)
	}()
	pollsStopped := false
	select {
	case <-pollDone:
		pollsStopped = true
		a.log.Info("polls stopped", "took", time.Since(begin).Round(time.Millisecond))
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("polls did not stop within %s", a.shutdown))
		a.log.Error("polls did not stop within the shutdown timeout; the Kafka clients are left open", "timeout", a.shutdown)
	}
	select {
	case <-esmDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("lambda-esm discovery did not stop within %s", a.shutdown))
	}

	// 2. Components (HA membership) leave after the last poll.
	if err := a.stopComponents(ctx, started); err != nil {
		errs = append(errs, err)
	}

	// 3. CloudWatch publishes the latest poll and flushes its queue.
	if a.cfg.CloudWatch.FlushTimeout > 0 {
		a.cw.stop(ctx)
	} else {
		done, dcancel := context.WithCancel(context.Background())
		dcancel() // cloudwatch.flush-timeout 0: drop what is queued
		a.cw.stop(done)
	}

	// 4. The Kafka clients close once no poll can use them.
	if pollsStopped {
		a.closeClients()
	}

	if err := <-httpDone; err != nil {
		a.log.Warn("HTTP requests in flight were cut off at the shutdown timeout", "timeout", a.shutdown, "err", err)
	} else {
		a.log.Info("HTTP server stopped")
	}
	a.log.Info("shutdown complete", "took", time.Since(begin).Round(time.Millisecond))
	return errors.Join(errs...)
}

// stopComponents stops started in reverse order.
func (a *App) stopComponents(ctx context.Context, started []Component) error {
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		if err := c.Stop(ctx); err != nil {
			a.log.Warn("component did not stop cleanly", "component", c.Name(), "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", c.Name(), err))
			continue
		}
		a.log.Info("component stopped", "component", c.Name())
	}
	return errors.Join(errs...)
}

// closeClients closes the Kafka admin clients.
func (a *App) closeClients() {
	for _, c := range a.clients {
		if err := c.Close(); err != nil {
			a.log.Warn("closing Kafka client", "cluster_name", c.Name(), "err", err)
		}
	}
	if len(a.clients) > 0 {
		a.log.Info("Kafka clients closed", "clusters", len(a.clients))
		if a.hooks.closed != nil {
			a.hooks.closed()
		}
	}
	a.clients = nil
}

// release closes what New opened when New or a Component's Start failed
// (no poll ever ran).
func (a *App) release() {
	for _, l := range a.listeners {
		_ = l.Close()
	}
	a.listeners = nil
	if a.cw != nil && !a.ran.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), a.shutdown)
		a.cw.stop(ctx)
		cancel()
	}
	a.closeClients()
}

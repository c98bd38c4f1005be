// Command offsetlag-exporter polls Kafka clusters for consumer-group lag
// and serves it to Prometheus. See README.md for the configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/httpapi"
	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

const name = "offsetlag-exporter"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the exit, for tests; it stops when ctx ends (SIGTERM
// or SIGINT in main). Exit codes: 0 after a clean shutdown, 1 when serving
// failed, 2 for bad flags or configuration.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := appconfig.Flags(name)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\n"+
			"Polls Kafka clusters for consumer-group lag and serves it as Prometheus metrics.\n"+
			"Every flag can also be set in the YAML file given with --config, or as an\n"+
			"environment variable OFFSETLAG_<FLAG> (upper case, . and - as _), e.g.\n"+
			"OFFSETLAG_KAFKA_BROKERS=b1:9092,b2:9092. Flags win over the environment,\n"+
			"which wins over the file.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print(name))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	cfg, err := appconfig.Load(fs, environ)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}

	logger := newLogger(cfg.Log, stderr)
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error("exiting", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func newLogger(lc appconfig.LogConfig, w io.Writer) *slog.Logger {
	pc := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: w}
	_ = pc.Level.Set(lc.Level)
	_ = pc.Format.Set(lc.Format)
	return promslog.New(pc)
}

func serve(ctx context.Context, cfg *appconfig.Config, logger *slog.Logger) error {
	groups, _ := exporter.NewFilter("groups", cfg.Groups.Allow, cfg.Groups.Deny)
	topics, _ := exporter.NewFilter("topics", cfg.Topics.Allow, cfg.Topics.Deny)
	// Expected groups are polled even when the groups filter leaves them
	// out: they are watched by name.
	expected := map[string]bool{}
	for _, eg := range cfg.Expiry.ExpectedGroups {
		expected[eg.Group] = true
	}
	// Groups of discovered Lambda event source mappings likewise.
	esm, err := newLambdaESM(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// With --shard.count > 1 this replica polls only its own groups.
	shard := cfg.Shard()
	includeGroup := func(g string) bool { return shard.Match(g) && (expected[g] || esm.hasGroup(g) || groups.Match(g)) }
	if shard.Enabled() {
		logger.Info("sharding groups", "shard_index", shard.Index, "shard_count", shard.Count)
	}
	// With --ha.enabled this replica polls the groups of the shards it owns.
	rep, err := newReplicas(cfg, logger)
	if err != nil {
		return err
	}
	var store *expiry.StateStore
	if cfg.State.Dir != "" {
		var err error
		if store, err = expiry.NewStateStore(cfg.State.Dir, logger); err != nil {
			return err
		}
	}
	var sources []exporter.Source
	for _, cl := range cfg.ClusterList() {
		kc := cl.Admin()
		kc.IncludeGroup, kc.IncludeTopic = rep.owns(cl.Name, includeGroup), topics.Match
		c, err := kafkaadmin.New(kc, logger)
		if err != nil {
			return err
		}
		defer c.Close()
		sources = append(sources, c)
		esm.watchBrokers(cl.Name, c.BrokerAddrs)
		for _, w := range cl.Security().Warnings() {
			logger.Warn(w, "cluster_name", cl.Name)
		}
		logger.Info("watching cluster", "cluster_name", cl.Name, "brokers", cl.Brokers, "security", cl.Security())
	}
	cw, err := newCloudWatch(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cw.stop() // runs after the polls stopped: flushes what is queued
	var exp *exporter.Exporter
	page, err := newStatusPage(func() *result.Result { return exp.Latest() }, cfg.Web.TelemetryPath, version.Version)
	if err != nil {
		return err
	}
	// The /metrics exposition is rendered once per Result, when it is
	// published (collector.OnResult), and shared by every scrape.
	collector := metrics.NewCollector(func() *result.Result { return exp.Latest() },
		metrics.Options{Granularity: metrics.Granularity(cfg.Metrics.Granularity),
			Enums: metrics.Enums(cfg.Metrics.Enums), Compat: metrics.Compat(cfg.Metrics.Compat)})
	exp, err = exporter.New(exporter.LimitPolls(sources, cfg.Poll.MaxConcurrentClusters), exporter.Options{
		Interval: cfg.Poll.Interval, Timeout: cfg.Poll.Timeout, StaleAfter: cfg.Poll.StaleAfter, Logger: logger, Trends: cfg.Trends().Options(),
		OnResult: onResults(cw.onResult(), page.Record, esm.onResult(), collector.OnResult),
		Expiry:   rep.expiry(cfg.ShardExpiry(cfg.ExpiryOptions(includeGroup))), State: store, Owner: rep.owner(),
		ExpectedGroups: esm.expectedGroups(shard.Match),
	})
	if err != nil {
		return err
	}

	// The lag families are written straight to text from the latest Result
	// (a registry scrape of a million series takes tens of seconds); the
	// process families come from a small registry beside them.
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("offsetlag"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(cw.collectors()...)
	reg.MustRegister(rep.collectors()...)
	mux, err := httpapi.NewMux(exp, collector.Handler(reg), httpapi.Options{TelemetryPath: cfg.Web.TelemetryPath, Version: version.Info(),
		StatusPage: page})
	if err != nil {
		return err
	}
	mux.Handle("/api/v1/replicas", rep.handler())
	// Read, write and idle timeouts and a header cap (--web.*): a scraper
	// that stalls is cut off after the write timeout, idle keep-alive
	// connections after the idle timeout.
	srv := httpserver.New(mux, cfg.Web.Limits)
	flags := &web.FlagConfig{
		WebListenAddresses: &cfg.Web.ListenAddress,
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &cfg.Web.ConfigFile,
	}

	// The membership starts before the polls and leaves the group after
	// they returned (deferred, after <-pollDone).
	if err := rep.start(ctx, exp); err != nil {
		return err
	}
	defer rep.stop()
	pollDone := make(chan struct{})
	go func() { exp.Run(ctx); close(pollDone) }()
	go esm.run(ctx)
	srvErr := make(chan error, 1)
	go func() { srvErr <- web.ListenAndServe(srv, flags, logger) }()

	select {
	case err = <-srvErr:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-srvErr
	}
	if err != nil {
		err = fmt.Errorf("http server: %w", err)
	}
	// Polls stop with ctx; when the server failed first, stop them too.
	if ctx.Err() == nil {
		return err
	}
	<-pollDone
	return err
}

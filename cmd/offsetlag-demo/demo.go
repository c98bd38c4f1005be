package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/app"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/backoff"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/worker"
	"github.com/offsetlag/offsetlag/worker/loadgen"
	"github.com/offsetlag/offsetlag/worker/store"
)

// Names of the demo's cluster, topics and groups.
const (
	clusterName  = "demo"
	topic        = "numbers"
	failureTopic = "numbers-failed"
	workerGroup  = "factor-worker"
	nightlyGroup = "nightly-report"
)

// kafkaVersion is the protocol version the demo's producer and worker
// speak: the default of every offsetlag binary (kafkaadmin.DefaultVersion,
// the exporter's --kafka.version and factor-worker's --kafka.version).
var kafkaVersion = func() sarama.KafkaVersion {
	v, err := sarama.ParseKafkaVersion(kafkaadmin.DefaultVersion)
	if err != nil {
		panic(err) // a constant: every test run finds it
	}
	return v
}()

// config is the demo's flags.
type config struct {
	ListenAddress string
	Retention     time.Duration // committed-offset retention of Empty groups
	CheckInterval time.Duration // how often the brokers delete expired offsets
	PollInterval  time.Duration // exporter poll interval
	Refresh       time.Duration // status page refresh
	Partitions    int
	Rate          float64 // steady records/s
	BurstEvery    time.Duration
	BurstSize     int64
	LargeShare    float64       // share of large (slow to factor) numbers
	NightlyAfter  time.Duration // nightly-report starts after this
	NightlyFor    time.Duration // and consumes this long, then stops
	DataDir       string        // SQLite store; a temporary directory when empty
}

func defaultConfig() config {
	return config{
		ListenAddress: "127.0.0.1:9745",
		Retention:     3 * time.Minute,
		CheckInterval: time.Second,
		PollInterval:  2 * time.Second,
		Refresh:       2 * time.Second,
		Partitions:    6,
		Rate:          40,
		BurstEvery:    45 * time.Second,
		BurstSize:     10000,
		LargeShare:    0.03,
		NightlyAfter:  3 * time.Second,
		NightlyFor:    30 * time.Second,
	}
}

func (c config) validate() error {
	var errs []error
	if c.Retention < time.Second || c.CheckInterval < 100*time.Millisecond || c.PollInterval < 100*time.Millisecond {
		errs = append(errs, errors.New("retention must be >= 1s, check and poll intervals >= 100ms"))
	}
	if c.Partitions < 1 || c.Partitions > 1000 {
		errs = append(errs, fmt.Errorf("partitions %d: want 1..1000", c.Partitions))
	}
	if c.Rate <= 0 || math.IsInf(c.Rate, 0) || math.IsNaN(c.Rate) {
		errs = append(errs, fmt.Errorf("rate %v: want > 0", c.Rate))
	}
	if c.BurstSize < 0 || c.BurstEvery < 0 || c.NightlyAfter < 0 || c.NightlyFor < 0 {
		errs = append(errs, errors.New("burst and nightly settings must not be negative"))
	}
	if !(c.LargeShare >= 0 && c.LargeShare <= 1) {
		errs = append(errs, fmt.Errorf("large share %v: want 0..1", c.LargeShare))
	}
	return errors.Join(errs...)
}

// exporterConfig is the exporter's configuration for the demo cluster:
// the options set here, the exporter's defaults for the rest, validated
// like the exporter's flags.
func (c config) exporterConfig(brokers []string) (*appconfig.Config, error) {
	fs := appconfig.Flags(name)
	for _, o := range [][2]string{
		{"kafka.brokers", strings.Join(brokers, ",")},
		{"kafka.cluster-name", clusterName},
		{"poll.interval", c.PollInterval.String()},
		{"web.listen-address", c.ListenAddress},
		// The brokers report offsets.retention.minutes (7 days); the
		// demo's retention is the kfake extension offset.retention.ms, so
		// say it here.
		{"kafka.offsets-retention", c.Retention.String()},
		// The tolerance absorbs the lag of observing Empty (a poll late on
		// a busy machine); with a retention of seconds, two poll intervals
		// are not enough.
		{"expiry.tolerance", max(2*c.PollInterval, c.Retention/3, time.Second).String()},
	} {
		if err := fs.Set(o[0], o[1]); err != nil {
			return nil, fmt.Errorf("exporter option %s: %w", o[0], err)
		}
	}
	return appconfig.Load(fs, nil)
}

// demo is the running demo: cluster, producer, worker, nightly consumer,
// exporter and web server.
type demo struct {
	cfg     config
	log     *slog.Logger // the demo's own messages
	cluster *kfake.Cluster
	// URL is the web server's base URL, e.g. http://127.0.0.1:9745.
	URL string

	wg      sync.WaitGroup
	errs    chan error
	cleanup []func()
}

// start starts everything; it runs until ctx ends. Call wait then.
func start(ctx context.Context, cfg config, log, say *slog.Logger) (_ *demo, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &demo{cfg: cfg, log: say, errs: make(chan error, 8)}
	defer func() {
		if err != nil {
			d.close()
		}
	}()

	// Kafka: three in-process brokers. offset.retention.ms (a kfake
	// extension of offsets.retention.minutes) lets offsets expire in minutes.
	d.cluster, err = kfake.NewCluster(kfake.NumBrokers(3),
		kfake.SeedTopics(int32(cfg.Partitions), topic, failureTopic),
		kfake.BrokerConfigs(map[string]string{
			"offset.retention.ms":                 strconv.FormatInt(cfg.Retention.Milliseconds(), 10),
			"offsets.retention.check.interval.ms": strconv.FormatInt(cfg.CheckInterval.Milliseconds(), 10),
		}))
	if err != nil {
		return nil, fmt.Errorf("start kafka: %w", err)
	}
	d.cleanup = append(d.cleanup, d.cluster.Close)
	brokers := d.cluster.ListenAddrs()

	// The worker's store.
	dir := cfg.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "offsetlag-demo-"); err != nil {
			return nil, err
		}
		d.cleanup = append(d.cleanup, func() { _ = os.RemoveAll(dir) })
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "factors.db"))
	if err != nil {
		return nil, err
	}
	d.cleanup = append(d.cleanup, func() { _ = st.Close() })

	// Metrics of the worker, beside the lag families and the process
	// metrics (internal/app adds those).
	reg := prometheus.NewRegistry()
	wm, err := worker.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	w, err := worker.New(worker.Config{
		Brokers: brokers, Topics: []string{topic}, Group: workerGroup, FailureTopic: failureTopic,
		// Batches wait up to a second to fill: a steady lag of about a
		// second of records, bursts take longer.
		BatchSize: 500, BatchWindow: time.Second, KafkaVersion: kafkaVersion,
	}, st, log, wm)
	if err != nil {
		return nil, err
	}

	// The exporter with its status page, /metrics and JSON API: the same
	// wiring as offsetlag-exporter (internal/app), configured through the
	// exporter's own options and validation.
	ecfg, err := cfg.exporterConfig(brokers)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, ecfg, app.Options{Logger: log, Registry: reg, Title: "offsetlag demo", Refresh: cfg.Refresh})
	if err != nil {
		return nil, err
	}
	d.URL = "http://" + a.Addrs()[0].String()

	// The exporter (polls, web server, ordered shutdown) stops when ctx
	// ends; a failure of its web server stops the demo.
	d.goRun("exporter", func() error { return a.Run(ctx) })
	d.goRun("factor-worker", func() error { return w.Run(ctx) })
	d.goRun("producer", func() error { return d.produce(ctx, brokers) })
	d.goRun("nightly-report", func() error { return d.nightly(ctx, brokers) })
	return d, nil
}

// goRun runs f until it returns; an error is reported by wait.
func (d *demo) goRun(name string, f func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("demo component failed", "component", name, "err", err)
			select {
			case d.errs <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// failed reports the first component failure.
func (d *demo) failed() <-chan error { return d.errs }

// wait waits for every component to stop (after ctx ended), then stops
// Kafka and removes the temporary files.
func (d *demo) wait() error {
	d.wg.Wait()
	d.close()
	select {
	case err := <-d.errs:
		return err
	default:
		return nil
	}
}

func (d *demo) close() {
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
	d.cleanup = nil
}

// produce writes numbers at a steady rate, with a burst every BurstEvery.
func (d *demo) produce(ctx context.Context, brokers []string) error {
	base := loadgen.Config{Brokers: brokers, Topic: topic, Distribution: loadgen.LogUniform,
		Min: 2, Max: 1_000_000_000_000, LargeShare: d.cfg.LargeShare, Malformed: 0.002, KafkaVersion: kafkaVersion}
	quiet := slog.New(slog.DiscardHandler)
	var wg sync.WaitGroup
	defer wg.Wait()
	if d.cfg.BurstEvery > 0 && d.cfg.BurstSize > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(d.cfg.BurstEvery)
			defer t.Stop()
			for seed := uint64(1000); ; seed++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				c := base
				// A burst is a batch job's dump: many large numbers.
				c.Count, c.Rate, c.Seed, c.LargeShare = d.cfg.BurstSize, 0, seed, max(c.LargeShare, 0.25)
				d.log.Info("producing a burst", "topic", topic, "records", c.Count)
				if _, err := loadgen.Produce(ctx, c, quiet); err != nil && ctx.Err() == nil {
					d.log.Warn("burst failed", "err", err)
				}
			}
		}()
	}
	c := base
	c.Count, c.Rate, c.Seed = math.MaxInt64, d.cfg.Rate, 1
	_, err := loadgen.Produce(ctx, c, quiet)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// nightly runs the nightly-report consumer: it joins after NightlyAfter,
// reads for NightlyFor, commits and leaves. The group is then Empty, its
// lag grows, and one retention later the brokers delete its offsets.
func (d *demo) nightly(ctx context.Context, brokers []string) error {
	if !backoff.Sleep(ctx, d.cfg.NightlyAfter) {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(nightlyGroup), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID(nightlyGroup),
		kgo.AutoCommitInterval(time.Second), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return fmt.Errorf("nightly-report client: %w", err)
	}
	d.log.Info("nightly-report started", "group", nightlyGroup, "for", d.cfg.NightlyFor)
	rctx, cancel := context.WithTimeout(ctx, d.cfg.NightlyFor)
	defer cancel()
	var n int
	for rctx.Err() == nil {
		fs := cl.PollFetches(rctx)
		n += fs.NumRecords()
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	if err := cl.CommitUncommittedOffsets(cctx); err != nil {
		d.log.Warn("nightly-report final commit failed", "err", err)
	}
	cl.Close() // leaves the group: it is Empty from now on
	if ctx.Err() == nil {
		d.log.Info("nightly-report finished; its group is Empty and its offsets expire after the retention",
			"group", nightlyGroup, "records", n, "retention", d.cfg.Retention)
	}
	return nil
}

// printURLs tells the user where to look.
func (d *demo) printURLs(w io.Writer) {
	fmt.Fprintf(w, `offsetlag demo: an in-process Kafka cluster (3 brokers: %s),
a producer on %q (%.0f records/s, a burst of %d every %s), the factor-worker
(group %q) and the exporter, polling every %s.
The %q group reads for %s, then stops: it goes Empty and its committed
offsets expire %s later (the demo's offsets retention).

  Status page  %s/
  Metrics      %s/metrics
  JSON API     %s/api/v1/clusters
               %s/api/v1/groups
               %s/api/v1/groups/%s/%s

Press Ctrl-C to stop (exit code 0). Another port: make demo PORT=9800,
or offsetlag-demo --web.listen-address 127.0.0.1:9800.
`, joinAddrs(d.cluster.ListenAddrs()), topic, d.cfg.Rate, d.cfg.BurstSize, d.cfg.BurstEvery, workerGroup,
		d.cfg.PollInterval, nightlyGroup, d.cfg.NightlyFor, d.cfg.Retention, d.URL, d.URL, d.URL, d.URL, d.URL,
		clusterName, workerGroup)
}

func joinAddrs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}

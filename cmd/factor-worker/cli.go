package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	conv "github.com/offsetlag/offsetlag/internal/cli"
	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/worker"
	"github.com/offsetlag/offsetlag/worker/loadgen"
	"github.com/offsetlag/offsetlag/worker/message"
	"github.com/offsetlag/offsetlag/worker/store"
)

// Exit codes: every offsetlag binary's (internal/cli).
const (
	exitOK      = conv.ExitOK
	exitFailure = conv.ExitFailure
	exitUsage   = conv.ExitUsage
)

const topUsage = `factor-worker: factor {"number": N} Kafka records with Lambda event-source-mapping semantics.

Usage:
  factor-worker run [flags]       consume, factor, store (see factor-worker run --help)
  factor-worker produce [flags]   generate load (see factor-worker produce --help)
  factor-worker --version         print the version
`

func cli(args []string, stdout, stderr io.Writer) int {
	return cliEnv(args, os.Environ(), stdout, stderr)
}

// cliEnv is cli with the environment given (FACTOR_WORKER_* variables).
func cliEnv(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "factor-worker: missing command: want run or produce (see --help)")
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(args[1:], environ, stdout, stderr)
	case "produce":
		err = produceCmd(args[1:], environ, stdout, stderr)
	case "--version", "version":
		fmt.Fprintln(stdout, conv.VersionText("factor-worker"))
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	default:
		err = conv.UsageError{Msg: fmt.Sprintf("unknown command %q: want run or produce", args[0])}
	}
	var ue conv.UsageError
	switch {
	case err == nil || errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "factor-worker %s: %s (see --help)\n", args[0], ue.Msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "factor-worker %s: %v\n", args[0], err)
		return exitFailure
	}
}

// parseFlags parses args; --help prints the usage to stdout and returns
// pflag.ErrHelp; any other problem is a conv.UsageError.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer, summary string) error {
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			conv.PrintUsage(stdout, fs, summary)
			return err
		}
		return conv.UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return conv.UsageError{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// newLogger is the logger of every offsetlag binary (internal/cli);
// "text" is the deprecated spelling of logfmt.
func newLogger(w io.Writer, l LogOptions) (*slog.Logger, error) {
	format := l.Format
	if format == "text" {
		format = conv.DefaultLogFormat
	}
	log, err := conv.NewLogger(w, l.Level, format)
	if err != nil {
		return nil, conv.UsageError{Msg: err.Error()}
	}
	return log, nil
}

// warnDeprecated logs one warning for each deprecated flag spelling in
// args; called once the command line is known to be good, so that bad
// input stays one line.
func warnDeprecated(log *slog.Logger, args []string) {
	used := conv.Aliased(args, slices.Collect(maps.Keys(deprecatedFlags))...)
	slices.Sort(used)
	for _, old := range slices.Compact(used) {
		log.Warn("--" + old + " is deprecated: use --" + deprecatedFlags[old])
	}
}

func parseKafkaVersion(s string) (sarama.KafkaVersion, error) {
	v, err := sarama.ParseKafkaVersion(s)
	if err != nil {
		return v, conv.UsageError{Msg: fmt.Sprintf("--kafka.version %q: %v", s, err)}
	}
	if !v.IsAtLeast(sarama.V2_1_0_0) {
		return v, conv.UsageError{Msg: fmt.Sprintf("--kafka.version %s: want >= 2.1.0 (Kafka 4 removed older protocols)", s)}
	}
	return v, nil
}

const runSummary = `factor-worker run: consume {"number": N} records, store all divisors of N.

Semantics (Lambda Kafka event source mapping):
  - per partition, records are handled in batches of --batch-size, or whatever
    arrived within --batch-window of a batch's first record; order is kept.
  - malformed records (not JSON, no number, negative, fractional, zero, above
    --max-number, larger than --max-record-bytes) go to --failure-topic at once
    with header reason=...; they never block a partition.
  - a batch whose store write fails is retried with exponential backoff
    (--retry-backoff .. --max-retry-backoff) up to --max-retries times or until
    its oldest record is older than --max-record-age, then its records go to
    --failure-topic (reason=retries_exhausted|record_age_exceeded). Only the
    records the store did not write are retried and dead-lettered: both stores
    report failures per record (partial batch response), and with
    --bisect-on-error a failure that names no record splits the batch in halves,
    down to single records. A record is stored or dead-lettered, not both.
  - offsets are committed only after a batch was stored or dead-lettered (by
    a per-partition committer, so the next batch does not wait for it). Results are keyed by msg_id "<topic>-<partition>-<offset>",
    so a redelivered record never makes a second row.
  - --starting-position applies only to partitions without a valid committed
    offset (new group, expired offsets, commit out of range).
  - Kafka unreachable at start or later: connection, metadata and group join
    are retried with backoff (to --max-connect-backoff) until SIGTERM, one log
    line per state change; /readyz answers 200 only while consuming.
  - SIGTERM/SIGINT: the in-flight batch is finished and committed; exit 0.
Exit codes: 0 ok, 1 runtime failure, 2 bad flags.`

func runCmd(args, environ []string, stdout, stderr io.Writer) error {
	c := &runConfig{}
	if err := loadConfig(c, &produceConfig{}, "run", args, environ, stdout, runSummary); err != nil {
		return err
	}
	log, err := newLogger(stderr, c.Log)
	if err != nil {
		return err
	}
	customize, err := applySecurity(c.Kafka.security(), log)
	if err != nil {
		return err
	}
	kv, err := parseKafkaVersion(c.Kafka.Version)
	if err != nil {
		return err
	}
	pos, err := worker.ParseStartingPosition(c.StartingPosition)
	if err != nil {
		return conv.UsageError{Msg: "--starting-position: " + err.Error()}
	}
	var ts time.Time
	if c.StartingTimestamp != "" {
		if ts, err = time.Parse(time.RFC3339, c.StartingTimestamp); err != nil {
			return conv.UsageError{Msg: fmt.Sprintf("--starting-timestamp %q: want RFC 3339", c.StartingTimestamp)}
		}
	}
	cfg := worker.Config{
		Brokers: c.Kafka.Brokers, Topics: c.Topics, Group: c.Group, ClientID: c.Kafka.ClientID, FailureTopic: c.FailureTopic,
		BatchSize: c.BatchSize, BatchWindow: c.BatchWindow, MaxRetries: c.MaxRetries, MaxRecordAge: c.MaxRecordAge,
		RetryBackoff: c.RetryBackoff, MaxRetryBackoff: c.MaxRetryBackoff, StoreTimeout: c.StoreTimeout,
		BisectOnError: c.BisectOnError, ConnectBackoff: c.ConnectBackoff, MaxConnectBackoff: c.MaxConnectBackoff,
		StartingPosition: pos, StartingTimestamp: ts,
		Limits:          message.Limits{MaxNumber: c.MaxNumber, MaxBytes: c.MaxRecordBytes},
		KafkaVersion:    kv,
		TransactionalID: c.TransactionalID,
		Customize:       customize,
	}
	// The range tags (settings.Check in loadConfig) keep zero out where
	// SetDefaults would fill it; what spans two options is checked here.
	if c.MaxRetryBackoff < c.RetryBackoff {
		return conv.UsageError{Msg: fmt.Sprintf("--max-retry-backoff %s: want at least --retry-backoff %s", c.MaxRetryBackoff, c.RetryBackoff)}
	}
	if c.MaxConnectBackoff < c.ConnectBackoff {
		return conv.UsageError{Msg: fmt.Sprintf("--max-connect-backoff %s: want at least --connect-backoff %s", c.MaxConnectBackoff, c.ConnectBackoff)}
	}
	if c.BatchWindow == 0 {
		cfg.BatchWindow = time.Nanosecond // SetDefaults treats 0 as unset
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return conv.UsageError{Msg: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	if c.Store == "dynamodb" {
		longest := 0
		for _, t := range c.Topics {
			longest = max(longest, len(t))
		}
		if err := store.CheckDynamoDBMaxNumber(c.MaxNumber, longest); err != nil {
			return conv.UsageError{Msg: "--max-number with --store dynamodb: " + err.Error()}
		}
	}
	warnDeprecated(log, args)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	st, err := openStore(ctx, c.Store, c.SQLitePath, c.DynamoDBTable, c.DynamoDBEndpoint, c.DynamoDBCreate, c.DynamoDBConc)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := worker.NewMetrics(reg)
	if err != nil {
		return err
	}
	w, err := worker.New(cfg, st, log, m)
	if err != nil {
		return err
	}
	wctx := ctx
	if addr := c.Web.ListenAddress; addr != "" {
		srv, failed, err := serveMetrics(addr, reg, log, w.Status)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		// A metrics server that fails while serving (its /readyz with it)
		// stops the worker like SIGTERM: the in-flight batch is finished
		// and committed, then exit 1.
		var stop context.CancelCauseFunc
		wctx, stop = context.WithCancelCause(ctx)
		defer stop(nil)
		go func() {
			select {
			case err := <-failed:
				log.Error("metrics server failed: stopping the worker", "addr", addr, "err", err)
				stop(fmt.Errorf("metrics server on %s: %w", addr, err))
			case <-wctx.Done():
			}
		}()
	}
	if err := w.Run(wctx); err != nil {
		return err
	}
	if ctx.Err() == nil && wctx.Err() != nil {
		return context.Cause(wctx)
	}
	log.Info("shutdown complete")
	return nil
}

func openStore(ctx context.Context, kind, sqlitePath, table, endpoint string, create bool, concurrency int) (store.Store, error) {
	if kind == "sqlite" {
		return store.OpenSQLite(ctx, sqlitePath)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	d, err := store.OpenDynamoDB(awsCfg, store.DynamoDBConfig{Table: table, Endpoint: endpoint})
	if err != nil {
		return nil, err
	}
	d.Concurrency = concurrency
	if create {
		client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			if endpoint != "" {
				o.BaseEndpoint = &endpoint
			}
		})
		if err := store.CreateDynamoDBTable(ctx, client, table); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// serveMetrics serves /metrics, /healthz (200 while the process runs, with
// the Kafka state) and /readyz (200 only while the worker consumes, 503
// with the state and last error otherwise).
// metricsListen opens the metrics server's socket (a test seam).
var metricsListen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger, status func() worker.Status) (*http.Server, <-chan error, error) {
	ln, err := metricsListen(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok\nkafka: %s\n", status().State)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		st := status()
		if !st.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready\nkafka: %s\n", st.State)
			if st.LastError != "" {
				fmt.Fprintf(w, "attempts: %d\nlast error: %s\n", st.Attempts, st.LastError)
			}
			return
		}
		fmt.Fprintf(w, "ready\nkafka: %s\npartitions: %d\ngeneration: %d\n", st.State, st.Partitions, st.Generation)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "<html><body><h1>factor-worker</h1><a href=\"/metrics\">metrics</a></body></html>\n")
	})
	srv := httpserver.New(mux, httpserver.Limits{}) // read/write/idle timeouts, header cap: internal/httpserver defaults
	failed := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, failed, nil
}

const produceSummary = `factor-worker produce: write {"number": N} records to a topic (load generator).

Numbers are drawn from [--min, --max] with --distribution (uniform or
log-uniform); --large-share of them come from the top half of the range (slow
for trial division); --malformed of the records are invalid in assorted ways
(not JSON, negative, fractional, string, missing, zero, above 2^64). The same
--seed gives the same records. Prints a summary line when done.`

func produceCmd(args, environ []string, stdout, stderr io.Writer) error {
	c := &produceConfig{}
	if err := loadConfig(c, &runConfig{}, "produce", args, environ, stdout, produceSummary); err != nil {
		return err
	}
	log, err := newLogger(stderr, c.Log)
	if err != nil {
		return err
	}
	customize, err := applySecurity(c.Kafka.security(), log)
	if err != nil {
		return err
	}
	kv, err := parseKafkaVersion(c.Kafka.Version)
	if err != nil {
		return err
	}
	cfg := loadgen.Config{
		Brokers: c.Kafka.Brokers, Topic: c.Topic, Count: c.Count, Rate: c.Rate, Distribution: loadgen.Distribution(c.Distribution),
		Min: c.Min, Max: c.Max, LargeShare: c.LargeShare, Malformed: c.Malformed, Seed: c.Seed, KafkaVersion: kv,
		Customize: customize,
	}
	if err := cfg.Validate(); err != nil {
		return conv.UsageError{Msg: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	warnDeprecated(log, args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := loadgen.Produce(ctx, cfg, log)
	fmt.Fprintf(stdout, "produced %d records (%d malformed, %d failed) to %s in %s (%.0f records/s)\n",
		st.Sent, st.Malformed, st.Failed, c.Topic, st.Elapsed.Round(time.Millisecond), float64(st.Sent)/max(st.Elapsed.Seconds(), 1e-9))
	return err
}

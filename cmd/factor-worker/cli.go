package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/worker"
	"github.com/offsetlag/offsetlag/worker/loadgen"
	"github.com/offsetlag/offsetlag/worker/message"
	"github.com/offsetlag/offsetlag/worker/store"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const topUsage = `factor-worker: factor {"number": N} Kafka records with Lambda event-source-mapping semantics.

Usage:
  factor-worker run [flags]       consume, factor, store (see factor-worker run --help)
  factor-worker produce [flags]   generate load (see factor-worker produce --help)
  factor-worker --version         print the version
`

// usageError is a bad command line: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func cli(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(args[1:], stdout, stderr)
	case "produce":
		err = produceCmd(args[1:], stdout, stderr)
	case "--version", "version":
		fmt.Fprintln(stdout, version.Print("factor-worker"))
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	default:
		err = usageError{fmt.Sprintf("unknown command %q: want run or produce", args[0])}
	}
	var ue usageError
	switch {
	case err == nil || errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "factor-worker %s: %s (see --help)\n", args[0], ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "factor-worker %s: %v\n", args[0], err)
		return exitFailure
	}
}

// parseFlags parses args; --help prints the usage to stdout and returns
// pflag.ErrHelp; any other problem is a usageError.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer, summary string) error {
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "%s\n\nFlags:\n%s", summary, fs.FlagUsages())
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: want text or json", format)}
}

func parseKafkaVersion(s string) (sarama.KafkaVersion, error) {
	v, err := sarama.ParseKafkaVersion(s)
	if err != nil {
		return v, usageError{fmt.Sprintf("--kafka-version %q: %v", s, err)}
	}
	if !v.IsAtLeast(sarama.V2_1_0_0) {
		return v, usageError{fmt.Sprintf("--kafka-version %s: want >= 2.1.0 (Kafka 4 removed older protocols)", s)}
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

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	brokers := fs.StringSlice("brokers", []string{"127.0.0.1:9092"}, "Kafka bootstrap brokers, comma separated host:port")
	topics := fs.StringSlice("topic", []string{"numbers"}, "source topic(s) to consume, comma separated or repeated")
	group := fs.String("group", "factor-worker", "consumer group id (offsets are committed for it)")
	failureTopic := fs.String("failure-topic", "numbers-failed", "on-failure topic for malformed records and batches that exhausted their retries")
	clientID := fs.String("client-id", "factor-worker", "Kafka client id")
	kafkaVersion := fs.String("kafka-version", "3.7.0", "Kafka protocol version to speak (>= 2.1.0)")
	batchSize := fs.Int("batch-size", 100, "maximum records per batch, per partition (1..10000)")
	batchWindow := fs.Duration("batch-window", 500*time.Millisecond, "maximum wait after a batch's first record before the batch is processed (0..5m)")
	maxRetries := fs.Int("max-retries", 3, "store retries of a failing batch before it is dead-lettered; -1 = retry until --max-record-age")
	maxRecordAge := fs.Duration("max-record-age", 0, "dead-letter a failing batch once its oldest record is older than this; 0 = no limit")
	retryBackoff := fs.Duration("retry-backoff", 200*time.Millisecond, "first wait before retrying a failed batch; doubles per retry")
	maxRetryBackoff := fs.Duration("max-retry-backoff", 10*time.Second, "maximum wait between retries")
	storeTimeout := fs.Duration("store-timeout", 30*time.Second, "timeout of one store write")
	bisect := fs.Bool("bisect-on-error", false, "split a batch whose store write fails (without naming the failed records) in two halves and retry each, down to single records, so only the records that fail are dead-lettered (Lambda BisectBatchOnFunctionError); splits do not count against --max-retries")
	connectBackoff := fs.Duration("connect-backoff", 500*time.Millisecond, "first wait before retrying to connect to Kafka or join the group; doubles per failure")
	maxConnectBackoff := fs.Duration("max-connect-backoff", 5*time.Second, "maximum wait between Kafka connection or group join attempts")
	startPos := fs.String("starting-position", "TRIM_HORIZON", "where a partition without a valid committed offset starts: TRIM_HORIZON (oldest), LATEST (end) or AT_TIMESTAMP")
	startTS := fs.String("starting-timestamp", "", "RFC 3339 time for AT_TIMESTAMP, e.g. 2025-01-02T15:04:05Z")
	maxNumber := fs.Uint64("max-number", message.DefaultMaxNumber, "largest N accepted; larger numbers are dead-lettered with reason above_max")
	maxBytes := fs.Int("max-record-bytes", message.DefaultMaxBytes, "largest record value accepted; larger ones are dead-lettered with reason payload_too_large")
	txnID := fs.String("transactional-id", "", "write each batch's dead letters and its offset commit in one Kafka transaction with this transactional.id (exactly-once failure topic for read_committed readers); stable per instance, unique across instances; empty = at-least-once")
	storeKind := fs.String("store", "sqlite", "result store: sqlite or dynamodb")
	sqlitePath := fs.String("sqlite-path", "factor-results.db", "SQLite database file (--store sqlite)")
	ddbTable := fs.String("dynamodb-table", "factor-results", "DynamoDB table, hash key msg_id (S) (--store dynamodb)")
	ddbEndpoint := fs.String("dynamodb-endpoint", "", "DynamoDB endpoint override, e.g. http://127.0.0.1:5000 for moto (default: AWS; region and credentials from the usual AWS environment)")
	ddbCreate := fs.Bool("dynamodb-create-table", false, "create the DynamoDB table (on-demand) if it does not exist")
	ddbConcurrency := fs.Int("dynamodb-concurrency", 4, "chunks of 25 items of one batch written to DynamoDB at once (1..64)")
	metricsListen := fs.String("metrics-listen", ":9309", "address of /metrics, /healthz (alive) and /readyz (200 while consuming); empty disables it")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	security := securityFlags(fs)
	if err := parseFlags(fs, args, stdout, runSummary); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	customize, err := applySecurity(security(), log)
	if err != nil {
		return err
	}
	kv, err := parseKafkaVersion(*kafkaVersion)
	if err != nil {
		return err
	}
	pos, err := worker.ParseStartingPosition(*startPos)
	if err != nil {
		return usageError{"--starting-position: " + err.Error()}
	}
	var ts time.Time
	if *startTS != "" {
		if ts, err = time.Parse(time.RFC3339, *startTS); err != nil {
			return usageError{fmt.Sprintf("--starting-timestamp %q: want RFC 3339", *startTS)}
		}
	}
	cfg := worker.Config{
		Brokers: *brokers, Topics: *topics, Group: *group, ClientID: *clientID, FailureTopic: *failureTopic,
		BatchSize: *batchSize, BatchWindow: *batchWindow, MaxRetries: *maxRetries, MaxRecordAge: *maxRecordAge,
		RetryBackoff: *retryBackoff, MaxRetryBackoff: *maxRetryBackoff, StoreTimeout: *storeTimeout,
		BisectOnError: *bisect, ConnectBackoff: *connectBackoff, MaxConnectBackoff: *maxConnectBackoff,
		StartingPosition: pos, StartingTimestamp: ts,
		Limits:          message.Limits{MaxNumber: *maxNumber, MaxBytes: *maxBytes},
		KafkaVersion:    kv,
		TransactionalID: *txnID,
		Customize:       customize,
	}
	// SetDefaults fills zero values; zero is never a valid flag value here.
	if *maxNumber == 0 {
		return usageError{"--max-number must be >= 1"}
	}
	if *batchSize < 1 {
		return usageError{fmt.Sprintf("--batch-size %d: want 1..10000", *batchSize)}
	}
	if *maxBytes < 16 {
		return usageError{fmt.Sprintf("--max-record-bytes %d: want >= 16", *maxBytes)}
	}
	if *retryBackoff <= 0 || *maxRetryBackoff <= 0 || *storeTimeout <= 0 {
		return usageError{"--retry-backoff, --max-retry-backoff and --store-timeout must be > 0"}
	}
	if *connectBackoff <= 0 || *maxConnectBackoff < *connectBackoff {
		return usageError{"--connect-backoff must be > 0 and --max-connect-backoff >= --connect-backoff"}
	}
	if *batchWindow == 0 {
		cfg.BatchWindow = time.Nanosecond // SetDefaults treats 0 as unset
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return usageError{strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	if *storeKind != "sqlite" && *storeKind != "dynamodb" {
		return usageError{fmt.Sprintf("--store %q: want sqlite or dynamodb", *storeKind)}
	}
	if *storeKind == "dynamodb" {
		longest := 0
		for _, t := range *topics {
			longest = max(longest, len(t))
		}
		if err := store.CheckDynamoDBMaxNumber(*maxNumber, longest); err != nil {
			return usageError{"--max-number with --store dynamodb: " + err.Error()}
		}
		if *ddbConcurrency < 1 || *ddbConcurrency > 64 {
			return usageError{fmt.Sprintf("--dynamodb-concurrency %d: want 1..64", *ddbConcurrency)}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	st, err := openStore(ctx, *storeKind, *sqlitePath, *ddbTable, *ddbEndpoint, *ddbCreate, *ddbConcurrency)
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
	if *metricsListen != "" {
		srv, err := serveMetrics(*metricsListen, reg, log, w.Status)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	if err := w.Run(ctx); err != nil {
		return err
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
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger, status func() worker.Status) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", addr, err)
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
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "addr", addr, "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, nil
}

const produceSummary = `factor-worker produce: write {"number": N} records to a topic (load generator).

Numbers are drawn from [--min, --max] with --distribution (uniform or
log-uniform); --large-share of them come from the top half of the range (slow
for trial division); --malformed of the records are invalid in assorted ways
(not JSON, negative, fractional, string, missing, zero, above 2^64). The same
--seed gives the same records. Prints a summary line when done.`

func produceCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("produce", pflag.ContinueOnError)
	brokers := fs.StringSlice("brokers", []string{"127.0.0.1:9092"}, "Kafka bootstrap brokers, comma separated host:port")
	topic := fs.String("topic", "numbers", "topic to write to")
	count := fs.Int64("count", 10000, "number of records to produce")
	rate := fs.Float64("rate", 0, "records per second; 0 = as fast as possible")
	dist := fs.String("distribution", "log-uniform", "number distribution: uniform or log-uniform")
	minN := fs.Uint64("min", 1, "smallest number")
	maxN := fs.Uint64("max", message.DefaultMaxNumber, "largest number")
	large := fs.Float64("large-share", 0, "share (0..1) of numbers drawn from the top half of [min, max]")
	malformed := fs.Float64("malformed", 0, "share (0..1) of malformed records")
	seed := fs.Uint64("seed", 1, "random seed")
	kafkaVersion := fs.String("kafka-version", "3.7.0", "Kafka protocol version to speak (>= 2.1.0)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	security := securityFlags(fs)
	if err := parseFlags(fs, args, stdout, produceSummary); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return err
	}
	customize, err := applySecurity(security(), log)
	if err != nil {
		return err
	}
	kv, err := parseKafkaVersion(*kafkaVersion)
	if err != nil {
		return err
	}
	cfg := loadgen.Config{
		Brokers: *brokers, Topic: *topic, Count: *count, Rate: *rate, Distribution: loadgen.Distribution(*dist),
		Min: *minN, Max: *maxN, LargeShare: *large, Malformed: *malformed, Seed: *seed, KafkaVersion: kv,
		Customize: customize,
	}
	if err := cfg.Validate(); err != nil {
		return usageError{strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := loadgen.Produce(ctx, cfg, log)
	fmt.Fprintf(stdout, "produced %d records (%d malformed, %d failed) to %s in %s (%.0f records/s)\n",
		st.Sent, st.Malformed, st.Failed, *topic, st.Elapsed.Round(time.Millisecond), float64(st.Sent)/max(st.Elapsed.Seconds(), 1e-9))
	return err
}

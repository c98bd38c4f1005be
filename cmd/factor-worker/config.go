package main

import (
	"io"
	"slices"
	"strings"
	"time"

	conv "github.com/offsetlag/offsetlag/internal/cli"
	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/internal/settings"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/worker/message"
)

// The options of run and produce are declared once each, as tagged struct
// fields (internal/settings): the mapstructure tag is the key in the YAML
// file given with --config.file, the flag (--batch-size) and, upper case
// with "-" as "_", the environment variable (FACTOR_WORKER_BATCH_SIZE).
// Defaults are set by SetDefaults. Precedence: flags, then the
// environment, then the file.

// KafkaOptions are the Kafka options of both commands.
type KafkaOptions struct {
	Brokers      []string `mapstructure:"brokers" help:"Kafka bootstrap brokers, comma separated host:port"`
	KafkaVersion string   `mapstructure:"kafka-version" help:"Kafka protocol version to speak (>= 2.1.0)"`
	// TLS and SASL: --tls, --tls-ca-file, ..., --sasl-mechanism, ...
	// (tls: and sasl: blocks in the file).
	TLS  kafkasec.TLSConfig  `mapstructure:"tls"`
	SASL kafkasec.SASLConfig `mapstructure:"sasl"`
}

func (k *KafkaOptions) SetDefaults() {
	k.Brokers = []string{"127.0.0.1:9092"}
	// The same default as offsetlag-exporter's --kafka.version: the highest
	// protocol spoken; each broker lowers it to what it supports.
	k.KafkaVersion = kafkaadmin.DefaultVersion
}

// security returns the TLS and SASL settings.
func (k *KafkaOptions) security() kafkasec.Config { return kafkasec.Config{TLS: k.TLS, SASL: k.SASL} }

// runConfig is factor-worker run's configuration.
type runConfig struct {
	Topics            []string      `mapstructure:"topic" help:"source topic(s) to consume, comma separated or repeated"`
	Group             string        `mapstructure:"group" help:"consumer group id (offsets are committed for it)"`
	FailureTopic      string        `mapstructure:"failure-topic" help:"on-failure topic for malformed records and batches that exhausted their retries"`
	ClientID          string        `mapstructure:"client-id" help:"Kafka client id"`
	BatchSize         int           `mapstructure:"batch-size" range:"1..10000" help:"maximum records per batch, per partition"`
	BatchWindow       time.Duration `mapstructure:"batch-window" range:"0..5m" help:"maximum wait after a batch's first record before the batch is processed"`
	MaxRetries        int           `mapstructure:"max-retries" help:"store retries of a failing batch before it is dead-lettered; -1 = retry until --max-record-age"`
	MaxRecordAge      time.Duration `mapstructure:"max-record-age" help:"dead-letter a failing batch once its oldest record is older than this; 0 = no limit"`
	RetryBackoff      time.Duration `mapstructure:"retry-backoff" help:"first wait before retrying a failed batch; doubles per retry"`
	MaxRetryBackoff   time.Duration `mapstructure:"max-retry-backoff" help:"maximum wait between retries"`
	StoreTimeout      time.Duration `mapstructure:"store-timeout" help:"timeout of one store write"`
	BisectOnError     bool          `mapstructure:"bisect-on-error" help:"split a batch whose store write fails (without naming the failed records) in two halves and retry each, down to single records, so only the records that fail are dead-lettered (Lambda BisectBatchOnFunctionError); splits do not count against --max-retries"`
	ConnectBackoff    time.Duration `mapstructure:"connect-backoff" help:"first wait before retrying to connect to Kafka or join the group; doubles per failure"`
	MaxConnectBackoff time.Duration `mapstructure:"max-connect-backoff" help:"maximum wait between Kafka connection or group join attempts"`
	StartingPosition  string        `mapstructure:"starting-position" help:"where a partition without a valid committed offset starts: TRIM_HORIZON (oldest), LATEST (end) or AT_TIMESTAMP"`
	StartingTimestamp string        `mapstructure:"starting-timestamp" help:"RFC 3339 time for AT_TIMESTAMP, e.g. 2025-01-02T15:04:05Z"`
	MaxNumber         uint64        `mapstructure:"max-number" help:"largest N accepted; larger numbers are dead-lettered with reason above_max"`
	MaxRecordBytes    int           `mapstructure:"max-record-bytes" help:"largest record value accepted; larger ones are dead-lettered with reason payload_too_large"`
	TransactionalID   string        `mapstructure:"transactional-id" help:"write each batch's dead letters and its offset commit in one Kafka transaction with this transactional.id (exactly-once failure topic for read_committed readers); stable per instance, unique across instances; empty = at-least-once"`
	Store             string        `mapstructure:"store" help:"result store: sqlite or dynamodb"`
	SQLitePath        string        `mapstructure:"sqlite-path" help:"SQLite database file (--store sqlite)"`
	DynamoDBTable     string        `mapstructure:"dynamodb-table" help:"DynamoDB table, hash key msg_id (S) (--store dynamodb)"`
	DynamoDBEndpoint  string        `mapstructure:"dynamodb-endpoint" help:"DynamoDB endpoint override, e.g. http://127.0.0.1:5000 for moto (default: AWS; region and credentials from the usual AWS environment)"`
	DynamoDBCreate    bool          `mapstructure:"dynamodb-create-table" help:"create the DynamoDB table (on-demand) if it does not exist"`
	DynamoDBConc      int           `mapstructure:"dynamodb-concurrency" range:"1..64" help:"chunks of 25 items of one batch written to DynamoDB at once"`
	MetricsListen     string        `mapstructure:"metrics-listen" help:"address of /metrics, /healthz (alive) and /readyz (200 while consuming); empty disables it"`
	LogLevel          string        `mapstructure:"log-level" help:"log level: debug, info, warn or error (--log-level: deprecated spelling)"`
	LogFormat         string        `mapstructure:"log-format" help:"log format: logfmt or json (text: deprecated spelling of logfmt; --log-format: deprecated spelling)"`
	KafkaOptions      `mapstructure:",squash"`
}

func (c *runConfig) SetDefaults() {
	c.KafkaOptions.SetDefaults()
	c.Topics = []string{"numbers"}
	c.Group = "factor-worker"
	c.FailureTopic = "numbers-failed"
	c.ClientID = "factor-worker"
	c.BatchSize = 100
	c.BatchWindow = 500 * time.Millisecond
	c.MaxRetries = 3
	c.RetryBackoff = 200 * time.Millisecond
	c.MaxRetryBackoff = 10 * time.Second
	c.StoreTimeout = 30 * time.Second
	c.ConnectBackoff = 500 * time.Millisecond
	c.MaxConnectBackoff = 5 * time.Second
	c.StartingPosition = "TRIM_HORIZON"
	c.MaxNumber = message.DefaultMaxNumber
	c.MaxRecordBytes = message.DefaultMaxBytes
	c.Store = "sqlite"
	c.SQLitePath = "factor-results.db"
	c.DynamoDBTable = "factor-results"
	c.DynamoDBConc = 4
	c.MetricsListen = ":9309"
	c.LogLevel = conv.DefaultLogLevel
	c.LogFormat = conv.DefaultLogFormat
}

// produceConfig is factor-worker produce's configuration.
type produceConfig struct {
	Topic        string  `mapstructure:"topic" help:"topic to write to"`
	Count        int64   `mapstructure:"count" help:"number of records to produce"`
	Rate         float64 `mapstructure:"rate" help:"records per second; 0 = as fast as possible"`
	Distribution string  `mapstructure:"distribution" help:"number distribution: uniform or log-uniform"`
	Min          uint64  `mapstructure:"min" help:"smallest number"`
	Max          uint64  `mapstructure:"max" help:"largest number"`
	LargeShare   float64 `mapstructure:"large-share" help:"share (0..1) of numbers drawn from the top half of [min, max]"`
	Malformed    float64 `mapstructure:"malformed" help:"share (0..1) of malformed records"`
	Seed         uint64  `mapstructure:"seed" help:"random seed"`
	LogLevel     string  `mapstructure:"log-level" help:"log level: debug, info, warn or error (--log-level: deprecated spelling)"`
	LogFormat    string  `mapstructure:"log-format" help:"log format: logfmt or json (text: deprecated spelling of logfmt; --log-format: deprecated spelling)"`
	KafkaOptions `mapstructure:",squash"`
}

func (c *produceConfig) SetDefaults() {
	c.KafkaOptions.SetDefaults()
	c.Topic = "numbers"
	c.Count = 10000
	c.Distribution = "log-uniform"
	c.Min = 1
	c.Max = message.DefaultMaxNumber
	c.Seed = 1
	c.LogLevel = conv.DefaultLogLevel
	c.LogFormat = conv.DefaultLogFormat
}

// spec names factor-worker's options: --tls-ca-file, FACTOR_WORKER_TLS_CA_FILE,
// tls: {ca-file: ...}.
var spec = settings.Spec{
	EnvPrefix: "FACTOR_WORKER_",
	// FACTOR_WORKER_TEST_* belong to the test rigs.
	IgnoreEnv: []string{"FACTOR_WORKER_TEST_"},
	Sep:       "-",
	FileFlag:  "config.file",
	FileHelp:  "YAML file of this command's options (keys as the flags, tls: and sasl: blocks); flags and FACTOR_WORKER_* variables override it",
	// --log.level and --log.format as on every offsetlag binary (the
	// file key and the variable keep log-level, FACTOR_WORKER_LOG_LEVEL);
	// --log-level and --log-format stay as hidden aliases (logAliases).
	Rename: map[string]string{"tls-enable": "tls", "log-level": "log.level", "log-format": "log.format"},
}

// configurable is runConfig or produceConfig.
type configurable interface {
	SetDefaults()
}

// loadConfig parses args into cfg (defaults, then the file, the
// environment and the flags). Options of the other command in the
// environment are left alone; unknown FACTOR_WORKER_* variables are an
// error. --help prints the usage to stdout and returns pflag.ErrHelp; any
// other problem is a usageError.
func loadConfig(cfg, other configurable, name string, args, environ []string, stdout io.Writer, summary string) error {
	cfg.SetDefaults()
	fs := spec.FlagSet(name, cfg)
	conv.Alias(fs, logAliases)
	if err := parseFlags(fs, args, stdout, summary); err != nil {
		return err
	}
	mine, theirs := envNames(cfg), envNames(other)
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(mine, k) && slices.Contains(theirs, k) {
			continue
		}
		env = append(env, kv)
	}
	if err := spec.Load(cfg, fs, env); err != nil {
		return usageError{err.Error()}
	}
	if err := settings.Check(cfg, "--"); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// logAliases are the deprecated spellings of the log flags (before the
// convention of internal/cli).
var logAliases = map[string]string{"log-level": "log.level", "log-format": "log.format"}

func envNames(cfg configurable) []string {
	cfg.SetDefaults()
	var out []string
	for _, o := range spec.Options(cfg) {
		out = append(out, o.Env)
	}
	return out
}

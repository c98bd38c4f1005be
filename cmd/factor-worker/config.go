package main

import (
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	conv "github.com/offsetlag/offsetlag/internal/cli"
	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/internal/settings"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/worker/message"
)

// The options of run and produce are declared once each, as tagged struct
// fields (internal/settings): the mapstructure path is the key in the YAML
// file given with --config (kafka: {brokers: ...}), the flag joins it
// with "." as every offsetlag binary does (--kafka.brokers, --batch-size)
// and, upper case with "." and "-" as "_", it names the environment
// variable (FACTOR_WORKER_KAFKA_BROKERS, FACTOR_WORKER_BATCH_SIZE; also
// read as OFFSETLAG_KAFKA_BROKERS, ... below it). Defaults are set by
// SetDefaults, ranges by the range tags. Precedence: flags, then
// FACTOR_WORKER_*, then OFFSETLAG_*, then the file, then the defaults.

// KafkaOptions are the Kafka options of both commands, named as the
// exporter's (--kafka.brokers, --kafka.version, --kafka.tls.*,
// --kafka.sasl.*).
type KafkaOptions struct {
	Brokers []string `mapstructure:"brokers" help:"Kafka bootstrap brokers, comma separated host:port"`
	Version string   `mapstructure:"version" help:"Kafka protocol version to speak (>= 2.1.0); each broker lowers it to what it supports"`
	// TLS and SASL: --kafka.tls.enable, --kafka.tls.ca-file, ...,
	// --kafka.sasl.mechanism, ... (kafka: {tls: ..., sasl: ...} in the file).
	TLS  kafkasec.TLSConfig  `mapstructure:"tls"`
	SASL kafkasec.SASLConfig `mapstructure:"sasl"`
}

func (k *KafkaOptions) SetDefaults() {
	k.Brokers = []string{"127.0.0.1:9092"}
	// The same default as offsetlag-exporter's --kafka.version: the highest
	// protocol spoken; each broker lowers it to what it supports.
	k.Version = kafkaadmin.DefaultVersion
}

// security returns the TLS and SASL settings.
func (k *KafkaOptions) security() kafkasec.Config { return kafkasec.Config{TLS: k.TLS, SASL: k.SASL} }

// runKafka are run's Kafka options: produce's and the client id.
type runKafka struct {
	KafkaOptions `mapstructure:",squash"`
	ClientID     string `mapstructure:"client-id" help:"Kafka client id"`
}

// LogOptions are --log.level and --log.format, as on every offsetlag
// binary (internal/cli).
type LogOptions struct {
	Level  string `mapstructure:"level" help:"log level: debug, info, warn or error"`
	Format string `mapstructure:"format" help:"log format: logfmt or json (text: deprecated spelling of logfmt)"`
}

func (l *LogOptions) SetDefaults() {
	l.Level = conv.DefaultLogLevel
	l.Format = conv.DefaultLogFormat
}

// runConfig is factor-worker run's configuration.
type runConfig struct {
	Kafka             runKafka      `mapstructure:"kafka"`
	Topics            []string      `mapstructure:"topic" help:"source topic(s) to consume, comma separated or repeated"`
	Group             string        `mapstructure:"group" help:"consumer group id (offsets are committed for it)"`
	FailureTopic      string        `mapstructure:"failure-topic" help:"on-failure topic for malformed records and batches that exhausted their retries"`
	BatchSize         int           `mapstructure:"batch-size" range:"1..10000" help:"maximum records per batch, per partition"`
	BatchWindow       time.Duration `mapstructure:"batch-window" range:"0..5m" help:"maximum wait after a batch's first record before the batch is processed"`
	MaxRetries        int           `mapstructure:"max-retries" range:"-1.." help:"store retries of a failing batch before it is dead-lettered; -1 = retry until --max-record-age"`
	MaxRecordAge      time.Duration `mapstructure:"max-record-age" range:"0.." help:"dead-letter a failing batch once its oldest record is older than this; 0 = no limit"`
	RetryBackoff      time.Duration `mapstructure:"retry-backoff" range:"1ms..1h" help:"first wait before retrying a failed batch; doubles per retry"`
	MaxRetryBackoff   time.Duration `mapstructure:"max-retry-backoff" range:"1ms..1h" help:"maximum wait between retries (at least --retry-backoff)"`
	StoreTimeout      time.Duration `mapstructure:"store-timeout" range:"1ms..1h" help:"timeout of one store write"`
	BisectOnError     bool          `mapstructure:"bisect-on-error" help:"split a batch whose store write fails (without naming the failed records) in two halves and retry each, down to single records, so only the records that fail are dead-lettered (Lambda BisectBatchOnFunctionError); splits do not count against --max-retries"`
	ConnectBackoff    time.Duration `mapstructure:"connect-backoff" range:"1ms..1h" help:"first wait before retrying to connect to Kafka or join the group; doubles per failure"`
	MaxConnectBackoff time.Duration `mapstructure:"max-connect-backoff" range:"1ms..1h" help:"maximum wait between Kafka connection or group join attempts (at least --connect-backoff)"`
	StartingPosition  string        `mapstructure:"starting-position" help:"where a partition without a valid committed offset starts: TRIM_HORIZON (oldest), LATEST (end) or AT_TIMESTAMP"`
	StartingTimestamp string        `mapstructure:"starting-timestamp" help:"RFC 3339 time for AT_TIMESTAMP, e.g. 2025-01-02T15:04:05Z"`
	MaxNumber         uint64        `mapstructure:"max-number" range:"1.." help:"largest N accepted; larger numbers are dead-lettered with reason above_max"`
	MaxRecordBytes    int           `mapstructure:"max-record-bytes" range:"16.." help:"largest record value accepted; larger ones are dead-lettered with reason payload_too_large"`
	TransactionalID   string        `mapstructure:"transactional-id" help:"write each batch's dead letters and its offset commit in one Kafka transaction with this transactional.id (exactly-once failure topic for read_committed readers); stable per instance, unique across instances; empty = at-least-once"`
	Store             string        `mapstructure:"store" oneof:"sqlite|dynamodb" help:"result store: sqlite or dynamodb"`
	SQLitePath        string        `mapstructure:"sqlite-path" help:"SQLite database file (--store sqlite)"`
	DynamoDBTable     string        `mapstructure:"dynamodb-table" help:"DynamoDB table, hash key msg_id (S) (--store dynamodb)"`
	DynamoDBEndpoint  string        `mapstructure:"dynamodb-endpoint" help:"DynamoDB endpoint override, e.g. http://127.0.0.1:5000 for moto (default: AWS; region and credentials from the usual AWS environment)"`
	DynamoDBCreate    bool          `mapstructure:"dynamodb-create-table" help:"create the DynamoDB table (on-demand) if it does not exist"`
	DynamoDBConc      int           `mapstructure:"dynamodb-concurrency" range:"1..64" help:"chunks of 25 items of one batch written to DynamoDB at once"`
	Web               struct {
		ListenAddress string `mapstructure:"listen-address" help:"address of /metrics, /healthz (alive) and /readyz (200 while consuming); empty disables it"`
	} `mapstructure:"web"`
	Log LogOptions `mapstructure:"log"`
}

func (c *runConfig) SetDefaults() {
	c.Kafka.SetDefaults()
	c.Kafka.ClientID = "factor-worker"
	c.Topics = []string{"numbers"}
	c.Group = "factor-worker"
	c.FailureTopic = "numbers-failed"
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
	c.Web.ListenAddress = ":9309"
	c.Log.SetDefaults()
}

// produceConfig is factor-worker produce's configuration.
type produceConfig struct {
	Kafka        KafkaOptions `mapstructure:"kafka"`
	Topic        string       `mapstructure:"topic" help:"topic to write to"`
	Count        int64        `mapstructure:"count" range:"1.." help:"number of records to produce"`
	Rate         float64      `mapstructure:"rate" help:"records per second; 0 = as fast as possible (range: at least 0)"`
	Distribution string       `mapstructure:"distribution" oneof:"uniform|log-uniform" help:"number distribution: uniform or log-uniform"`
	Min          uint64       `mapstructure:"min" range:"1.." help:"smallest number"`
	Max          uint64       `mapstructure:"max" range:"1.." help:"largest number (at least --min)"`
	LargeShare   float64      `mapstructure:"large-share" help:"share of numbers drawn from the top half of [--min, --max] (range: 0 to 1)"`
	Malformed    float64      `mapstructure:"malformed" help:"share of malformed records (range: 0 to 1)"`
	Seed         uint64       `mapstructure:"seed" help:"random seed"`
	Log          LogOptions   `mapstructure:"log"`
}

func (c *produceConfig) SetDefaults() {
	c.Kafka.SetDefaults()
	c.Topic = "numbers"
	c.Count = 10000
	c.Distribution = "log-uniform"
	c.Min = 1
	c.Max = message.DefaultMaxNumber
	c.Seed = 1
	c.Log.SetDefaults()
}

// spec names factor-worker's options as the exporter's spec does:
// --kafka.tls.ca-file, FACTOR_WORKER_KAFKA_TLS_CA_FILE (or, below it,
// OFFSETLAG_KAFKA_TLS_CA_FILE), kafka: {tls: {ca-file: ...}}.
var spec = settings.Spec{
	EnvPrefix:    "FACTOR_WORKER_",
	AltEnvPrefix: "OFFSETLAG_",
	// FACTOR_WORKER_TEST_* and OFFSETLAG_TEST_* belong to the test rigs.
	IgnoreEnv: []string{"FACTOR_WORKER_TEST_", "OFFSETLAG_TEST_"},
	Sep:       ".",
	FileFlag:  "config",
	FileHelp:  "YAML file of this command's options (see configs/factor-worker.yaml); flags, FACTOR_WORKER_* and OFFSETLAG_* variables override it",
}

// deprecatedFlags are the spellings of factor-worker's flags before the
// convention of every offsetlag binary (internal/cli): hidden aliases of
// the flag they map to, a warning each time one is used.
var deprecatedFlags = map[string]string{
	"brokers":        "kafka.brokers",
	"kafka-version":  "kafka.version",
	"client-id":      "kafka.client-id",
	"tls":            "kafka.tls.enable",
	"metrics-listen": "web.listen-address",
	"log-level":      "log.level",
	"log-format":     "log.format",
	"config.file":    "config",
}

func init() {
	for _, o := range []string{"ca-file", "cert-file", "key-file", "server-name", "insecure-skip-verify"} {
		deprecatedFlags["tls-"+o] = "kafka.tls." + o
	}
	for _, o := range []string{"mechanism", "username", "password", "password-file", "aws-region", "aws-role-arn"} {
		deprecatedFlags["sasl-"+o] = "kafka.sasl." + o
	}
}

// envUsage is the part of --help on the environment and the file.
const envUsage = `Configuration, highest precedence first: flags; FACTOR_WORKER_<KEY>;
OFFSETLAG_<KEY> (the exporter's prefix: OFFSETLAG_KAFKA_BROKERS serves both);
the YAML file of --config (or FACTOR_WORKER_CONFIG, OFFSETLAG_CONFIG); the
defaults. KEY is the flag in upper case with "." and "-" as "_":
--kafka.sasl.password is FACTOR_WORKER_KAFKA_SASL_PASSWORD.
A variable with either prefix that is no option of this command (or of the
other one) is an error, exit 2; FACTOR_WORKER_TEST_* and OFFSETLAG_TEST_* are
ignored.`

// deprecatedUsage is the part of --help that lists the deprecated
// spellings of the flags fs has.
func deprecatedUsage(fs *pflag.FlagSet) string {
	var pairs []string
	for old, now := range deprecatedFlags {
		if fs.Lookup(now) != nil {
			pairs = append(pairs, "--"+old+" (--"+now+")")
		}
	}
	slices.Sort(pairs)
	var b strings.Builder
	b.WriteString("Deprecated spellings, hidden, still accepted with a warning:")
	n := len(b.String())
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(",")
			n++
		}
		if n+1+len(p) > 80 {
			b.WriteString("\n ")
			n = 1
		}
		b.WriteString(" " + p)
		n += 1 + len(p)
	}
	return b.String()
}

// configurable is runConfig or produceConfig.
type configurable interface {
	SetDefaults()
}

// loadConfig parses args into cfg (defaults, then the file, OFFSETLAG_*,
// FACTOR_WORKER_* and the flags). Options of the other command in the
// environment are left alone; other variables with either prefix are an
// error. --help prints the usage to stdout and returns pflag.ErrHelp; any
// other problem is a conv.UsageError.
func loadConfig(cfg, other configurable, name string, args, environ []string, stdout io.Writer, summary string) error {
	cfg.SetDefaults()
	fs := spec.FlagSet(name, cfg)
	conv.Alias(fs, deprecatedFlags)
	if err := parseFlags(fs, args, stdout, summary+"\n\n"+envUsage+"\n\n"+deprecatedUsage(fs)); err != nil {
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
		return conv.UsageError{Msg: err.Error()}
	}
	if err := settings.Check(cfg, "--"); err != nil {
		return conv.UsageError{Msg: err.Error()}
	}
	return nil
}

// envNames are the variables of cfg's options, with either prefix.
func envNames(cfg configurable) []string {
	cfg.SetDefaults()
	var out []string
	for _, o := range spec.Options(cfg) {
		out = append(out, o.Env, spec.AltEnvPrefix+strings.TrimPrefix(o.Env, spec.EnvPrefix))
	}
	return out
}

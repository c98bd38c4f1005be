package cloudwatch

import (
	"fmt"
	"strings"
	"time"
)

// Mode is how the exporter publishes: not at all, with PutMetricData, or
// as Embedded Metric Format lines.
type Mode string

// Modes.
const (
	ModeOff Mode = "off" // no CloudWatch output (default)
	ModeAPI Mode = "api" // PutMetricData calls
	ModeEMF Mode = "emf" // Embedded Metric Format lines on stdout or a file
)

// Config is what a user configures of the publisher: the exporter's
// cloudwatch.* options. Each field is one option, declared once: its
// mapstructure key, help and range or oneof tags give the flag
// (--cloudwatch.queue-size), the environment variable and the YAML key,
// and their checks (internal/settings); SetDefaults gives its default.
// Options embeds it, so the publisher reads the same fields.
type Config struct {
	Mode      Mode   `mapstructure:"mode" oneof:"off|api|emf" help:"CloudWatch output: off, api (PutMetricData) or emf (Embedded Metric Format lines, see --cloudwatch.emf-output)"`
	Namespace string `mapstructure:"namespace" help:"CloudWatch namespace (MSK's AWS/Kafka is reserved to AWS)"`
	// Region, Endpoint and Protocol configure the client (ClientOptions);
	// credentials always come from the default chain.
	Region   string   `mapstructure:"region" help:"AWS region (default: the AWS default chain, e.g. AWS_REGION)"`
	Endpoint string   `mapstructure:"endpoint" help:"CloudWatch endpoint URL override (VPC endpoint, test server)"`
	Protocol Protocol `mapstructure:"protocol" oneof:"default|json|query" help:"wire protocol: default (the SDK's, Smithy RPC v2 CBOR), json or query"`
	// StorageResolution is 60 (standard) or 1 (high resolution, billed
	// as such when alarms query it below a minute).
	StorageResolution int `mapstructure:"storage-resolution" range:"1|60" help:"storage resolution in seconds: 60 (standard) or 1 (high resolution)"`
	// PartitionMetrics adds per-partition metrics (see BuildOptions).
	PartitionMetrics bool `mapstructure:"partition-metrics" help:"also publish per-partition OffsetLag and EstimatedTimeLag (one custom metric per group-partition: mind the cost)"`
	// MaxMetrics is the budget of distinct metrics of one publish, across
	// all clusters (0: no budget). With a PublishPeriod each metric is
	// published once per period, so this caps the custom metrics billed.
	// Beyond it the lowest-priority datums are dropped (see applyBudget).
	MaxMetrics int `mapstructure:"max-metrics" range:"0..10000000" help:"budget of distinct metrics per publish across all clusters (what CloudWatch bills); beyond it partition, then optional, then group+topic metrics are dropped, smallest lag first, with a warning naming what was cut (0: no budget)"`
	// MaxDatumsPerPoll is MaxMetrics' deprecated former name, used when
	// set and MaxMetrics is at its default.
	MaxDatumsPerPoll int `mapstructure:"max-datums-per-poll" range:"0..10000000" help:"deprecated: the former name of max-metrics (used when set and max-metrics is left at its default)"`
	// PublishPeriod is how often the latest Result is published (0: at
	// every Enqueue, i.e. every poll). Independent of the poll interval:
	// a period of 60 s publishes one point a minute per metric, as MSK.
	PublishPeriod time.Duration `mapstructure:"publish-period" range:"0|1s..24h" help:"how often the latest poll is published, independent of poll.interval (one point per metric and period, as MSK: 60s; 0: every poll)"`
	// InvalidNames: what to do with a dimension value CloudWatch rejects
	// (non-ASCII, control characters, blank, too long).
	InvalidNames InvalidNames `mapstructure:"invalid-names" oneof:"map|drop" help:"dimension values CloudWatch rejects (non-ASCII, control characters, blank, > 1024): map (escape + hash, see README) or drop (counted, logged once)"`
	// QueueSize is how many polls wait at most; when full, the oldest is
	// dropped.
	QueueSize int `mapstructure:"queue-size" range:"1..1000" help:"polls waiting to be published at most; when full the oldest is dropped"`
	// Concurrency is the most PutMetricData requests in flight.
	Concurrency int `mapstructure:"concurrency" range:"1..100" help:"PutMetricData requests in flight at most"`
	// MaxAttempts per request (1: no retries).
	MaxAttempts int `mapstructure:"max-attempts" range:"1..20" help:"attempts per request (throttling, 5xx and network errors are retried with backoff)"`
	// RequestTimeout bounds one attempt.
	RequestTimeout time.Duration `mapstructure:"request-timeout" range:"100ms..5m" help:"timeout of one PutMetricData attempt"`
	// FlushTimeout bounds the flush at shutdown (Stop's context).
	FlushTimeout time.Duration `mapstructure:"flush-timeout" range:"0|100ms..10m" help:"time given to publish queued polls at shutdown"`
	// EMFOutput is where emf mode writes: "stdout" or a file path
	// (appended to).
	EMFOutput string `mapstructure:"emf-output" help:"where emf mode writes: stdout or a file path (appended to)"`
}

// SetDefaults sets every field to its default (off).
func (c *Config) SetDefaults() {
	c.Mode = ModeOff
	c.Namespace = DefaultNamespace
	c.Protocol = ProtocolDefault
	c.StorageResolution = 60
	c.MaxMetrics = 5000
	c.PublishPeriod = time.Minute
	c.InvalidNames = InvalidNamesMap
	c.QueueSize = 10
	c.Concurrency = 4
	c.MaxAttempts = 5
	c.RequestTimeout = 15 * time.Second
	c.FlushTimeout = 10 * time.Second
	c.EMFOutput = "stdout"
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	var c Config
	c.SetDefaults()
	return c
}

// Validate reports what the tags cannot say (their ranges and value lists
// are checked by the loader, internal/settings): the namespace and the
// EMF output, when publishing.
func (c *Config) Validate() error {
	if c.Mode == ModeOff {
		return nil
	}
	if c.Namespace == "" || strings.HasPrefix(c.Namespace, "AWS/") || len(c.Namespace) > 255 {
		return fmt.Errorf("cloudwatch.namespace %q: 1 to 255 characters, not starting with AWS/", c.Namespace)
	}
	if c.Mode == ModeEMF && c.EMFOutput == "" {
		return fmt.Errorf("cloudwatch.emf-output: stdout or a file path")
	}
	return nil
}

// PublisherOptions returns the publisher's options (without the client,
// EMF writer, cluster names and logger, which the caller sets), with the
// budget of the deprecated max-datums-per-poll when only that one was
// changed.
func (c Config) PublisherOptions() Options {
	o := Options{Config: c}
	if c.MaxDatumsPerPoll != 0 && c.MaxMetrics == DefaultConfig().MaxMetrics {
		o.MaxMetrics = c.MaxDatumsPerPoll
	}
	return o
}

// ClientOptions returns the AWS client options.
func (c Config) ClientOptions() ClientOptions {
	return ClientOptions{Region: c.Region, Endpoint: c.Endpoint, Protocol: c.Protocol}
}

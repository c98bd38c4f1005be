// Package appconfig composes the exporter's configuration from a YAML file,
// OFFSETLAG_* environment variables and command-line flags (in rising
// precedence), strictly: unknown keys, bad durations, bad regular
// expressions and missing brokers are errors that name the problem.
//
// Each option is one tagged struct field (internal/settings derives its
// flag, environment variable and YAML key), its default set by its
// section's SetDefaults. Sections used by one package are that package's
// own Config (exporter.Config for poll.* and shard.*, status.Config for
// timelag.* and status.*, namefilter.Config for the groups and topics
// filters, expiry.Config for expiry and state, cloudwatch.Config,
// metrics.Options, httpserver.Limits, lambdaesm.Settings, kafkasec's TLS
// and SASL), embedded here; the sections that compose several packages
// (kafka and clusters, web, log, ha) are declared here.
package appconfig

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/status"
	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/internal/namefilter"
	"github.com/offsetlag/offsetlag/internal/settings"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// Config is the whole exporter configuration. Each field is one option
// (or a section of them): its mapstructure tag is the YAML key, from which
// the flag (--kafka.dial-timeout) and the environment variable
// (OFFSETLAG_KAFKA_DIAL_TIMEOUT) are derived; help is the --help text and
// range the valid values (internal/settings). Defaults are set by
// SetDefaults, the checks beyond ranges by Validate.
type Config struct {
	// Kafka is the single-cluster shorthand (--kafka.brokers); its
	// settings are also the defaults of every cluster in Clusters.
	Kafka KafkaConfig `mapstructure:"kafka"`
	// Clusters are more clusters (file only).
	Clusters []ClusterConfig `mapstructure:"clusters"`
	// Exporter is the poll.* and shard.* sections: exporter.Config,
	// owned by the exporter (Poll, Shard).
	Exporter exporter.Config   `mapstructure:",squash"`
	Groups   namefilter.Config `mapstructure:"groups" help:"consumer groups"`
	Topics   namefilter.Config `mapstructure:"topics" help:"topics"`
	// Trends are the timelag.* and status.* sections: exporter/status's
	// Config.
	Trends  status.Config `mapstructure:",squash"`
	Metrics MetricsConfig `mapstructure:"metrics"`
	Web     WebConfig     `mapstructure:"web"`
	Log     LogConfig     `mapstructure:"log"`
	// Config is the expiry.* and state.* sections: expiry.Config,
	// owned by exporter/expiry (expiry.go).
	expiry.Config `mapstructure:",squash"`
	// CloudWatch configures the CloudWatch publisher (cloudwatch.go).
	CloudWatch CloudWatchConfig `mapstructure:"cloudwatch"`
	// LambdaESM configures Lambda event source mapping discovery (esm.go).
	LambdaESM LambdaESMConfig `mapstructure:"lambda-esm"`
	// HA runs replicas coordinated through Kafka (ha.go).
	HA HAConfig `mapstructure:"ha"`
}

// SetDefaults sets every option to its default (kminion's pattern: each
// section sets its own).
func (c *Config) SetDefaults() {
	c.Kafka.SetDefaults()
	c.Exporter.SetDefaults()
	c.Groups.SetDefaults()
	c.Topics.SetDefaults()
	c.Trends.SetDefaults()
	c.Metrics.SetDefaults()
	c.Web.SetDefaults()
	c.Log.SetDefaults()
	c.CloudWatch.SetDefaults()
	c.LambdaESM.SetDefaults()
	c.HA.SetDefaults()
}

// ClusterSettings are a cluster's settings: those of the kafka shorthand
// are the defaults of every cluster of the clusters list (see
// settings.Inherit), except the ones tagged inherit:"no".
type ClusterSettings struct {
	Brokers     []string      `mapstructure:"brokers" inherit:"no" help:"bootstrap brokers of a single cluster, host:port[,host:port] (or use clusters: in the config file)"`
	Version     string        `mapstructure:"version" help:"highest Kafka version whose protocol to use (brokers lower it to what they support; at least 2.1.0)"`
	Isolation   string        `mapstructure:"isolation" help:"end offset lag is measured against: read_uncommitted (high watermark) or read_committed (last stable offset)"`
	ClientID    string        `mapstructure:"client-id" help:"client id sent to the brokers"`
	DialTimeout time.Duration `mapstructure:"dial-timeout" range:"100ms..5m" help:"timeout to connect to a broker"`
	// TLS and SASL secure the connections (security.go); a cluster of the
	// clusters list without its own blocks inherits the kafka ones.
	TLS  kafkasec.TLSConfig  `mapstructure:"tls"`
	SASL kafkasec.SASLConfig `mapstructure:"sasl"`
	// OffsetsRetention overrides the brokers' offsets.retention.minutes
	// for expiry predictions (expiry.go); 0 reads it from the brokers.
	OffsetsRetention time.Duration `mapstructure:"offsets-retention" range:"0|1s..87600h" help:"committed-offset retention for expiry predictions, overriding the brokers' offsets.retention.minutes (0: read it from the brokers with DescribeConfigs)"`
	// MSKClusterARN matches Lambda event source mappings to the cluster
	// (esm.go); not inherited by the clusters list.
	MSKClusterARN string `mapstructure:"msk-cluster-arn" inherit:"no" help:"Amazon MSK cluster ARN of the --kafka.brokers cluster, to match Lambda event source mappings to it (lambda-esm)"`
}

// KafkaConfig is the single-cluster shorthand.
type KafkaConfig struct {
	ClusterName     string `mapstructure:"cluster-name" help:"cluster_name label of the --kafka.brokers cluster"`
	ClusterSettings `mapstructure:",squash"`
}

// SetDefaults sets the kafka.* defaults, which clusters inherit.
func (k *KafkaConfig) SetDefaults() {
	k.ClusterName = defaultClusterName
	k.Version = kafkaadmin.DefaultVersion
	k.Isolation = string(kafkaadmin.ReadUncommitted)
	k.ClientID = kafkaadmin.DefaultClientID
	k.DialTimeout = kafkaadmin.DefaultDialTimeout
}

// ClusterConfig is one Kafka cluster of the clusters list.
type ClusterConfig struct {
	Name            string `mapstructure:"name"`
	ClusterSettings `mapstructure:",squash"`
}

// MetricsConfig shapes the Prometheus output: metrics.Options, owned by
// the metrics package.
type MetricsConfig = metrics.Options

// WebConfig is the HTTP server: addresses, TLS and its connection limits
// (internal/httpserver; README "HTTP limits").
type WebConfig struct {
	ListenAddress     []string `mapstructure:"listen-address" help:"addresses to serve HTTP on (repeatable)"`
	ConfigFile        string   `mapstructure:"config-file" help:"exporter-toolkit web configuration file for TLS and basic auth"`
	TelemetryPath     string   `mapstructure:"telemetry-path" help:"path of the metrics endpoint"`
	httpserver.Limits `mapstructure:",squash"`
}

// SetDefaults sets the web.* defaults.
func (w *WebConfig) SetDefaults() {
	w.ListenAddress = []string{":9745"}
	w.TelemetryPath = "/metrics"
	w.Limits.SetDefaults()
}

// LogConfig is the logger.
type LogConfig struct {
	Level  string `mapstructure:"level" oneof:"debug|info|warn|error" help:"log level: debug, info, warn, error"`
	Format string `mapstructure:"format" oneof:"logfmt|json" help:"log format: logfmt or json"`
}

// SetDefaults sets the log.* defaults.
func (l *LogConfig) SetDefaults() { l.Level, l.Format = "info", "logfmt" }

// spec names the exporter's options: --kafka.dial-timeout,
// OFFSETLAG_KAFKA_DIAL_TIMEOUT, kafka: {dial-timeout: ...}.
var spec = settings.Spec{
	EnvPrefix: "OFFSETLAG_",
	// OFFSETLAG_TEST_* belong to the test rigs, not to the exporter.
	IgnoreEnv: []string{"OFFSETLAG_TEST_"},
	Sep:       ".",
	FileFlag:  "config",
	FileHelp:  "YAML configuration file (see configs/exporter.yaml); flags and OFFSETLAG_* variables override it",
}

// Defaults returns a configuration with every option at its default.
func Defaults() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// Options returns every option, in --help order.
func Options() []settings.Option { return spec.Options(Defaults()) }

// Flags returns a flag set with every option.
func Flags(name string) *pflag.FlagSet { return spec.FlagSet(name, Defaults()) }

// Load reads the configuration: defaults, then the file named by --config
// (or OFFSETLAG_CONFIG), then the environment, then flags set on the command
// line, and validates it. fs must come from Flags and be parsed.
func Load(fs *pflag.FlagSet, environ []string) (*Config, error) {
	c := Defaults()
	if err := spec.Load(c, fs, environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// ClusterList returns the configured clusters: the kafka shorthand when
// it has brokers, then the clusters list, whose settings left empty
// inherit the kafka.* ones (a tls: or sasl: block as a whole).
func (c *Config) ClusterList() []ClusterConfig {
	var out []ClusterConfig
	if len(c.Kafka.Brokers) > 0 {
		out = append(out, ClusterConfig{Name: c.Kafka.ClusterName, ClusterSettings: c.Kafka.ClusterSettings})
	}
	for _, cl := range c.Clusters {
		settings.Inherit(&cl.ClusterSettings, c.Kafka.ClusterSettings)
		out = append(out, cl)
	}
	return out
}

// Validate reports the first problem.
func (c *Config) Validate() error {
	clusters := c.ClusterList()
	if len(clusters) == 0 {
		return errors.New("no Kafka brokers: set --kafka.brokers host:port or clusters: in the config file")
	}
	if err := c.validateBounds(); err != nil {
		return err
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, cl := range clusters {
		kc := cl.Admin()
		if err := kc.Validate(); err != nil {
			return err
		}
		if seen[cl.Name] {
			return fmt.Errorf("cluster %q configured twice", cl.Name)
		}
		seen[cl.Name] = true
		// One check of the ARN, for CloudWatch's Cluster Name and for
		// matching Lambda event source mappings alike.
		if _, ok := MSKClusterName(cl.MSKClusterARN); cl.MSKClusterARN != "" && !ok {
			return fmt.Errorf("cluster %q: msk-cluster-arn %q: want arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>", cl.Name, cl.MSKClusterARN)
		}
	}
	if _, err := c.Groups.Compile("groups"); err != nil {
		return err
	}
	if _, err := c.Topics.Compile("topics"); err != nil {
		return err
	}
	if len(c.Web.ListenAddress) == 0 {
		return errors.New("web.listen-address: at least one address")
	}
	if !strings.HasPrefix(c.Web.TelemetryPath, "/") || c.Web.TelemetryPath == "/" {
		return fmt.Errorf("web.telemetry-path %q: must start with / and not be /", c.Web.TelemetryPath)
	}
	if err := c.Trends.Validate(); err != nil {
		return err
	}
	if err := c.validateExpiry(); err != nil {
		return err
	}
	if err := c.validateLambdaESM(); err != nil {
		return err
	}
	if err := c.validateHA(); err != nil {
		return err
	}
	return c.validateCloudWatch()
}

// Admin returns the kafkaadmin configuration of the cluster (without
// filters).
func (cl ClusterConfig) Admin() kafkaadmin.Config {
	kc := kafkaadmin.Config{Name: cl.Name, Brokers: cl.Brokers, Version: cl.Version,
		Isolation: kafkaadmin.Isolation(cl.Isolation), ClientID: cl.ClientID, DialTimeout: cl.DialTimeout}
	if sec := cl.Security(); !sec.IsZero() {
		kc.Customize = sec.Apply
	}
	kc.SetDefaults()
	return kc
}

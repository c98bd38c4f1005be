// Package appconfig composes the exporter's configuration from a YAML file,
// OFFSETLAG_* environment variables and command-line flags (in rising
// precedence), strictly: unknown keys, bad durations, bad regular
// expressions and missing brokers are errors that name the problem.
package appconfig

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/internal/httpserver"
	"github.com/offsetlag/offsetlag/internal/kafkasec"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// Config is the whole exporter configuration.
type Config struct {
	// Kafka is the single-cluster shorthand (--kafka.brokers).
	Kafka    KafkaConfig     `mapstructure:"kafka"`
	Clusters []ClusterConfig `mapstructure:"clusters"`
	Poll     PollConfig      `mapstructure:"poll"`
	Groups   FilterConfig    `mapstructure:"groups"`
	Topics   FilterConfig    `mapstructure:"topics"`
	Metrics  MetricsConfig   `mapstructure:"metrics"`
	Web      WebConfig       `mapstructure:"web"`
	Log      LogConfig       `mapstructure:"log"`
	// TimeLag and Status configure trends (trends.go).
	TimeLag TimeLagConfig `mapstructure:"timelag"`
	Status  StatusConfig  `mapstructure:"status"`
	// Expiry configures offset-expiry prediction and State where its state
	// is kept (expiry.go).
	Expiry ExpiryConfig `mapstructure:"expiry"`
	State  StateConfig  `mapstructure:"state"`
	// CloudWatch configures the CloudWatch publisher (cloudwatch.go).
	CloudWatch CloudWatchConfig `mapstructure:"cloudwatch"`
	// LambdaESM configures Lambda event source mapping discovery (esm.go).
	LambdaESM LambdaESMConfig `mapstructure:"lambda-esm"`
	// Sharding splits the groups across replicas (shard.go).
	Sharding ShardConfig `mapstructure:"shard"`
	// HA runs replicas coordinated through Kafka (ha.go).
	HA HAConfig `mapstructure:"ha"`
}

// KafkaConfig is the single-cluster shorthand; its settings other than
// brokers are also the defaults of every cluster in the clusters list.
type KafkaConfig struct {
	ClusterName string        `mapstructure:"cluster-name"`
	Brokers     []string      `mapstructure:"brokers"`
	Version     string        `mapstructure:"version"`
	Isolation   string        `mapstructure:"isolation"`
	ClientID    string        `mapstructure:"client-id"`
	DialTimeout time.Duration `mapstructure:"dial-timeout"`
	// TLS and SASL secure the connections (security.go); a cluster of the
	// clusters list without its own blocks inherits the kafka ones.
	TLS  kafkasec.TLSConfig  `mapstructure:"tls"`
	SASL kafkasec.SASLConfig `mapstructure:"sasl"`
	// OffsetsRetention overrides the brokers' offsets.retention.minutes
	// for expiry predictions (expiry.go); 0 reads it from the brokers.
	OffsetsRetention time.Duration `mapstructure:"offsets-retention"`
	// MSKClusterARN matches Lambda event source mappings to the cluster
	// (esm.go); not inherited by the clusters list.
	MSKClusterARN string `mapstructure:"msk-cluster-arn"`
}

// ClusterConfig is one Kafka cluster.
type ClusterConfig struct {
	Name        string        `mapstructure:"name"`
	Brokers     []string      `mapstructure:"brokers"`
	Version     string        `mapstructure:"version"`
	Isolation   string        `mapstructure:"isolation"`
	ClientID    string        `mapstructure:"client-id"`
	DialTimeout time.Duration `mapstructure:"dial-timeout"`
	// TLS and SASL secure the connections (security.go); a cluster of the
	// clusters list without its own blocks inherits the kafka ones.
	TLS  kafkasec.TLSConfig  `mapstructure:"tls"`
	SASL kafkasec.SASLConfig `mapstructure:"sasl"`
	// OffsetsRetention: see KafkaConfig.
	OffsetsRetention time.Duration `mapstructure:"offsets-retention"`
	// MSKClusterARN: see KafkaConfig.
	MSKClusterARN string `mapstructure:"msk-cluster-arn"`
}

// PollConfig sets how often clusters are polled.
type PollConfig struct {
	Interval time.Duration `mapstructure:"interval"`
	Timeout  time.Duration `mapstructure:"timeout"`
	// StaleAfter bounds how long data a partial poll could not read is
	// carried from its last good read; 0 means 3 poll intervals.
	StaleAfter time.Duration `mapstructure:"stale-after"`
	// MaxConcurrentClusters limits the clusters polled at once (shard.go);
	// 0 polls all at once.
	MaxConcurrentClusters int `mapstructure:"max-concurrent-clusters"`
}

// FilterConfig is a pair of anchored regular expression lists.
type FilterConfig struct {
	Allow []string `mapstructure:"allow"`
	Deny  []string `mapstructure:"deny"`
}

// MetricsConfig shapes the Prometheus output.
type MetricsConfig struct {
	Granularity string `mapstructure:"granularity"`
	// Enums: all or current (metrics.Enums).
	Enums string `mapstructure:"enums"`
	// Compat: none or kafka_exporter (metrics.Compat).
	Compat string `mapstructure:"compat"`
}

// WebConfig is the HTTP server.
type WebConfig struct {
	ListenAddress []string `mapstructure:"listen-address"`
	ConfigFile    string   `mapstructure:"config-file"`
	TelemetryPath string   `mapstructure:"telemetry-path"`
	// ReadTimeout, WriteTimeout, IdleTimeout and MaxHeaderBytes bound
	// every connection (internal/httpserver; README "HTTP limits").
	ReadTimeout    time.Duration `mapstructure:"read-timeout"`
	WriteTimeout   time.Duration `mapstructure:"write-timeout"`
	IdleTimeout    time.Duration `mapstructure:"idle-timeout"`
	MaxHeaderBytes int           `mapstructure:"max-header-bytes"`
}

// Limits returns the HTTP server limits.
func (w WebConfig) Limits() httpserver.Limits {
	return httpserver.Limits{ReadTimeout: w.ReadTimeout, WriteTimeout: w.WriteTimeout, IdleTimeout: w.IdleTimeout,
		MaxHeaderBytes: w.MaxHeaderBytes}
}

// LogConfig is the logger.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// flagDefs are every flag: key, default, help. Keys are the YAML paths;
// the environment variable is OFFSETLAG_ + the key upper-cased with . and -
// replaced by _.
type flagDef struct {
	key  string
	def  any
	help string
}

// allFlagDefs are the core flags followed by each feature's own.
func allFlagDefs() []flagDef {
	out := append([]flagDef(nil), flagDefs...)
	out = append(out, trendsFlagDefs...)
	out = append(out, expiryFlagDefs...)
	out = append(out, cloudwatchFlagDefs...)
	out = append(out, securityFlagDefs...)
	out = append(out, esmFlagDefs...)
	out = append(out, shardFlagDefs...)
	out = append(out, haFlagDefs...)
	return out
}

var flagDefs = []flagDef{
	{"config", "", "YAML configuration file (see configs/exporter.yaml); flags and OFFSETLAG_* variables override it"},
	{"kafka.brokers", []string{}, "bootstrap brokers of a single cluster, host:port[,host:port] (or use clusters: in the config file)"},
	{"kafka.cluster-name", "default", "cluster_name label of the --kafka.brokers cluster"},
	{"kafka.version", kafkaadmin.DefaultVersion, "highest Kafka version whose protocol to use (brokers lower it to what they support; at least 2.1.0)"},
	{"kafka.isolation", string(kafkaadmin.ReadUncommitted), "end offset lag is measured against: read_uncommitted (high watermark) or read_committed (last stable offset)"},
	{"kafka.client-id", kafkaadmin.DefaultClientID, "client id sent to the brokers"},
	{"kafka.dial-timeout", kafkaadmin.DefaultDialTimeout, "timeout to connect to a broker"},
	{"poll.interval", exporter.DefaultInterval, "time between two polls of a cluster; /metrics serves the last poll's data"},
	{"poll.timeout", time.Duration(0), "deadline of one poll (0: the poll interval)"},
	{"poll.stale-after", time.Duration(0), "what a partial poll could not read is carried from its last good read for at most this long, then dropped (0: 3 poll intervals)"},
	{"groups.allow", []string{}, "only export consumer groups matching one of these anchored regular expressions (default: all)"},
	{"groups.deny", []string{}, "never export consumer groups matching one of these anchored regular expressions (wins over allow)"},
	{"topics.allow", []string{}, "only export topics matching one of these anchored regular expressions (default: all)"},
	{"topics.deny", []string{}, "never export topics matching one of these anchored regular expressions (wins over allow)"},
	{"metrics.granularity", string(metrics.GranularityPartition), "partition: per-partition series; topic: only group+topic and group aggregates (caps cardinality)"},
	{"metrics.enums", string(metrics.EnumsAll), "all: one series per possible value of state, status, topic status and time-lag source families (1 current, 0 others); current: only the current value's series (caps cardinality)"},
	{"metrics.compat", string(metrics.CompatNone), "none, or kafka_exporter: also serve kafka_exporter's names and labels (kafka_consumergroup_lag{consumergroup,topic,partition}, ...) for the same data, without -1 series"},
	{"web.listen-address", []string{":9745"}, "addresses to serve HTTP on (repeatable)"},
	{"web.config-file", "", "exporter-toolkit web configuration file for TLS and basic auth"},
	{"web.telemetry-path", "/metrics", "path of the metrics endpoint"},
	{"web.read-timeout", httpserver.DefaultReadTimeout, "time to read a whole request, headers and body, from a client"},
	{"web.write-timeout", httpserver.DefaultWriteTimeout, "time to write a whole response: a client that reads slower (or stalls) is disconnected; keep it above the largest scrape_timeout and the time /metrics takes"},
	{"web.idle-timeout", httpserver.DefaultIdleTimeout, "keep-alive connections idle this long are closed"},
	{"web.max-header-bytes", httpserver.DefaultMaxHeaderBytes, "largest request header accepted (431 beyond)"},
	{"log.level", "info", "log level: debug, info, warn, error"},
	{"log.format", "logfmt", "log format: logfmt or json"},
}

// Flags returns a flag set with every option.
func Flags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	for _, d := range allFlagDefs() {
		help := d.help
		if b, ok := boundOf(d.key); ok {
			help += " (range: " + b.rangeText() + ")"
		}
		switch v := d.def.(type) {
		case string:
			fs.String(d.key, v, help)
		case []string:
			fs.StringSlice(d.key, v, help)
		case time.Duration:
			fs.Duration(d.key, v, help)
		case int:
			fs.Int(d.key, v, help)
		case int64:
			fs.Int64(d.key, v, help)
		case bool:
			fs.Bool(d.key, v, help)
		}
	}
	return fs
}

// Load reads the configuration: defaults, then the file named by --config
// (or OFFSETLAG_CONFIG), then the environment, then flags set on the command
// line. fs must come from Flags and be parsed.
func Load(fs *pflag.FlagSet, environ []string) (*Config, error) {
	v := viper.New()
	v.SetEnvPrefix("OFFSETLAG")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	for _, d := range allFlagDefs() {
		if d.key == "config" {
			continue
		}
		v.SetDefault(d.key, d.def)
	}
	env := map[string]string{}
	for _, kv := range environ {
		// OFFSETLAG_TEST_* belong to the test rigs, not to the exporter.
		if k, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OFFSETLAG_") && !strings.HasPrefix(k, "OFFSETLAG_TEST_") {
			env[k] = val
		}
	}
	envName := func(key string) string {
		return "OFFSETLAG_" + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(key))
	}

	file, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if f, ok := env[envName("config")]; ok {
			file = f
		}
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(strings.NewReader(string(raw))); err != nil {
			return nil, fmt.Errorf("config file %s: %w", file, err)
		}
	}
	for _, d := range allFlagDefs() {
		if d.key == "config" {
			continue
		}
		if val, ok := env[envName(d.key)]; ok {
			v.Set(d.key, val)
		}
		if f := fs.Lookup(d.key); f != nil && f.Changed {
			switch d.def.(type) {
			case []string:
				s, _ := fs.GetStringSlice(d.key)
				v.Set(d.key, s)
			default:
				v.Set(d.key, f.Value.String())
			}
		}
	}
	for k := range env {
		if k == envName("config") {
			continue
		}
		known := false
		for _, d := range allFlagDefs() {
			if envName(d.key) == k {
				known = true
			}
		}
		if !known {
			return nil, fmt.Errorf("environment variable %s: unknown option", k)
		}
	}

	var c Config
	err := v.UnmarshalExact(&c, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		strictDurationHook,
		strictIntHook,
		mapstructure.StringToTimeDurationHookFunc(),
		commaSliceHook,
	)))
	if err != nil {
		return nil, fmt.Errorf("config: %s", oneLine(err))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// commaSliceHook turns "a,b" into []string{"a", "b"} (environment values).
func commaSliceHook(f reflect.Type, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t.Kind() != reflect.Slice {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, nil
}

func oneLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			// mapstructure's "'poll.interval' msg" reads as "poll.interval: msg".
			if key, rest, ok := strings.Cut(strings.TrimPrefix(line, "'"), "' "); ok && strings.HasPrefix(line, "'") && key != "" {
				line = key + ": " + rest
			}
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// ClusterList returns the configured clusters: the clusters list, plus the
// kafka shorthand when it has brokers. Cluster fields left empty inherit
// the kafka.* values.
func (c *Config) ClusterList() []ClusterConfig {
	var out []ClusterConfig
	if len(c.Kafka.Brokers) > 0 {
		out = append(out, ClusterConfig{Name: c.Kafka.ClusterName, Brokers: c.Kafka.Brokers,
			Version: c.Kafka.Version, Isolation: c.Kafka.Isolation, ClientID: c.Kafka.ClientID,
			DialTimeout: c.Kafka.DialTimeout, OffsetsRetention: c.Kafka.OffsetsRetention,
			MSKClusterARN: c.Kafka.MSKClusterARN})
	}
	for _, cl := range c.Clusters {
		if cl.Version == "" {
			cl.Version = c.Kafka.Version
		}
		if cl.Isolation == "" {
			cl.Isolation = c.Kafka.Isolation
		}
		if cl.ClientID == "" {
			cl.ClientID = c.Kafka.ClientID
		}
		if cl.DialTimeout == 0 {
			cl.DialTimeout = c.Kafka.DialTimeout
		}
		if cl.OffsetsRetention == 0 {
			cl.OffsetsRetention = c.Kafka.OffsetsRetention
		}
		out = append(out, cl)
	}
	for i := range out {
		out[i] = c.withKafkaSecurity(out[i])
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
	}
	if _, err := exporter.NewFilter("groups", c.Groups.Allow, c.Groups.Deny); err != nil {
		return err
	}
	if _, err := exporter.NewFilter("topics", c.Topics.Allow, c.Topics.Deny); err != nil {
		return err
	}
	switch metrics.Granularity(c.Metrics.Granularity) {
	case metrics.GranularityPartition, metrics.GranularityTopic:
	default:
		return fmt.Errorf("metrics.granularity %q: want partition or topic", c.Metrics.Granularity)
	}
	switch metrics.Enums(c.Metrics.Enums) {
	case metrics.EnumsAll, metrics.EnumsCurrent:
	default:
		return fmt.Errorf("metrics.enums %q: want all or current", c.Metrics.Enums)
	}
	switch metrics.Compat(c.Metrics.Compat) {
	case metrics.CompatNone, metrics.CompatKafkaExporter:
	default:
		return fmt.Errorf("metrics.compat %q: want none or kafka_exporter", c.Metrics.Compat)
	}
	if len(c.Web.ListenAddress) == 0 {
		return errors.New("web.listen-address: at least one address")
	}
	if !strings.HasPrefix(c.Web.TelemetryPath, "/") || c.Web.TelemetryPath == "/" {
		return fmt.Errorf("web.telemetry-path %q: must start with / and not be /", c.Web.TelemetryPath)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "logfmt", "json":
	default:
		return fmt.Errorf("log.format %q: want logfmt or json", c.Log.Format)
	}
	if err := c.Trends().Validate(); err != nil {
		return err
	}
	if err := c.validateExpiry(); err != nil {
		return err
	}
	if err := c.validateLambdaESM(); err != nil {
		return err
	}
	if err := c.validateShard(); err != nil {
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

// Trends returns the time lag and status settings.
func (c *Config) Trends() TrendsConfig { return TrendsConfig{TimeLag: c.TimeLag, Status: c.Status} }

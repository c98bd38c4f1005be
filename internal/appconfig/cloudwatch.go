package appconfig

import (
	"fmt"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// CloudWatch publishing modes.
const (
	CloudWatchOff = "off" // no CloudWatch output (default)
	CloudWatchAPI = "api" // PutMetricData calls
	CloudWatchEMF = "emf" // Embedded Metric Format lines on stdout or a file
)

// CloudWatchConfig configures the CloudWatch publisher (metrics/cloudwatch).
type CloudWatchConfig struct {
	Mode      string `mapstructure:"mode" help:"CloudWatch output: off, api (PutMetricData) or emf (Embedded Metric Format lines, see --cloudwatch.emf-output)"`
	Namespace string `mapstructure:"namespace" help:"CloudWatch namespace (MSK's AWS/Kafka is reserved to AWS)"`
	// Region and Endpoint override the default AWS chain's; credentials
	// always come from the default chain.
	Region   string `mapstructure:"region" help:"AWS region (default: the AWS default chain, e.g. AWS_REGION)"`
	Endpoint string `mapstructure:"endpoint" help:"CloudWatch endpoint URL override (VPC endpoint, test server)"`
	Protocol string `mapstructure:"protocol" help:"wire protocol: default (the SDK's, Smithy RPC v2 CBOR), json or query"`
	// StorageResolution is 60 or 1 seconds.
	StorageResolution int  `mapstructure:"storage-resolution" range:"1|60" help:"storage resolution in seconds: 60 (standard) or 1 (high resolution)"`
	PartitionMetrics  bool `mapstructure:"partition-metrics" help:"also publish per-partition OffsetLag and EstimatedTimeLag (one custom metric per group-partition: mind the cost)"`
	// MaxMetrics is the budget of distinct metrics per publish across all
	// clusters; MaxDatumsPerPoll its deprecated former name (used when
	// set and MaxMetrics is left at its default).
	MaxMetrics       int `mapstructure:"max-metrics" range:"0..10000000" help:"budget of distinct metrics per publish across all clusters (what CloudWatch bills); beyond it partition, then optional, then group+topic metrics are dropped, smallest lag first, with a warning naming what was cut (0: no budget)"`
	MaxDatumsPerPoll int `mapstructure:"max-datums-per-poll" range:"0..10000000" help:"deprecated: the former name of max-metrics (used when set and max-metrics is left at its default)"`
	// PublishPeriod: how often the latest poll is published (0: every
	// poll).
	PublishPeriod time.Duration `mapstructure:"publish-period" range:"0|1s..24h" help:"how often the latest poll is published, independent of poll.interval (one point per metric and period, as MSK: 60s; 0: every poll)"`
	// InvalidNames: map or drop dimension values CloudWatch rejects.
	InvalidNames string `mapstructure:"invalid-names" help:"dimension values CloudWatch rejects (non-ASCII, control characters, blank, > 1024): map (escape + hash, see README) or drop (counted, logged once)"`
	QueueSize    int    `mapstructure:"queue-size" range:"1..1000" help:"polls waiting to be published at most; when full the oldest is dropped"`
	Concurrency  int    `mapstructure:"concurrency" range:"1..100" help:"PutMetricData requests in flight at most"`
	MaxAttempts  int    `mapstructure:"max-attempts" range:"1..20" help:"attempts per request (throttling, 5xx and network errors are retried with backoff)"`
	// RequestTimeout bounds one PutMetricData attempt; FlushTimeout the
	// flush at shutdown.
	RequestTimeout time.Duration `mapstructure:"request-timeout" range:"100ms..5m" help:"timeout of one PutMetricData attempt"`
	FlushTimeout   time.Duration `mapstructure:"flush-timeout" range:"0|100ms..10m" help:"time given to publish queued polls at shutdown"`
	// EMFOutput is "stdout" or a file path (appended to).
	EMFOutput string `mapstructure:"emf-output" help:"where emf mode writes: stdout or a file path (appended to)"`
}

// SetDefaults sets the cloudwatch.* defaults (off).
func (c *CloudWatchConfig) SetDefaults() {
	c.Mode = CloudWatchOff
	c.Namespace = cloudwatch.DefaultNamespace
	c.Protocol = string(cloudwatch.ProtocolDefault)
	c.StorageResolution = cloudwatch.DefaultStorageResolution
	c.MaxMetrics = cloudwatch.DefaultMaxMetrics
	c.PublishPeriod = cloudwatch.DefaultPublishPeriod
	c.InvalidNames = string(cloudwatch.InvalidNamesMap)
	c.QueueSize = cloudwatch.DefaultQueueSize
	c.Concurrency = cloudwatch.DefaultConcurrency
	c.MaxAttempts = cloudwatch.DefaultMaxAttempts
	c.RequestTimeout = cloudwatch.DefaultRequestTimeout
	c.FlushTimeout = 10 * time.Second
	c.EMFOutput = "stdout"
}

// Validate reports the first problem (numbers are range tags).
func (c *CloudWatchConfig) Validate() error {
	switch c.Mode {
	case CloudWatchOff, CloudWatchAPI, CloudWatchEMF:
	default:
		return fmt.Errorf("cloudwatch.mode %q: want off, api or emf", c.Mode)
	}
	if c.Mode == CloudWatchOff {
		return nil
	}
	if c.Namespace == "" || strings.HasPrefix(c.Namespace, "AWS/") || len(c.Namespace) > 255 {
		return fmt.Errorf("cloudwatch.namespace %q: 1 to 255 characters, not starting with AWS/", c.Namespace)
	}
	if err := (cloudwatch.ClientOptions{Protocol: cloudwatch.Protocol(c.Protocol)}).Validate(); err != nil {
		return fmt.Errorf("cloudwatch.%w", err)
	}
	switch cloudwatch.InvalidNames(c.InvalidNames) {
	case cloudwatch.InvalidNamesMap, cloudwatch.InvalidNamesDrop:
	default:
		return fmt.Errorf("cloudwatch.invalid-names %q: want map or drop", c.InvalidNames)
	}
	if c.Mode == CloudWatchEMF && c.EMFOutput == "" {
		return fmt.Errorf("cloudwatch.emf-output: stdout or a file path")
	}
	return nil
}

// PublisherOptions returns the publisher options (without the client or
// EMF writer, which the caller makes).
func (c *CloudWatchConfig) PublisherOptions() cloudwatch.Options {
	return cloudwatch.Options{
		Namespace:         c.Namespace,
		StorageResolution: c.StorageResolution,
		PartitionMetrics:  c.PartitionMetrics,
		MaxMetrics:        c.budget(),
		PublishPeriod:     c.PublishPeriod,
		InvalidNames:      cloudwatch.InvalidNames(c.InvalidNames),
		QueueSize:         c.QueueSize,
		Concurrency:       c.Concurrency,
		MaxAttempts:       c.MaxAttempts,
		RequestTimeout:    c.RequestTimeout,
	}
}

// ClientOptions returns the AWS client options.
func (c *CloudWatchConfig) ClientOptions() cloudwatch.ClientOptions {
	return cloudwatch.ClientOptions{Region: c.Region, Endpoint: c.Endpoint, Protocol: cloudwatch.Protocol(c.Protocol)}
}

// budget is max-metrics, or the deprecated max-datums-per-poll when only
// that one was changed.
func (c *CloudWatchConfig) budget() int {
	if c.MaxDatumsPerPoll != 0 && c.MaxMetrics == cloudwatch.DefaultMaxMetrics {
		return c.MaxDatumsPerPoll
	}
	return c.MaxMetrics
}

// validateCloudWatch checks the cloudwatch settings and the clusters'
// Cluster Name dimension values.
func (c *Config) validateCloudWatch() error {
	if err := c.CloudWatch.Validate(); err != nil {
		return err
	}
	if c.CloudWatch.Mode == CloudWatchOff {
		return nil
	}
	for _, cl := range c.ClusterList() {
		if cl.MSKClusterARN != "" {
			if _, ok := MSKClusterName(cl.MSKClusterARN); !ok {
				return fmt.Errorf("cluster %q: msk-cluster-arn %q: want arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>", cl.Name, cl.MSKClusterARN)
			}
			continue
		}
		if cl.Name == defaultClusterName {
			return fmt.Errorf("cloudwatch.mode %s: the cluster has no name for CloudWatch's Cluster Name dimension: set kafka.cluster-name (clusters[].name), or msk-cluster-arn to publish under the MSK cluster's name as MSK does", c.CloudWatch.Mode)
		}
	}
	return nil
}

// defaultClusterName is kafka.cluster-name's default.
const defaultClusterName = "default"

// MSKClusterName returns the cluster name of an Amazon MSK cluster ARN
// (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>).
func MSKClusterName(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kafka" {
		return "", false
	}
	res := strings.Split(parts[5], "/")
	if len(res) != 3 || res[0] != "cluster" || res[1] == "" || res[2] == "" {
		return "", false
	}
	return res[1], true
}

// CloudWatchClusterNames maps each cluster to its Cluster Name dimension
// value: the MSK cluster's name when msk-cluster-arn is set (so MSK's own
// dashboards and alarms match), else the cluster's name.
func (c *Config) CloudWatchClusterNames() map[string]string {
	out := map[string]string{}
	for _, cl := range c.ClusterList() {
		out[cl.Name] = cl.Name
		if n, ok := MSKClusterName(cl.MSKClusterARN); ok {
			out[cl.Name] = n
		}
	}
	return out
}

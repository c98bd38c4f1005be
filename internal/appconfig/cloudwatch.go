package appconfig

import (
	"fmt"
	"strings"

	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// CloudWatch publishing modes.
const (
	CloudWatchOff = cloudwatch.ModeOff // no CloudWatch output (default)
	CloudWatchAPI = cloudwatch.ModeAPI // PutMetricData calls
	CloudWatchEMF = cloudwatch.ModeEMF // Embedded Metric Format lines on stdout or a file
)

// CloudWatchConfig is the cloudwatch.* section, owned by metrics/cloudwatch.
type CloudWatchConfig = cloudwatch.Config

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
		if cl.MSKClusterARN == "" && cl.Name == defaultClusterName {
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

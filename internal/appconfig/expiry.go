package appconfig

import (
	"errors"
	"fmt"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
)

// ExpiryConfig configures committed-offset expiry prediction (see
// exporter/expiry/expiry.go for the rules). The retention itself is per cluster:
// kafka.offsets-retention / clusters[].offsets-retention.
type ExpiryConfig struct {
	// Tolerance: commits that vanish no earlier than their predicted
	// expiry minus the tolerance count as expired, earlier ones as deleted
	// on purpose. 0 means two poll intervals.
	Tolerance time.Duration `mapstructure:"tolerance" range:"0|1s..168h" help:"commits that vanish no earlier than their predicted expiry minus this count as expired, earlier ones as deleted on purpose (0: two poll intervals)"`
	// ExpectedGroups are watched even before they are seen (file only).
	ExpectedGroups []ExpectedGroupConfig `mapstructure:"expected-groups"`
}

// ExpectedGroupConfig is one expected group, for example the group id of a
// Lambda event source mapping (its UUID unless set) that may be disabled.
type ExpectedGroupConfig struct {
	// Cluster is the cluster name; empty means every cluster.
	Cluster string `mapstructure:"cluster"`
	Group   string `mapstructure:"group"`
	// StartingPosition is where the consumer starts without commits:
	// earliest (Lambda TRIM_HORIZON), latest (LATEST) or timestamp
	// (AT_TIMESTAMP). Empty: unknown (both estimates are exported).
	StartingPosition string `mapstructure:"starting-position"`
	// Topics the group consumes; a topic without commits counts as expired.
	Topics []string `mapstructure:"topics"`
}

// StateConfig is where the exporter keeps state across restarts.
type StateConfig struct {
	// Dir holds the expiry tracker's state file; empty keeps the state in
	// memory only (predictions restart from scratch after a restart).
	Dir string `mapstructure:"dir" help:"directory of the state file that keeps expiry predictions across restarts (empty: in memory only)"`
}

// SetDefaults: no expected groups (0 tolerance: two poll intervals).
func (e *ExpiryConfig) SetDefaults() {}

// validateExpiry reports the first problem with the expiry settings
// (tolerance and retention ranges are range tags).
func (c *Config) validateExpiry() error {
	clusters := map[string]bool{}
	for _, cl := range c.ClusterList() {
		clusters[cl.Name] = true
	}
	seen := map[[2]string]bool{}
	for i, eg := range c.Expiry.ExpectedGroups {
		where := fmt.Sprintf("expiry.expected-groups[%d]", i)
		if eg.Group == "" {
			return errors.New(where + ": group is empty")
		}
		if eg.Cluster != "" && !clusters[eg.Cluster] {
			return fmt.Errorf("%s (%s): unknown cluster %q", where, eg.Group, eg.Cluster)
		}
		switch result.StartingPosition(eg.StartingPosition) {
		case "", result.StartEarliest, result.StartLatest, result.StartTimestamp:
		default:
			return fmt.Errorf("%s (%s): starting-position %q: want earliest, latest or timestamp", where, eg.Group, eg.StartingPosition)
		}
		key := [2]string{eg.Cluster, eg.Group}
		if seen[key] {
			return fmt.Errorf("%s: group %q listed twice", where, eg.Group)
		}
		seen[key] = true
	}
	return nil
}

// ExpiryOptions returns each cluster's expiry configuration for the
// exporter; include is the groups filter (nil: all groups).
func (c *Config) ExpiryOptions(include func(string) bool) map[string]expiry.ExpiryConfig {
	out := map[string]expiry.ExpiryConfig{}
	for _, cl := range c.ClusterList() {
		ec := expiry.ExpiryConfig{Retention: cl.OffsetsRetention, Tolerance: c.Expiry.Tolerance, IncludeGroup: include}
		for _, eg := range c.Expiry.ExpectedGroups {
			if eg.Cluster == "" || eg.Cluster == cl.Name {
				ec.Expected = append(ec.Expected, expiry.ExpectedGroup{Group: eg.Group,
					StartingPosition: result.StartingPosition(eg.StartingPosition), Topics: eg.Topics})
			}
		}
		out[cl.Name] = ec
	}
	return out
}

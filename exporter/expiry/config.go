package expiry

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Config is the expiry.* and state.* options (internal/settings derives
// their flags, environment variables and YAML keys from the tags; the root
// configuration embeds Config with ",squash"). Every default is the zero
// value: a tolerance of two poll intervals, no expected groups, the state
// in memory only. The retention itself is a cluster setting
// (kafka.offsets-retention), handed to NewTracker by cluster.
type Config struct {
	Expiry struct {
		// Tolerance: commits that vanish no earlier than their predicted
		// expiry minus the tolerance count as expired, earlier ones as
		// deleted on purpose. 0 means two poll intervals.
		Tolerance time.Duration `mapstructure:"tolerance" range:"0|1s..168h" help:"commits that vanish no earlier than their predicted expiry minus this count as expired, earlier ones as deleted on purpose (0: two poll intervals)"`
		// ExpectedGroups are watched even before they are seen (file
		// only).
		ExpectedGroups []ExpectedGroup `mapstructure:"expected-groups"`
	} `mapstructure:"expiry"`
	State struct {
		// Dir holds the tracker's state file; empty keeps the state in
		// memory only (predictions restart from scratch after a restart).
		Dir string `mapstructure:"dir" help:"directory of the state file that keeps expiry predictions across restarts (empty: in memory only)"`
	} `mapstructure:"state"`
}

// ExpectedGroup is a group watched even before it has been seen: one of
// the configuration's expiry.expected-groups (for example the group id of
// a Lambda event source mapping that may be disabled), or one found at run
// time (a discovered mapping, NewTracker's Options.Expected).
type ExpectedGroup struct {
	// Cluster is the cluster name; empty means every cluster.
	Cluster string `mapstructure:"cluster"`
	Group   string `mapstructure:"group"`
	// StartingPosition is where the consumer starts without commits:
	// earliest (Lambda TRIM_HORIZON), latest (LATEST) or timestamp
	// (AT_TIMESTAMP), checked by Config.Validate. Empty: unknown (records
	// at risk are then given for both earliest and latest).
	StartingPosition string `mapstructure:"starting-position"`
	// Topics the group consumes; a topic without commits counts as
	// expired. May be empty.
	Topics []string `mapstructure:"topics"`
	// Lambda are the event source mappings consuming with this group id
	// (discovered at run time, never configured); passed on to
	// GroupExpiry.
	Lambda []result.LambdaESM `mapstructure:"-"`
}

// Starting positions (ExpectedGroup.StartingPosition, and the strings of
// result.GroupExpiry, RecordsAtRisk and LambdaESM): where a consumer
// without committed offsets starts (Lambda: TRIM_HORIZON, LATEST,
// AT_TIMESTAMP).
const (
	startEarliest  = "earliest"
	startLatest    = "latest"
	startTimestamp = "timestamp"
)

// Validate reports the first problem with the expected groups; clusters
// are the configured cluster names. The tolerance's range is its range
// tag.
func (c *Config) Validate(clusters []string) error {
	seen := map[[2]string]bool{}
	for i, eg := range c.Expiry.ExpectedGroups {
		where := fmt.Sprintf("expiry.expected-groups[%d]", i)
		if eg.Group == "" {
			return errors.New(where + ": group is empty")
		}
		if eg.Cluster != "" && !slices.Contains(clusters, eg.Cluster) {
			return fmt.Errorf("%s (%s): unknown cluster %q", where, eg.Group, eg.Cluster)
		}
		switch eg.StartingPosition {
		case "", startEarliest, startLatest, startTimestamp:
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

// expectedOf returns the configured expected groups of a cluster.
func (c *Config) expectedOf(cluster string) []ExpectedGroup {
	var out []ExpectedGroup
	for _, eg := range c.Expiry.ExpectedGroups {
		if eg.Cluster == "" || eg.Cluster == cluster {
			out = append(out, eg)
		}
	}
	return out
}

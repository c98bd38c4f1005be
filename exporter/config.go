package exporter

import (
	"fmt"
	"time"
)

// Config is the exporter package's configuration: the poll.* options of
// the poll loop and the shard.* options of sharding (InShard). The tags
// declare them (key, help, range; internal/settings derives the flag, the
// environment variable and the YAML key), SetDefaults sets their defaults
// and Validate checks what the tags cannot say. A zero value means what
// its help says (Poll.Timeout: the interval; Poll.StaleAfter: 3
// intervals; Poll.MaxConcurrentClusters: all at once; Shard: one shard),
// and a zero Poll.Interval in a Config built in code is the default
// interval.
type Config struct {
	// Poll is the poll loop: the poll.* options.
	Poll struct {
		// Interval between the starts of two polls of a cluster.
		Interval time.Duration `mapstructure:"interval" range:"100ms..1h" help:"time between two polls of a cluster; /metrics serves the last poll's data"`
		// Timeout is the deadline of one poll; at most Interval.
		Timeout time.Duration `mapstructure:"timeout" range:"0|100ms..1h" help:"deadline of one poll (0: the poll interval)"`
		// StaleAfter bounds how long a value a partial poll could not
		// read is carried from its last good read (carry.go).
		StaleAfter time.Duration `mapstructure:"stale-after" range:"0|100ms..24h" help:"what a partial poll could not read is carried from its last good read for at most this long, then dropped (0: 3 poll intervals)"`
		// MaxConcurrentClusters, when > 0, is the most clusters polled at
		// a time (for fleets of many clusters in one process): a poll
		// waits for a free slot before its Snapshot and before its exact
		// time-lag reads, and its deadline keeps running while it waits
		// (shard.go).
		MaxConcurrentClusters int `mapstructure:"max-concurrent-clusters" range:"0..10000" help:"most clusters polled at the same time (0: all at once); for fleets of many clusters in one process"`
	} `mapstructure:"poll"`
	// Shard is this replica's share of the groups when replicas split
	// them statically: the shard.* options (InShard, shard.go).
	Shard struct {
		Index int `mapstructure:"index" range:"0..999" help:"this replica's shard, 0 to shard.count-1: it exports the groups whose FNV-1a hash modulo shard.count is this index"`
		Count int `mapstructure:"count" range:"1..1000" help:"number of exporter replicas sharing the groups of every cluster (1: no sharding)"`
	} `mapstructure:"shard"`
}

// defaultInterval is the default poll interval.
const defaultInterval = 30 * time.Second

// SetDefaults sets every option to its default.
func (c *Config) SetDefaults() {
	*c = Config{}
	c.Poll.Interval = defaultInterval
	c.Shard.Count = 1
}

// Validate reports what the tags cannot: a timeout beyond the interval
// (polls of a cluster never overlap) and a shard that cannot exist, naming
// the option. (The loader checks the range tags.)
func (c *Config) Validate() error {
	if c.Poll.Timeout > c.Poll.Interval {
		return fmt.Errorf("poll.timeout %s: must not exceed poll.interval %s (polls of a cluster never overlap)", c.Poll.Timeout, c.Poll.Interval)
	}
	s := c.Shard
	if s.Count < 0 {
		return fmt.Errorf("shard.count %d: must not be negative", s.Count)
	}
	if s.Index < 0 || (s.Count > 0 && s.Index >= s.Count) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("shard.index %d: want 0 to shard.count-1 (%d)", s.Index, max(s.Count, 1)-1)
	}
	return nil
}

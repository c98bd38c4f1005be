package appconfig

import (
	"fmt"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
)

// ShardConfig splits the groups across exporter replicas (exporter.Shard).
type ShardConfig struct {
	Index int `mapstructure:"index" range:"0..999" help:"this replica's shard, 0 to shard.count-1: it exports the groups whose FNV-1a hash modulo shard.count is this index"`
	Count int `mapstructure:"count" range:"1..1000" help:"number of exporter replicas sharing the groups of every cluster (1: no sharding)"`
}

// SetDefaults: one shard (no sharding).
func (s *ShardConfig) SetDefaults() { s.Index, s.Count = 0, 1 }

// Shard returns the exporter's shard.
func (c *Config) Shard() exporter.Shard {
	return exporter.Shard{Index: c.Sharding.Index, Count: c.Sharding.Count}
}

// validateShard checks the index against the count (each alone is a
// range tag).
func (c *Config) validateShard() error {
	if err := c.Shard().Validate(); err != nil {
		return fmt.Errorf("shard.index %d: want 0 to shard.count-1 (%d)", c.Sharding.Index, c.Sharding.Count-1)
	}
	return nil
}

// ShardExpiry drops from expiry options the expected groups of other
// shards: each expected group is watched (and reported missing) by the one
// replica whose shard it hashes to.
func (c *Config) ShardExpiry(m map[string]expiry.ExpiryConfig) map[string]expiry.ExpiryConfig {
	s := c.Shard()
	if !s.Enabled() {
		return m
	}
	for name, ec := range m {
		var keep []expiry.ExpectedGroup
		for _, eg := range ec.Expected {
			if s.Match(eg.Group) {
				keep = append(keep, eg)
			}
		}
		ec.Expected = keep
		m[name] = ec
	}
	return m
}

package appconfig

import (
	"fmt"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
)

// ShardConfig splits the groups across exporter replicas: exporter.Shard,
// owned by the exporter.
type ShardConfig = exporter.Shard

// Shard returns the exporter's shard.
func (c *Config) Shard() exporter.Shard { return c.Sharding }

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

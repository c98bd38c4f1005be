package appconfig

import (
	"fmt"

	"github.com/offsetlag/offsetlag/exporter"
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

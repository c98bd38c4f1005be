package appconfig

import (
	"github.com/offsetlag/offsetlag/exporter"
)

// ShardConfig splits the groups across exporter replicas: exporter.Shard,
// owned by the exporter (its Validate checks the index against the count;
// each alone is a range tag).
type ShardConfig = exporter.Shard

// Shard returns the exporter's shard.
func (c *Config) Shard() exporter.Shard { return c.Sharding }

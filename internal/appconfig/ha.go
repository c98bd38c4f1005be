package appconfig

import (
	"errors"
	"fmt"
	"time"

	"github.com/offsetlag/offsetlag/ha"
)

// HAConfig runs replicas coordinated through a Kafka consumer group, with
// their state in a compacted Kafka topic (package ha).
type HAConfig struct {
	Enabled bool   `mapstructure:"enabled" help:"run as one of several replicas that share the groups through a Kafka consumer group and keep their state in a compacted topic (exclusive with shard.* and state.dir)"`
	Group   string `mapstructure:"group" help:"consumer group the replicas join (same value on every replica)"`
	Topic   string `mapstructure:"topic" help:"compacted coordination topic: one partition per virtual shard, holds the expiry state (created if missing)"`
	// Partitions is the shard count of a created topic.
	Partitions int `mapstructure:"partitions" range:"1..10000" help:"partitions (virtual shards) of the coordination topic when it is created; an existing topic keeps its count"`
	// Cluster names the cluster that coordinates (empty: the first).
	Cluster        string        `mapstructure:"cluster" help:"name of the cluster whose brokers coordinate the replicas (empty: the first cluster)"`
	SessionTimeout time.Duration `mapstructure:"session-timeout" range:"1s..30m" help:"a replica that stops heartbeating (kill -9) loses its shards after this long (within the brokers' group.min/max.session.timeout.ms)"`
}

// SetDefaults: HA off, the ha package's defaults.
func (h *HAConfig) SetDefaults() {
	*h = HAConfig{Group: ha.DefaultGroup, Topic: ha.DefaultTopic, Partitions: ha.DefaultPartitions, SessionTimeout: ha.DefaultSessionTimeout}
}

func (c *Config) validateHA() error {
	h := c.HA
	if !h.Enabled {
		return nil
	}
	if c.Exporter.Shard.Count > 1 || c.Exporter.Shard.Index != 0 {
		return errors.New("ha.enabled and shard.index/shard.count are exclusive: HA replicas share the groups dynamically")
	}
	if c.State.Dir != "" {
		return errors.New("ha.enabled and state.dir are exclusive: HA replicas keep their state in the ha.topic")
	}
	if h.Group == "" || h.Topic == "" {
		return errors.New("ha.group and ha.topic must not be empty")
	}
	if _, err := c.HACluster(); err != nil {
		return err
	}
	return nil
}

// HACluster is the cluster that coordinates the replicas.
func (c *Config) HACluster() (ClusterConfig, error) {
	list := c.ClusterList()
	if len(list) == 0 {
		return ClusterConfig{}, errors.New("ha.enabled needs a cluster")
	}
	if c.HA.Cluster == "" {
		return list[0], nil
	}
	for _, cl := range list {
		if cl.Name == c.HA.Cluster {
			return cl, nil
		}
	}
	return ClusterConfig{}, fmt.Errorf("ha.cluster %q: no such cluster", c.HA.Cluster)
}

// HAOptions are the ha.Member options of the configuration (without
// logger); they read the TLS and SASL files.
func (c *Config) HAOptions() (ha.Options, error) {
	cl, err := c.HACluster()
	if err != nil {
		return ha.Options{}, err
	}
	sec, err := cl.Security().FranzOpts()
	if err != nil {
		return ha.Options{}, fmt.Errorf("ha.cluster %q: %w", cl.Name, err)
	}
	return ha.Options{Brokers: cl.Brokers, Client: sec, Group: c.HA.Group, Topic: c.HA.Topic,
		Partitions: c.HA.Partitions, SessionTimeout: c.HA.SessionTimeout}, nil
}

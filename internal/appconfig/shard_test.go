package appconfig

import (
	"fmt"
	"testing"
)

func TestShardFlags(t *testing.T) {
	c := mustLoad(t, []string{"--kafka.brokers", "a:1"}, nil)
	if s := c.Exporter.Shard; s.Count != 1 || s.Index != 0 || c.Exporter.Poll.MaxConcurrentClusters != 0 {
		t.Errorf("defaults: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	c = mustLoad(t, []string{"--kafka.brokers", "a:1", "--shard.index", "2", "--shard.count", "3",
		"--poll.max-concurrent-clusters", "4"}, nil)
	if s := c.Exporter.Shard; s.Index != 2 || s.Count != 3 || c.Exporter.Poll.MaxConcurrentClusters != 4 {
		t.Errorf("flags: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	c = mustLoad(t, []string{"--kafka.brokers", "a:1"}, []string{"OFFSETLAG_SHARD_INDEX=1", "OFFSETLAG_SHARD_COUNT=2",
		"OFFSETLAG_POLL_MAX_CONCURRENT_CLUSTERS=8"})
	if s := c.Exporter.Shard; s.Index != 1 || s.Count != 2 || c.Exporter.Poll.MaxConcurrentClusters != 8 {
		t.Errorf("environment: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	f := configFile(t, "kafka:\n  brokers: [a:1]\nshard:\n  index: 0\n  count: 2\npoll:\n  max-concurrent-clusters: 2\n")
	c = mustLoad(t, []string{"--config", f}, nil)
	if s := c.Exporter.Shard; s.Index != 0 || s.Count != 2 || c.Exporter.Poll.MaxConcurrentClusters != 2 {
		t.Errorf("file: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard.index", "3", "--shard.count", "3"}, "shard.index 3"},
		{[]string{"--shard.index", "-1", "--shard.count", "3"}, "shard.index -1"},
		{[]string{"--shard.count", "0"}, "shard.count 0"},
		{[]string{"--poll.max-concurrent-clusters", "-1"}, "poll.max-concurrent-clusters -1"},
	} {
		wantLoadError(t, fmt.Sprint(bad.args), append([]string{"--kafka.brokers", "a:1"}, bad.args...), nil, bad.want)
	}
}

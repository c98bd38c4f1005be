package appconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShardFlags(t *testing.T) {
	c, err := load(t, []string{"--kafka.brokers", "a:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Exporter.Shard; s.Count != 1 || s.Index != 0 || c.Exporter.Poll.MaxConcurrentClusters != 0 {
		t.Errorf("defaults: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	c, err = load(t, []string{"--kafka.brokers", "a:1", "--shard.index", "2", "--shard.count", "3",
		"--poll.max-concurrent-clusters", "4"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Exporter.Shard; s.Index != 2 || s.Count != 3 || c.Exporter.Poll.MaxConcurrentClusters != 4 {
		t.Errorf("flags: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	c, err = load(t, []string{"--kafka.brokers", "a:1"}, []string{"OFFSETLAG_SHARD_INDEX=1", "OFFSETLAG_SHARD_COUNT=2",
		"OFFSETLAG_POLL_MAX_CONCURRENT_CLUSTERS=8"})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Exporter.Shard; s.Index != 1 || s.Count != 2 || c.Exporter.Poll.MaxConcurrentClusters != 8 {
		t.Errorf("environment: shard %+v, max concurrent %d", s, c.Exporter.Poll.MaxConcurrentClusters)
	}

	f := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "kafka:\n  brokers: [a:1]\nshard:\n  index: 0\n  count: 2\npoll:\n  max-concurrent-clusters: 2\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = load(t, []string{"--config", f}, nil); err != nil {
		t.Fatal(err)
	}
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
		_, err := load(t, append([]string{"--kafka.brokers", "a:1"}, bad.args...), nil)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: err %v, want %q", bad.args, err, bad.want)
		}
	}
}

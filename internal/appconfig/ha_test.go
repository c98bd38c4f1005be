package appconfig

import (
	"testing"
)

// TestHAOptions: --ha.* flags, defaults, the coordinating cluster, and the
// exclusions with static sharding and the state directory.
func TestHAOptions(t *testing.T) {
	c := mustLoad(t, []string{"--kafka.brokers", "a:1", "--ha.enabled"}, nil)
	o, err := c.HAOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.Group != "offsetlag-replicas" || o.Topic != "offsetlag-replicas" || o.Partitions != 64 || len(o.Brokers) != 1 || o.Brokers[0] != "a:1" {
		t.Errorf("defaults: %+v", o)
	}
	wantLoadErrors(t, []string{"--kafka.brokers", "a:1", "--ha.enabled"}, []badArgs{
		{"shard", []string{"--shard.count", "2"}, "ha.enabled and shard.index/shard.count are exclusive"},
		{"state", []string{"--state.dir", "/tmp/x"}, "ha.enabled and state.dir are exclusive"},
		{"cluster", []string{"--ha.cluster", "nope"}, `ha.cluster "nope": no such cluster`},
		{"partitions", []string{"--ha.partitions", "0"}, "ha.partitions"},
	})
}

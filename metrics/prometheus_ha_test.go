package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHACollector(t *testing.T) {
	c := NewHACollector(func() HAStats {
		return HAStats{Shards: 64, Owned: 21, Restoring: 1, Rebalances: 3, Restores: 22, LastRestore: 250 * time.Millisecond}
	})
	want := `
# HELP offsetlag_ha_shards_owned Shards (partitions of the HA coordination topic) this replica owns and exports; summed over the replicas it equals offsetlag_ha_shards when every group is covered.
# TYPE offsetlag_ha_shards_owned gauge
offsetlag_ha_shards_owned 21
# HELP offsetlag_ha_shards Shards of the HA coordination topic (its partition count).
# TYPE offsetlag_ha_shards gauge
offsetlag_ha_shards 64
# HELP offsetlag_ha_state_restore_seconds Duration of this replica's last shard restore: from the assignment until the shard's state was read and the shard exported.
# TYPE offsetlag_ha_state_restore_seconds gauge
offsetlag_ha_state_restore_seconds 0.25
# HELP offsetlag_ha_rebalances_total Rebalances of the replicas' consumer group that changed this replica's shards.
# TYPE offsetlag_ha_rebalances_total counter
offsetlag_ha_rebalances_total 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "offsetlag_ha_shards_owned", "offsetlag_ha_shards",
		"offsetlag_ha_state_restore_seconds", "offsetlag_ha_rebalances_total"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
}

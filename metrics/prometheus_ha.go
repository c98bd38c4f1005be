package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HAStats is what an HA replica (package ha, --ha.enabled) knows of its
// membership, as plain values: the sink does not import the membership.
type HAStats struct {
	// Shards is P, the coordination topic's partition count; Owned the
	// shards this replica exports; Restoring those assigned and still being
	// read.
	Shards, Owned, Restoring int
	// Rebalances that changed this replica's shards; Restores completed.
	Rebalances, Restores uint64
	// LastRestore is how long the last restore took.
	LastRestore time.Duration
}

var (
	haOwnedDesc = prometheus.NewDesc("offsetlag_ha_shards_owned",
		"Shards (partitions of the HA coordination topic) this replica owns and exports; summed over the replicas it equals offsetlag_ha_shards when every group is covered.", nil, nil)
	haShardsDesc = prometheus.NewDesc("offsetlag_ha_shards",
		"Shards of the HA coordination topic (its partition count).", nil, nil)
	haRestoringDesc = prometheus.NewDesc("offsetlag_ha_shards_restoring",
		"Shards assigned to this replica whose state is still being read from the coordination topic (not exported yet).", nil, nil)
	haRebalancesDesc = prometheus.NewDesc("offsetlag_ha_rebalances_total",
		"Rebalances of the replicas' consumer group that changed this replica's shards.", nil, nil)
	haRestoreDesc = prometheus.NewDesc("offsetlag_ha_state_restore_seconds",
		"Duration of this replica's last shard restore: from the assignment until the shard's state was read and the shard exported.", nil, nil)
	haRestoresDesc = prometheus.NewDesc("offsetlag_ha_state_restores_total",
		"Shard restores this replica completed.", nil, nil)
)

// NewHACollector returns the HA replica's self-metrics, read from stats at
// each scrape (stats must be fast: no Kafka request).
func NewHACollector(stats func() HAStats) prometheus.Collector { return haCollector{stats} }

type haCollector struct{ stats func() HAStats }

var _ prometheus.Collector = haCollector{}

func (c haCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- haOwnedDesc
	ch <- haShardsDesc
	ch <- haRestoringDesc
	ch <- haRebalancesDesc
	ch <- haRestoreDesc
	ch <- haRestoresDesc
}

func (c haCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(haOwnedDesc, prometheus.GaugeValue, float64(st.Owned))
	ch <- prometheus.MustNewConstMetric(haShardsDesc, prometheus.GaugeValue, float64(st.Shards))
	ch <- prometheus.MustNewConstMetric(haRestoringDesc, prometheus.GaugeValue, float64(st.Restoring))
	ch <- prometheus.MustNewConstMetric(haRebalancesDesc, prometheus.CounterValue, float64(st.Rebalances))
	ch <- prometheus.MustNewConstMetric(haRestoreDesc, prometheus.GaugeValue, st.LastRestore.Seconds())
	ch <- prometheus.MustNewConstMetric(haRestoresDesc, prometheus.CounterValue, float64(st.Restores))
}

package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// labelBroker is a broker id.
const labelBroker = "broker"

// healthFamilies say how fresh the served data is and which brokers
// answered (see exporter/carry.go for the partial-data rules).
type healthFamilies struct {
	dataAge, brokerUp *family // per cluster, per broker
	groupReadAt       *family // per group
}

func (c *Collector) newHealthFamilies() {
	gauge := prometheus.GaugeValue
	c.dataAge = c.newFamily("offsetlag_cluster_data_age_seconds", gauge,
		"Age, as of the last poll of the cluster, of the oldest value served: 0 when the last poll read everything; values a partial poll could not read are carried from their last good read for at most poll.stale-after. Absent until a poll read anything.",
		[]string{labelCluster})
	c.brokerUp = c.newFamily("offsetlag_broker_up", gauge,
		"1 if every request to the broker succeeded in the last poll of the cluster, 0 if one failed (every known broker when the poll read nothing).",
		[]string{labelCluster, labelBroker})
	c.groupReadAt = c.newFamily("offsetlag_consumergroup_last_read_timestamp_seconds", gauge,
		"Unix time the group's served data was read: the last poll, or an earlier one while it is carried because its coordinator or its OffsetFetch failed.",
		[]string{labelCluster, labelGroup})
}

// walkHealth emits the data-age and broker health series of one cluster.
func (c *Collector) walkHealth(s sink, cluster string, cr *result.ClusterResult) {
	var lv [2]string
	lv[0] = cluster
	if !cr.OldestRead.IsZero() && !cr.LastPoll.IsZero() {
		s.emit(c.dataAge, max(cr.LastPoll.Sub(cr.OldestRead).Seconds(), 0), lv[:1])
	}
	for _, b := range cr.BrokerHealth {
		lv[1] = strconv.FormatInt(int64(b.ID), 10)
		s.emit(c.brokerUp, boolFloat(b.Up), lv[:2])
	}
	for gi := range cr.Groups {
		g := &cr.Groups[gi]
		if !g.ReadAt.IsZero() {
			lv[1] = validLabel(g.Name)
			s.emit(c.groupReadAt, unixSeconds(g.ReadAt), lv[:2])
		}
	}
}

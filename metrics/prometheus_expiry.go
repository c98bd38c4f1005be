package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// labelStartingPosition is the starting position a records-at-risk
// estimate assumes: earliest or latest.
const labelStartingPosition = "starting_position"

// expiryFamilies are the committed-offset expiry families, read from
// ClusterResult.Expiry and OffsetsRetention (see exporter/expiry/expiry.go for the
// rules behind the values).
type expiryFamilies struct {
	retention                                 *family // per cluster
	emptySince, expireAt, expiryLeft, missing *family // per group
	expired, atRisk                           *family // per group+topic
}

func (c *Collector) newExpiryFamilies() {
	var (
		gauge = prometheus.GaugeValue
		cl    = []string{labelCluster}
		g     = []string{labelCluster, labelGroup}
		gt    = []string{labelCluster, labelGroup, labelTopic}
	)
	c.retention = c.newFamily("offsetlag_offsets_retention_seconds", gauge,
		"Committed-offset retention of the cluster used for expiry predictions (the brokers' offsets.retention.minutes, or the configured override) as of the last poll.", cl)
	c.emptySince = c.newFamily("offsetlag_consumergroup_empty_since_timestamp_seconds", gauge,
		"Unix time of the first poll that saw the group Empty (no members), late by less than one poll interval. Absent while the group has members, and for simple groups.", g)
	c.expireAt = c.newFamily("offsetlag_consumergroup_offsets_expire_timestamp_seconds", gauge,
		"Predicted Unix time at which the broker deletes the group's first committed offsets: Empty classic groups from when they became Empty, simple and KIP-848 groups without members from their last commit change, plus the offsets retention. Absent while the group has members.", g)
	c.expiryLeft = c.newFamily("offsetlag_consumergroup_offsets_expiry_seconds", gauge,
		"Seconds left, as of the last poll, until the group's first committed offsets are predicted to expire; 0 when past due. Absent while the group has members.", g)
	c.missing = c.newFamily("offsetlag_consumergroup_offsets_missing", gauge,
		"1 when a group listed as expected in the configuration has no committed offset at all (never created, deleted or expired): its consumer will start from its starting position. Only for expected groups.", g)
	c.expired = c.newFamily("offsetlag_consumergroup_offsets_expired", gauge,
		"1 once the group's committed offsets on the topic, seen before or expected by the configuration, are gone at or after their predicted expiry; 0 while they are there. Commits deleted on purpose before their predicted expiry are not expired. Back to 0 when the group commits on the topic again.", gt)
	c.atRisk = c.newFamily("offsetlag_consumergroup_records_at_risk", gauge,
		"Records a consumer restarting without the group's commits on the topic would process again (starting_position earliest: last committed minus log start) or skip (latest: log end minus last committed), as of the last poll. Present while an expiry clock runs and once expired.",
		[]string{labelCluster, labelGroup, labelTopic, labelStartingPosition})
}

// walkExpiry emits the expiry series of one cluster.
func (c *Collector) walkExpiry(s sink, cluster string, cr *result.ClusterResult) {
	var lv [4]string // cluster, group, topic, starting_position
	lv[0] = cluster
	if cr.OffsetsRetention > 0 {
		s.emit(c.retention, cr.OffsetsRetention.Seconds(), lv[:1])
	}
	for gi := range cr.Expiry {
		ge := &cr.Expiry[gi]
		lv[1] = validLabel(ge.Group)
		if !ge.EmptySince.IsZero() {
			s.emit(c.emptySince, unixSeconds(ge.EmptySince), lv[:2])
		}
		if !ge.ExpiresAt.IsZero() {
			s.emit(c.expireAt, unixSeconds(ge.ExpiresAt), lv[:2])
			s.emit(c.expiryLeft, max(ge.ExpiresIn.Seconds(), 0), lv[:2])
		}
		if ge.Expected {
			s.emit(c.missing, boolFloat(ge.Missing), lv[:2])
		}
		c.walkLambda(s, lv, ge)
		for ti := range ge.Topics {
			te := &ge.Topics[ti]
			lv[2] = validLabel(te.Topic)
			s.emit(c.expired, boolFloat(te.Expired), lv[:3])
			for _, r := range te.RecordsAtRisk {
				if r.Records < 0 {
					continue
				}
				lv[3] = validLabel(r.StartingPosition)
				s.emit(c.atRisk, float64(r.Records), lv[:4])
			}
		}
	}
}

package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Lambda event source mapping label names.
const (
	labelFunction = "function_name"
	labelESMUUID  = "esm_uuid"
	labelESMState = "esm_state"
)

// lambdaFamilies are the Lambda event source mapping families, read from
// GroupExpiry.Lambda (discovery/lambdaesm).
type lambdaFamilies struct {
	esmInfo, esmWithinHorizon *family
}

func (c *Collector) newLambdaFamilies() {
	c.esmInfo = c.newFamily("offsetlag_lambda_esm_info", prometheus.GaugeValue,
		"Always 1 for each discovered Lambda Kafka event source mapping watched as an expected group: its function, UUID, state (Enabled, Disabled, ...) and starting position (earliest = TRIM_HORIZON, latest = LATEST, timestamp = AT_TIMESTAMP).",
		[]string{labelCluster, labelGroup, labelFunction, labelESMUUID, labelESMState, labelStartingPosition})
	c.esmWithinHorizon = c.newFamily("offsetlag_lambda_esm_offsets_expire_within_horizon", prometheus.GaugeValue,
		"1 when the Lambda event source mapping is Disabled or Disabling and its consumer group's committed offsets are predicted to expire within the configured horizon (lambda-esm.horizon) as of the last poll: enabled after that, the function starts from its starting position. 0 otherwise (enabled, far from expiry, or already expired).",
		[]string{labelCluster, labelGroup, labelFunction, labelESMUUID})
}

// walkLambda emits the mapping series of one group; lv holds cluster and
// group.
func (c *Collector) walkLambda(s sink, lv [4]string, ge *result.GroupExpiry) {
	var v [6]string
	v[0], v[1] = lv[0], lv[1]
	for i := range ge.Lambda {
		l := &ge.Lambda[i]
		v[2], v[3] = validLabel(l.FunctionName), validLabel(l.UUID)
		s.emit(c.esmWithinHorizon, boolFloat(l.ExpiresWithinHorizon), v[:4])
		v[4], v[5] = validLabel(l.State), validLabel(l.StartingPosition)
		s.emit(c.esmInfo, 1, v[:6])
	}
}

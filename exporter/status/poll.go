package status

import (
	"context"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// Trends is one cluster's trend memory (end-offset histories, status
// windows, exact record-time cache) as the poll loop holds it. It is used
// by the cluster's poll only, never concurrently.
type Trends struct{ tr *trends }

// NewTrends returns the trend memory of one cluster, configured by a
// valid cfg (see Config.Validate); clock times the exact reads (time.Now
// when nil).
func NewTrends(cfg Config, clock func() time.Time) *Trends {
	return &Trends{tr: newTrendsClock(cfg, clock)}
}

// Apply records this poll's observations and fills the time lag, status
// and rate fields of groups; it returns the Kafka requests the exact reads
// sent, by API, and how long those reads took. exact reads record
// timestamps (the source's kafkaadmin.(*Client).RecordTimes); nil when the
// source cannot, and exact time lag is then not available.
func (t *Trends) Apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time,
	exact func(context.Context, []kafkaadmin.RecordTimeRequest) ([]kafkaadmin.RecordTime, map[string]int)) (map[string]int, time.Duration) {
	reqs := t.tr.apply(ctx, snap, groups, now, exact)
	return reqs, t.tr.exactTook
}

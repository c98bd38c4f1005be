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

// NewTrends returns the trend memory of one cluster; clock times the exact
// reads (time.Now when nil).
func NewTrends(opts TrendOptions, clock func() time.Time) *Trends {
	return &Trends{tr: newTrendsClock(opts, clock)}
}

// Apply records this poll's observations and fills the time lag, status
// and rate fields of groups; it returns the Kafka requests the exact reads
// sent, by API. exact may be nil.
func (t *Trends) Apply(ctx context.Context, snap *kafkaadmin.Snapshot, groups []result.GroupResult, now time.Time, exact RecordTimer) map[string]int {
	return t.tr.apply(ctx, snap, groups, now, exact)
}

// ExactTook is how long the exact reads of the last Apply took.
func (t *Trends) ExactTook() time.Duration { return t.tr.exactTook }

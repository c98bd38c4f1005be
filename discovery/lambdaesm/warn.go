package lambdaesm

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/exporter"
)

// Warner logs, from each new exporter Result, one Warn line when a
// disabled mapping's offsets start to expire within the horizon (an
// episode) and one Info line when the episode ends (the mapping was enabled,
// the group committed, or the offsets expired: the exporter then logs the
// expiry itself). Episodes are kept in memory: after a restart a running
// episode is logged once more.
type Warner struct {
	log    *slog.Logger
	mu     sync.Mutex
	active map[string]bool // cluster / group / uuid
}

// NewWarner returns a Warner logging to log.
func NewWarner(log *slog.Logger) *Warner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Warner{log: log.With("component", "lambda-esm"), active: map[string]bool{}}
}

// OnResult examines a Result (exporter.Options.OnResult; safe for
// concurrent use).
func (w *Warner) OnResult(r *exporter.Result) {
	if r == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	for ci := range r.Clusters {
		c := &r.Clusters[ci]
		for gi := range c.Expiry {
			ge := &c.Expiry[gi]
			for _, l := range ge.Lambda {
				key := c.Name + "\x00" + ge.Group + "\x00" + l.UUID
				seen[key] = true
				switch {
				case l.ExpiresWithinHorizon && !w.active[key]:
					w.active[key] = true
					msg, attrs := Warning(c.Name, ge, l)
					w.log.Warn(msg, attrs...)
				case !l.ExpiresWithinHorizon && w.active[key]:
					delete(w.active, key)
					w.log.Info("Lambda event source mapping no longer at risk of losing its offsets within the horizon",
						"cluster_name", c.Name, "group", ge.Group, "function_name", l.FunctionName, "esm_uuid", l.UUID,
						"esm_state", l.State, "offsets_expired", groupExpired(ge))
				}
			}
		}
	}
	for key := range w.active {
		if !seen[key] {
			delete(w.active, key)
		}
	}
}

func groupExpired(ge *exporter.GroupExpiry) bool {
	for _, t := range ge.Topics {
		if t.Expired {
			return true
		}
	}
	return false
}

// RecordsAtRisk sums the group's records at risk over its topics for the
// mapping's starting position; ok is false when there is no estimate (an
// AT_TIMESTAMP mapping, or unknown log bounds).
func RecordsAtRisk(ge *exporter.GroupExpiry, l exporter.LambdaESM) (n int64, ok bool) {
	for _, t := range ge.Topics {
		for _, r := range t.RecordsAtRisk {
			if r.StartingPosition == string(l.StartingPosition) && r.Records >= 0 {
				n += r.Records
				ok = true
			}
		}
	}
	return n, ok
}

// Warning is the log line of an at-risk mapping: "function F will skip
// (LATEST) / reprocess (TRIM_HORIZON) about N records if enabled after T".
func Warning(cluster string, ge *exporter.GroupExpiry, l exporter.LambdaESM) (string, []any) {
	at := ge.ExpiresAt.UTC().Format(time.RFC3339)
	n, known := RecordsAtRisk(ge, l)
	var msg string
	switch {
	case l.StartingPosition == exporter.StartLatest && known:
		msg = fmt.Sprintf("function %s will skip (LATEST) about %d records if enabled after %s", l.FunctionName, n, at)
	case l.StartingPosition == exporter.StartEarliest && known:
		msg = fmt.Sprintf("function %s will reprocess (TRIM_HORIZON) about %d records if enabled after %s", l.FunctionName, n, at)
	case l.StartingPosition == exporter.StartTimestamp:
		msg = fmt.Sprintf("function %s will restart from its AT_TIMESTAMP position %s if enabled after %s",
			l.FunctionName, l.StartingPositionTimestamp.UTC().Format(time.RFC3339), at)
	default:
		msg = fmt.Sprintf("function %s will restart from its StartingPosition if enabled after %s", l.FunctionName, at)
	}
	attrs := []any{"cluster_name", cluster, "group", ge.Group, "function_name", l.FunctionName, "esm_uuid", l.UUID,
		"esm_state", l.State, "region", l.Region, "starting_position", string(l.StartingPosition),
		"expires_at", at, "expires_in", ge.ExpiresIn.Round(time.Second).String(), "horizon", l.Horizon.String()}
	if known {
		attrs = append(attrs, "records_at_risk", n)
	}
	return msg + ": its consumer group's committed offsets expire then (disabled, no members)", attrs
}

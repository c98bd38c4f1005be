package lambdaesm

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Warner logs, from each new exporter Result, one Warn line when a
// disabled mapping's offsets start to expire within the horizon (an
// episode) and one Info line when the episode ends (the mapping was enabled,
// the group committed, or the offsets expired: the exporter then logs the
// expiry itself). Episodes are kept in memory: after a restart a running
// episode is logged once more.
type Warner struct {
	log *slog.Logger
	// topics returns a mapping's topics by UUID (nil: every topic of the
	// group counts).
	topics func(uuid string) []string
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

// NewWarner returns a Warner logging to log that counts records at risk
// on each mapping's own topics (as listed by the last refresh).
func (d *Discoverer) NewWarner(log *slog.Logger) *Warner {
	w := NewWarner(log)
	w.topics = d.MappingTopics
	return w
}

// MappingTopics returns the topics of the mapping with this UUID as of the
// last refresh (nil when unknown).
func (d *Discoverer) MappingTopics(uuid string) []string {
	for _, m := range d.snap.Load().Mappings {
		if m.UUID == uuid {
			return m.Topics
		}
	}
	return nil
}

// OnResult examines a Result (exporter.Options.OnResult; safe for
// concurrent use).
func (w *Warner) OnResult(r *result.Result) {
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
					var topics []string
					if w.topics != nil {
						topics = w.topics(l.UUID)
					}
					msg, attrs := Warning(c.Name, ge, l, topics...)
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

func groupExpired(ge *result.GroupExpiry) bool {
	for _, t := range ge.Topics {
		if t.Expired {
			return true
		}
	}
	return false
}

// RecordsAtRisk sums the group's records at risk for the mapping's
// starting position over the mapping's topics (every topic of the group
// when none are given: a group may also commit on topics the mapping does
// not read); ok is false when there is no estimate (an AT_TIMESTAMP
// mapping, or unknown log bounds).
func RecordsAtRisk(ge *result.GroupExpiry, l result.LambdaESM, topics ...string) (n int64, ok bool) {
	for _, t := range ge.Topics {
		if len(topics) > 0 && !slices.Contains(topics, t.Topic) {
			continue
		}
		for _, r := range t.RecordsAtRisk {
			if r.StartingPosition == l.StartingPosition && r.Records >= 0 {
				n += r.Records
				ok = true
			}
		}
	}
	return n, ok
}

// Warning is the log line of an at-risk mapping: "function F will skip
// (LATEST) / reprocess (TRIM_HORIZON) about N records if enabled after T".
func Warning(cluster string, ge *result.GroupExpiry, l result.LambdaESM, topics ...string) (string, []any) {
	at := ge.ExpiresAt.UTC().Format(time.RFC3339)
	n, known := RecordsAtRisk(ge, l, topics...)
	var msg string
	switch {
	case l.StartingPosition == posLatest && known:
		msg = fmt.Sprintf("function %s will skip (LATEST) about %d records if enabled after %s", l.FunctionName, n, at)
	case l.StartingPosition == posEarliest && known:
		msg = fmt.Sprintf("function %s will reprocess (TRIM_HORIZON) about %d records if enabled after %s", l.FunctionName, n, at)
	case l.StartingPosition == posTimestamp:
		msg = fmt.Sprintf("function %s will restart from its AT_TIMESTAMP position %s if enabled after %s",
			l.FunctionName, l.StartingPositionTimestamp.UTC().Format(time.RFC3339), at)
	default:
		msg = fmt.Sprintf("function %s will restart from its StartingPosition if enabled after %s", l.FunctionName, at)
	}
	attrs := []any{"cluster_name", cluster, "group", ge.Group, "function_name", l.FunctionName, "esm_uuid", l.UUID,
		"esm_state", l.State, "region", l.Region, "starting_position", l.StartingPosition,
		"expires_at", at, "expires_in", ge.ExpiresIn.Round(time.Second).String(), "horizon", l.Horizon.String()}
	if known {
		attrs = append(attrs, "records_at_risk", n)
	}
	if len(topics) > 0 {
		attrs = append(attrs, "topics", topics)
	}
	return msg + ": its consumer group's committed offsets expire then (disabled, no members)", attrs
}

package exporter

import (
	"log/slog"
	"time"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/kafkaadmin"
)

// expiryView is a cluster's expiry view from one poll
// (expiry.Tracker.Observe); LogEvents logs its events.
type expiryView struct {
	Retention       time.Duration
	RetentionSource string
	Groups          []result.GroupExpiry
	LogEvents       func(*slog.Logger)
}

// initExpiry gives the exporter a tracker with the defaults when Options
// has none: every cluster tracked, the retention from the brokers, the
// state in memory only.
func (e *Exporter) initExpiry() error {
	if e.opts.Expiry != nil {
		return nil
	}
	clusters := make(map[string]time.Duration, len(e.clusters))
	for name := range e.clusters {
		clusters[name] = 0
	}
	t, err := expiry.NewTracker(expiry.Config{}, expiry.Options{Clusters: clusters, Interval: e.opts.Poll.Interval,
		Logger: e.opts.Logger, Now: e.opts.Now})
	e.opts.Expiry = t
	return err
}

// observeExpiry runs the tracker on a cluster's snapshot (the tracker
// persists its state itself).
func (e *Exporter) observeExpiry(cluster string, snap *kafkaadmin.Snapshot, now time.Time) *expiryView {
	var v expiryView
	v.Retention, v.RetentionSource, v.Groups, v.LogEvents = e.opts.Expiry.Observe(cluster, snap, now)
	return &v
}

// saveExpiry writes the tracker's state file (if it has one) once the
// polls have returned.
func (e *Exporter) saveExpiry() { _ = e.opts.Expiry.Save() } // a failure is logged by Save

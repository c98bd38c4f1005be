package app

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/ha"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/metrics"
)

// replicas is the optional HA membership (--ha.enabled); its methods do
// nothing (and own everything) on a nil receiver.
type replicas struct {
	m   *ha.Member
	log *slog.Logger
	// target is the Member's ha.Target: the expiry tracker, which
	// restores the state of shards the replica gains (the exporter, whose
	// Owner the Member is, republishes when it loses some).
	target *expiry.Tracker
}

var _ Component = (*replicas)(nil)

// newReplicas configures the membership; it connects nowhere.
func newReplicas(cfg *appconfig.Config, logger *slog.Logger) (*replicas, error) {
	if !cfg.HA.Enabled {
		return nil, nil
	}
	opts, err := cfg.HAOptions()
	if err != nil {
		return nil, err
	}
	opts.Logger = logger
	m, err := ha.New(opts)
	if err != nil {
		return nil, err
	}
	return &replicas{m: m, log: logger}, nil
}

// owns wraps a cluster's group filter: with HA, only the owned groups.
func (r *replicas) owns(cluster string, include func(string) bool) func(string) bool {
	if r == nil {
		return include
	}
	return func(g string) bool { return r.m.OwnsGroup(cluster, g) && include(g) }
}

// include is the expiry tracker's Options.Include: include, with HA only
// for the groups this replica owns.
func (r *replicas) include(include func(string) bool) func(cluster, group string) bool {
	if r == nil {
		return func(_, g string) bool { return include(g) }
	}
	return func(cluster, g string) bool { return r.m.OwnsGroup(cluster, g) && include(g) }
}

// share is the expiry tracker's Options.Share: with HA, the membership
// writes the state where the next owner reads it.
func (r *replicas) share() func(cluster string, groups iter.Seq2[string, json.RawMessage]) {
	if r == nil {
		return nil
	}
	return r.m.ObserveExpiry
}

// owner is the exporter's Owner (nil interface when off).
func (r *replicas) owner() exporter.Owner {
	if r == nil {
		return nil
	}
	return r.m
}

// Name is the Component's name.
func (r *replicas) Name() string { return "ha" }

// Start joins the group (a Component: before the first poll); polls export
// nothing until shards are assigned and restored.
func (r *replicas) Start(ctx context.Context) error { return r.m.Start(ctx, r.target) }

// Stop leaves the group (a Component: after the polls returned, within the
// shutdown deadline): the shards move at once.
func (r *replicas) Stop(ctx context.Context) error {
	r.m.Stop(ctx)
	return nil
}

// components is the membership as a Component, none when off.
func (r *replicas) components() []Component {
	if r == nil {
		return nil
	}
	return []Component{r}
}

// describe names this replica for the status page: "replica <member id>
// on <host>, N of P shards".
func (r *replicas) describe() string {
	st := r.m.Stats()
	id := st.MemberID
	if id == "" {
		id = "(joining)"
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("replica %s on %s, %d of %d shards", id, host, len(st.Owned), st.Partitions)
}

// collectors are the membership's self-metrics.
func (r *replicas) collectors() []prometheus.Collector {
	if r == nil {
		return nil
	}
	return []prometheus.Collector{metrics.NewHACollector(func() metrics.HAStats {
		st := r.m.Stats()
		return metrics.HAStats{Shards: st.Partitions, Owned: len(st.Owned), Restoring: len(st.Restoring),
			Rebalances: st.Rebalances, Restores: st.Restores, LastRestore: st.LastRestore}
	})}
}

// handler serves /api/v1/replicas: this replica and the group's members
// with their shards (one DescribeGroups per request).
func (r *replicas) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r == nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"HA replicas are not enabled (--ha.enabled)"}` + "\n"))
			return
		}
		st := r.m.Stats()
		ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
		defer cancel()
		members, err := r.m.Replicas(ctx)
		out := struct {
			Group          string       `json:"group"`
			Topic          string       `json:"topic"`
			Shards         int          `json:"shards"`
			MemberID       string       `json:"member_id"`
			Owned          []int32      `json:"owned"`
			Restoring      []int32      `json:"restoring"`
			Rebalances     uint64       `json:"rebalances"`
			LastRestoreSec float64      `json:"last_restore_seconds"`
			Replicas       []ha.Replica `json:"replicas"`
			Error          string       `json:"error,omitempty"`
		}{st.Group, st.Topic, st.Partitions, st.MemberID, st.Owned, st.Restoring, st.Rebalances,
			st.LastRestore.Seconds(), members, ""}
		if err != nil {
			out.Error = err.Error()
		}
		if out.Owned == nil {
			out.Owned = []int32{}
		}
		if out.Restoring == nil {
			out.Restoring = []int32{}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

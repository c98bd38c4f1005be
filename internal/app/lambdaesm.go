package app

import (
	"context"
	"log/slog"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/appconfig"
)

// lambdaESM is the optional Lambda event source mapping discovery; its
// methods do nothing when lambda-esm.enabled is off (nil receiver).
type lambdaESM struct {
	d *lambdaesm.Discoverer
	w *lambdaesm.Warner
}

// newLambdaESM configures discovery (no AWS request is made); nil when off.
func newLambdaESM(ctx context.Context, cfg *appconfig.Config, logger *slog.Logger) (*lambdaESM, error) {
	opts := cfg.LambdaESMOptions()
	if opts == nil {
		return nil, nil
	}
	opts.Logger = logger
	d, err := lambdaesm.New(ctx, *opts)
	if err != nil {
		return nil, err
	}
	logger.Info("discovering Lambda event source mappings", "regions", d.Regions(),
		"refresh_interval", d.RefreshInterval(), "horizon", opts.Horizon)
	return &lambdaESM{d: d, w: d.NewWarner(logger)}, nil
}

// hasGroup reports whether a discovered mapping consumes with group.
func (l *lambdaESM) hasGroup(group string) bool { return l != nil && l.d.HasGroup(group) }

// expectedGroups is expiry.Options.Expected: the discovered groups
// of a cluster that include keeps (this replica's shard).
func (l *lambdaESM) expectedGroups(include func(string) bool) func(string) []expiry.ExpectedGroup {
	if l == nil {
		return nil
	}
	return func(cluster string) []expiry.ExpectedGroup {
		all := l.d.ExpectedGroups(cluster)
		out := make([]expiry.ExpectedGroup, 0, len(all))
		for _, eg := range all {
			if include(eg.Group) {
				out = append(out, eg)
			}
		}
		return out
	}
}

// onResult logs the at-risk warnings.
func (l *lambdaESM) onResult() func(*result.Result) {
	if l == nil {
		return nil
	}
	return func(r *result.Result) {
		l.d.Rematch() // match mappings to the brokers the poll's Metadata listed
		l.w.OnResult(r)
	}
}

// watchBrokers lets discovery match mappings to every broker of a cluster
// as its Metadata lists them, not only the configured bootstrap brokers.
func (l *lambdaESM) watchBrokers(cluster string, brokers func() []string) {
	if l != nil {
		l.d.SetMetadataBrokers(cluster, brokers)
	}
}

// run lists the mappings at once, then every refresh interval, until ctx
// ends.
func (l *lambdaESM) run(ctx context.Context) {
	if l == nil {
		return
	}
	_ = l.d.Refresh(ctx) // errors are logged
	l.d.Run(ctx)
}

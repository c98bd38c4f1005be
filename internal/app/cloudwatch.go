package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/metrics/cloudwatch"
)

// cloudWatch is the optional CloudWatch publisher; its methods do nothing
// when cloudwatch.mode is off (nil receiver).
type cloudWatch struct {
	pub   *cloudwatch.Publisher
	cfg   appconfig.CloudWatchConfig
	log   *slog.Logger
	close func() error
}

// newCloudWatch configures the publisher (no AWS request is made) and
// starts it; nil when cloudwatch.mode is off.
func newCloudWatch(ctx context.Context, all *appconfig.Config, stdout io.Writer, logger *slog.Logger) (*cloudWatch, error) {
	cfg := all.CloudWatch
	if cfg.Mode == appconfig.CloudWatchOff {
		return nil, nil
	}
	opts := cfg.PublisherOptions()
	opts.Logger = logger
	opts.ClusterNames = all.CloudWatchClusterNames()
	cw := &cloudWatch{cfg: cfg, log: logger, close: func() error { return nil }}
	switch cfg.Mode {
	case appconfig.CloudWatchAPI:
		client, err := cloudwatch.NewClient(ctx, cfg.ClientOptions())
		if err != nil {
			return nil, fmt.Errorf("cloudwatch: %w", err)
		}
		opts.Client = client
	case appconfig.CloudWatchEMF:
		if cfg.EMFOutput == "stdout" {
			opts.EMF = stdout
		} else {
			f, err := os.OpenFile(cfg.EMFOutput, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return nil, fmt.Errorf("cloudwatch.emf-output: %w", err)
			}
			opts.EMF, cw.close = f, f.Close
		}
	}
	pub, err := cloudwatch.New(opts)
	if err != nil {
		_ = cw.close()
		return nil, err
	}
	cw.pub = pub
	pub.Start()
	logger.Info("publishing to CloudWatch", "mode", cfg.Mode, "namespace", opts.Namespace,
		"partition_metrics", cfg.PartitionMetrics, "max_metrics", opts.MaxMetrics, "publish_period", opts.PublishPeriod,
		"cluster_names", opts.ClusterNames)
	return cw, nil
}

// onResult is the exporter's OnResult hook (nil when off).
func (c *cloudWatch) onResult() func(*result.Result) {
	if c == nil {
		return nil
	}
	return c.pub.Enqueue
}

// collectors are the publisher's self-metrics.
func (c *cloudWatch) collectors() []prometheus.Collector {
	if c == nil {
		return nil
	}
	return c.pub.Collectors()
}

// stop publishes the latest poll and flushes the queue until ctx ends
// (the shutdown deadline, cloudwatch.flush-timeout after SIGTERM), then
// closes the EMF file.
func (c *cloudWatch) stop(ctx context.Context) {
	if c == nil {
		return
	}
	start := time.Now()
	if err := c.pub.Stop(ctx); err != nil {
		c.log.Warn("CloudWatch flush cut short: queued polls dropped", "err", err, "took", time.Since(start))
	} else {
		c.log.Info("CloudWatch flushed", "took", time.Since(start))
	}
	if err := c.close(); err != nil {
		c.log.Warn("closing the EMF output", "file", c.cfg.EMFOutput, "err", err)
	}
}

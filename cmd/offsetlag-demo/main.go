// Command offsetlag-demo runs the whole product in one process, with no
// Kafka of your own: an in-process Kafka-protocol cluster (kfake, three
// brokers), a producer with bursts, the factor-worker, a nightly-report
// consumer that stops (so its group goes Empty and its offsets expire on a
// short demo retention), and the exporter with its status page, metrics
// and JSON API. Ctrl-C stops everything.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/cli"
)

const name = "offsetlag-demo"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the exit. Exit codes: 0 after a clean stop (ctx
// ended), 1 when a component failed, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := defaultConfig()
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&cfg.ListenAddress, "web.listen-address", cfg.ListenAddress, "address of the status page, /metrics and the JSON API (port 0: any free port)")
	fs.DurationVar(&cfg.Retention, "offsets.retention", cfg.Retention, "committed-offset retention of the demo brokers: an Empty group's offsets are deleted this long after it went Empty (Kafka's offsets.retention.minutes, 7 days by default)")
	fs.DurationVar(&cfg.CheckInterval, "offsets.retention-check-interval", cfg.CheckInterval, "how often the brokers delete expired offsets (offsets.retention.check.interval.ms)")
	fs.DurationVar(&cfg.PollInterval, "poll.interval", cfg.PollInterval, "how often the exporter polls the cluster")
	fs.DurationVar(&cfg.Refresh, "web.refresh", cfg.Refresh, "how often the status page fetches fresh data")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the numbers topic")
	fs.Float64Var(&cfg.Rate, "produce.rate", cfg.Rate, "steady produce rate, records per second")
	fs.DurationVar(&cfg.BurstEvery, "produce.burst-every", cfg.BurstEvery, "produce a burst this often (0: no bursts)")
	fs.Int64Var(&cfg.BurstSize, "produce.burst-size", cfg.BurstSize, "records per burst, produced as fast as possible")
	fs.Float64Var(&cfg.LargeShare, "produce.large-share", cfg.LargeShare, "share of large numbers (up to 10^12, slow to factor), 0..1")
	fs.DurationVar(&cfg.NightlyAfter, "nightly.start-after", cfg.NightlyAfter, "when the nightly-report consumer starts")
	fs.DurationVar(&cfg.NightlyFor, "nightly.run-for", cfg.NightlyFor, "how long the nightly-report consumer reads before it stops for good")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "directory of the factor-worker's SQLite store (default: a temporary directory, removed at exit)")
	fs.String("log.level", "warn", "log level of the components (worker, exporter): "+cli.LogLevels+"; the demo's own messages are always shown")
	format := fs.String("log.format", cli.DefaultLogFormat, "log format: "+cli.LogFormats)
	usage := "Usage: " + name + " [flags]\n\n" +
		"Runs offsetlag with no Kafka of your own: an in-process Kafka-protocol cluster\n" +
		"(3 brokers), a producer with bursts, the factor-worker (group factor-worker), a\n" +
		"nightly-report consumer that stops so its group goes Empty and its offsets\n" +
		"expire, and the exporter with its status page, /metrics and JSON API.\n" +
		"Open the printed status page URL. Ctrl-C stops everything (exit 0).\n" +
		"Exit codes: 0 after Ctrl-C or SIGTERM, 1 when a component failed, 2 for bad\n" +
		"flags (one line on stderr)."
	log, err := cli.ParseLog(fs, name, args, stdout, stderr, usage)
	if err != nil {
		return cli.Exit(name, err, stderr)
	}
	if err := cfg.validate(); err != nil {
		return cli.Exit(name, cli.UsageError{Msg: err.Error()}, stderr)
	}
	// The exporter's options are checked now (with a placeholder broker:
	// the demo cluster's addresses are known once it runs).
	if _, err := cfg.exporterConfig([]string{"127.0.0.1:9092"}); err != nil {
		return cli.Exit(name, cli.UsageError{Msg: err.Error()}, stderr)
	}
	say, _ := cli.NewLogger(stderr, "info", *format)
	say = say.With("component", "demo")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d, err := start(ctx, cfg, log, say)
	if err != nil {
		say.Error("demo failed to start", "err", err)
		return 1
	}
	d.printURLs(stdout)
	code := 0
	select {
	case <-ctx.Done():
	case err := <-d.failed():
		say.Error("stopping", "err", err)
		code = 1
	}
	say.Info("stopping the demo")
	cancel()
	_ = d.wait()
	say.Info("stopped")
	return code
}

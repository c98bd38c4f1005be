// Command offsetlag-demo runs the whole product in one process, with no
// Kafka of your own: an in-process Kafka-protocol cluster (kfake, three
// brokers), a producer with bursts, the factor-worker, a nightly-report
// consumer that stops (so its group goes Empty and its offsets expire on a
// short demo retention), and the exporter with its status page, metrics
// and JSON API. Ctrl-C stops everything.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/common/version"
	"github.com/spf13/pflag"
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
	fs.SetOutput(stderr)
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
	showVersion := fs.Bool("version", false, "print the version and exit")
	level := fs.String("log.level", "warn", "log level of the components (worker, exporter): debug, info, warn or error; the demo's own messages are always shown")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\n"+
			"Runs offsetlag with no Kafka of your own: an in-process Kafka-protocol cluster\n"+
			"(3 brokers), a producer with bursts, the factor-worker (group factor-worker), a\n"+
			"nightly-report consumer that stops so its group goes Empty and its offsets\n"+
			"expire, and the exporter with its status page, /metrics and JSON API.\n"+
			"Open the printed status page URL. Ctrl-C stops everything.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print(name))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(*level))); err != nil {
		fmt.Fprintf(stderr, "%s: --log.level %q: want debug, info, warn or error\n", name, *level)
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	say := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "demo")

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

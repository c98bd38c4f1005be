// Command offsetlag-exporter polls Kafka clusters for consumer-group lag
// and serves it to Prometheus. See README.md for the configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"github.com/spf13/pflag"

	"github.com/offsetlag/offsetlag/internal/app"
	"github.com/offsetlag/offsetlag/internal/appconfig"
)

const name = "offsetlag-exporter"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the exit, for tests; it stops when ctx ends (SIGTERM
// or SIGINT in main). Exit codes: 0 after a clean shutdown, 1 when serving
// failed, 2 for bad flags or configuration.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := appconfig.Flags(name)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\n"+
			"Polls Kafka clusters for consumer-group lag and serves it as Prometheus metrics.\n"+
			"Every flag can also be set in the YAML file given with --config, or as an\n"+
			"environment variable OFFSETLAG_<FLAG> (upper case, . and - as _), e.g.\n"+
			"OFFSETLAG_KAFKA_BROKERS=b1:9092,b2:9092. Flags win over the environment,\n"+
			"which wins over the file.\n\nFlags:\n", name)
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
	cfg, err := appconfig.Load(fs, environ)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}

	logger := newLogger(cfg.Log, stderr)
	if err := serve(ctx, cfg, stdout, logger); err != nil {
		logger.Error("exiting", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func newLogger(lc appconfig.LogConfig, w io.Writer) *slog.Logger {
	pc := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: w}
	_ = pc.Level.Set(lc.Level)
	_ = pc.Format.Set(lc.Format)
	return promslog.New(pc)
}

// serve runs the application (internal/app) until ctx ends or something
// fails; it returns after the ordered shutdown.
func serve(ctx context.Context, cfg *appconfig.Config, stdout io.Writer, logger *slog.Logger) error {
	a, err := app.New(ctx, cfg, app.Options{Logger: logger, Stdout: stdout})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

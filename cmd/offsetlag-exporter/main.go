// Command offsetlag-exporter polls Kafka clusters for consumer-group lag
// and serves it to Prometheus. See README.md for the configuration.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/offsetlag/offsetlag/internal/app"
	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/cli"
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
	usage := "Usage: " + name + " [flags]\n\n" +
		"Polls Kafka clusters for consumer-group lag and serves it as Prometheus metrics.\n" +
		"Every flag can also be set in the YAML file given with --config, or as an\n" +
		"environment variable OFFSETLAG_<FLAG> (upper case, . and - as _), e.g.\n" +
		"OFFSETLAG_KAFKA_BROKERS=b1:9092,b2:9092. Flags win over the environment,\n" +
		"which wins over the file.\n" +
		"Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM), 1 when serving failed,\n" +
		"2 for bad flags or configuration (one line on stderr)."
	if err := cli.Parse(fs, name, args, stdout, usage); err != nil {
		return cli.Exit(name, err, stderr)
	}
	cfg, err := appconfig.Load(fs, environ)
	if err != nil {
		return cli.Exit(name, cli.UsageError{Msg: err.Error()}, stderr)
	}
	logger, err := cli.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return cli.Exit(name, err, stderr)
	}
	if err := serve(ctx, cfg, stdout, logger); err != nil {
		logger.Error("exiting", "err", err)
		return cli.ExitFailure
	}
	logger.Info("stopped")
	return cli.ExitOK
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

// Command offsetlag-bench runs offsetlag's performance suite (package
// bench): it builds in-process kfake clusters of sizes S, M, L (1M
// committed offsets) and XL (4M), measures the exporter's poll at steady
// state and its /metrics, the bare batched request round and the request
// patterns of kminion and kafka_exporter, checks the targets of issues 10
// and 16, prints a markdown table and writes it to a file
// (bench/results.md by default).
//
//	go run ./cmd/offsetlag-bench [-sizes S,M,L,XL] [-polls 3] [-out bench/results.md]
//
// It exits 1 when a target is missed (the table is still written).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/bench"
	"github.com/offsetlag/offsetlag/exporter/status"
	"github.com/offsetlag/offsetlag/internal/cli"
)

const name = "offsetlag-bench"

func main() {
	os.Exit(run())
}

func run() int {
	// Go's flag package (-sizes or --sizes), with the convention of every
	// offsetlag binary (internal/cli): --help on stdout, --version, a bad
	// flag one line on stderr and exit 2.
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	showVersion := fs.Bool("version", false, "print the version, revision, build date and Go version, then exit")
	sizes := fs.String("sizes", "S,M,L,XL", "cluster sizes to measure (S, M, L, XL)")
	polls := fs.Int("polls", 3, "measured polls per strategy, after the warm-up polls")
	var trendDefaults status.Config
	trendDefaults.SetDefaults()
	warmup := fs.Int("warmup", trendDefaults.Status.Window+1, "exporter polls before the measured ones (steady state: the status window has filled)")
	naivePolls := fs.Int("naive-polls", 3, "measured polls of the kminion and kafka_exporter request patterns")
	naiveSample := fs.Int("naive-sample", 10000, "most partitions and group partitions the kafka_exporter pattern reads per poll; beyond, it samples and extrapolates")
	loadClients := fs.Int("load-clients", 200, "clients scraping the exporter of -load-size continuously for -load-for (0: skip)")
	loadFor := fs.Duration("load-for", 30*time.Second, "duration of the scrape load")
	loadSize := fs.String("load-size", "S", "size of the scrape load scenario")
	stalled := fs.Int("stalled", 15, "plain-text readers that stall on /metrics of -stalled-size (0: skip)")
	stalledSize := fs.String("stalled-size", "L", "size of the stalled readers scenario (its /metrics text should be >= 50 MB)")
	heapDir := fs.String("heap-dir", "", "write the exporter's heap profile per size to this directory")
	strategies := fs.String("strategies", "", "comma-separated strategies to run (bare, exporter, kminion-pattern, kafka_exporter-pattern; default all)")
	probeEnv := fs.String("probe-env", "", "comma-separated VAR=value added to the environment of the probe processes (e.g. GOMEMLIMIT=1800MiB)")
	latency := fs.Duration("latency", 50*time.Millisecond, "latency injected on every request in the latency scenario (0: skip)")
	latencySize := fs.String("latency-size", "M", "size of the latency scenario")
	out := fs.String("out", "bench/results.md", "file the markdown report is written to (empty: none)")
	profiles := fs.String("cpuprofile-dir", "", "write a CPU profile of each strategy's measured polls to this directory")
	probe := fs.String("probe", "", "internal: run one probe with these JSON arguments")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stdout, "Usage: %s [flags]\n\nRuns offsetlag's performance suite and writes a markdown report.\n"+
				"Exit codes: 0 every target met, 1 a target missed or a failure, 2 bad flags.\n\nFlags:\n", name)
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	if *showVersion {
		fmt.Println(cli.VersionText(name))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *probe != "" {
		var a bench.ProbeArgs
		if err := json.Unmarshal([]byte(*probe), &a); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 2
		}
		if err := bench.RunProbe(ctx, a, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
		return 0
	}

	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o := bench.Options{Polls: *polls, NaivePolls: *naivePolls, NaiveSample: *naiveSample, Latency: *latency,
		LatencySize: *latencySize, Probe: []string{self, "-probe"}, Log: os.Stderr, ProfileDir: *profiles,
		Warmup: *warmup, LoadClients: *loadClients, LoadFor: *loadFor, LoadSize: *loadSize, Stalled: *stalled,
		StalledSize: *stalledSize, HeapDir: *heapDir}
	if *strategies != "" {
		o.Strategies = strings.Split(*strategies, ",")
	}
	if *probeEnv != "" {
		o.ProbeEnv = strings.Split(*probeEnv, ",")
	}
	for _, n := range strings.Split(*sizes, ",") {
		s, ok := bench.SizeByName(strings.TrimSpace(n))
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: unknown size %q (want S, M, L or XL)\n", name, n)
			return 2
		}
		o.Sizes = append(o.Sizes, s)
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	cmd := "go run ./cmd/offsetlag-bench"
	if args := os.Args[1:]; len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	md := rep.Markdown(cmd)
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	}
	if rep.Failures > 0 {
		return 1
	}
	return 0
}

// Command offsetlag-bench runs offsetlag's performance suite (package
// bench): it builds in-process kfake clusters of sizes S, M and L, measures
// the exporter's poll, the bare batched request round and a naive
// per-partition strategy, checks the targets of issue 10, prints a markdown
// table and writes it to a file (bench/results.md by default).
//
//	go run ./cmd/offsetlag-bench [-sizes S,M,L] [-polls 5] [-out bench/results.md]
//
// It exits 1 when a target is missed (the table is still written).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	sizes := flag.String("sizes", "S,M,L", "cluster sizes to measure (S, M, L)")
	polls := flag.Int("polls", 5, "measured polls per strategy, after one warm-up poll")
	naivePolls := flag.Int("naive-polls", 3, "measured polls of the naive per-partition strategy")
	naiveSample := flag.Int("naive-sample", 10000, "most partitions the naive strategy reads per poll; beyond, it samples and extrapolates")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency injected on every request in the latency scenario (0: skip)")
	latencySize := flag.String("latency-size", "M", "size of the latency scenario")
	out := flag.String("out", "bench/results.md", "file the markdown report is written to (empty: none)")
	profiles := flag.String("cpuprofile-dir", "", "write a CPU profile of each strategy's measured polls to this directory")
	probe := flag.String("probe", "", "internal: run one probe with these JSON arguments")
	flag.Parse()

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
		LatencySize: *latencySize, Probe: []string{self, "-probe"}, Log: os.Stderr, ProfileDir: *profiles}
	for _, n := range strings.Split(*sizes, ",") {
		s, ok := bench.SizeByName(strings.TrimSpace(n))
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown size %q (want S, M or L)\n", n)
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

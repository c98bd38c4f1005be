package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/worker/store"
)

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"run", "--batch-size", "x"}, "--batch-size"},
		{[]string{"run", "--batch-size", "0"}, "--batch-size 0"},
		{[]string{"run", "--starting-position", "EARLIEST"}, "starting position"},
		{[]string{"run", "--starting-position", "AT_TIMESTAMP", "--starting-timestamp", "yesterday"}, "RFC 3339"},
		{[]string{"run", "--kafka.version", "2.0.0"}, "--kafka.version 2.0.0: want >= 2.1.0"},
		{[]string{"run", "--kafka-version", "2.0.0"}, "--kafka.version 2.0.0: want >= 2.1.0"},    // deprecated spelling
		{[]string{"run", "--kafka-version", "2.0.0", "--log-level", "debug"}, "--kafka.version"}, // no warning before the error
		{[]string{"run", "--kafka.tls.ca-file", "/ca.pem"}, "--kafka.tls.* options are set but --kafka.tls.enable is false"},
		{[]string{"run", "--max-retries", "-2"}, "--max-retries -2: out of range, want at least -1"},
		{[]string{"run", "--max-number", "0"}, "--max-number 0: out of range, want at least 1"},
		{[]string{"run", "--max-record-bytes", "15"}, "--max-record-bytes 15: out of range, want at least 16"},
		{[]string{"run", "--retry-backoff", "0s"}, "--retry-backoff 0: out of range, want 1ms to 1h"},
		{[]string{"run", "--retry-backoff", "2s", "--max-retry-backoff", "1s"}, "--max-retry-backoff 1s: want at least --retry-backoff 2s"},
		{[]string{"produce", "--min", "0"}, "--min 0: out of range, want at least 1"},
		{[]string{"run", "--store", "redis"}, "--store"},
		{[]string{"run", "--store", "dynamodb", "--max-number", "1000000000000000000"}, "above DynamoDB's 409600-byte item limit (largest accepted: 8086598962041599)"},
		{[]string{"run", "--store", "dynamodb", "--dynamodb-concurrency", "0"}, "--dynamodb-concurrency 0"},
		{[]string{"run", "--connect-backoff", "2s", "--max-connect-backoff", "1s"}, "--max-connect-backoff"},
		{[]string{"run", "--log-level", "loud"}, "--log.level"}, // the deprecated spelling still parses
		{[]string{"run", "--log.level", "loud"}, "--log.level"},
		{[]string{"produce", "--log.format", "xml"}, "--log.format"},
		{[]string{"run", "extra"}, "unexpected argument"},
		{[]string{"produce", "--distribution", "zipf"}, "distribution"},
		{[]string{"produce", "--count", "0"}, "count"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cli(c.args, &stdout, &stderr); code != exitUsage {
				t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("stderr %q: want one line containing %q", stderr.String(), c.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "produce"} {
		var stdout, stderr bytes.Buffer
		if code := cli([]string{cmd, "--help"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		out := stdout.String()
		for _, f := range []string{"--kafka.brokers", "--topic", "--kafka.version", "--kafka.tls.enable", "--kafka.sasl.mechanism",
			"--log.level", "(range: at least 1)", "FACTOR_WORKER_<KEY>", "OFFSETLAG_<KEY>", "--brokers (--kafka.brokers)"} {
			if !strings.Contains(out, f) {
				t.Fatalf("%s --help lacks %s", cmd, f)
			}
		}
		// Every flag has a description.
		_, flags, _ := strings.Cut(out, "\nFlags:\n")
		for _, line := range strings.Split(flags, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--") && len(strings.Fields(line)) < 3 {
				t.Fatalf("%s --help: flag without description: %q", cmd, line)
			}
		}
	}
}

// TestBinarySIGTERM builds the binary, produces with "produce", runs "run"
// against an in-process cluster with a long batching window, sends SIGTERM
// while the batch is in flight, and checks: exit 0, every valid record
// stored once, every malformed one dead-lettered, offsets committed.
func TestBinarySIGTERM(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the binary")
	bin := buildBinary(t)
	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "numbers", "numbers-failed"))
	brokers := strings.Join(c.ListenAddrs(), ",")

	out, err := exec.Command(bin, "produce", "--kafka.brokers", brokers, "--count", "300", "--malformed", "0.05",
		"--seed", "3", "--max", "1000000").CombinedOutput()
	if err != nil {
		t.Fatalf("produce: %v\n%s", err, out)
	}
	var sent, malformed, failed int
	if _, err := fmt.Sscanf(string(out), "produced %d records (%d malformed, %d failed)", &sent, &malformed, &failed); err != nil || sent != 300 || malformed == 0 {
		t.Fatalf("produce output %q", out)
	}

	db := filepath.Join(t.TempDir(), "results.db")
	cmd := exec.Command(bin, "run", "--kafka.brokers", brokers, "--group", "g-bin", "--sqlite-path", db,
		"--batch-size", "10000", "--batch-window", "5m", "--web.listen-address", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrc := make(chan string, 1)
	logs := &bytes.Buffer{}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil && l["msg"] == "metrics listening" {
				addrc <- l["addr"].(string)
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatal("no metrics address logged")
	}
	// Wait until all 300 records are held in the (unflushed) batches.
	deadline := time.Now().Add(30 * time.Second)
	for scrape(t, addr, "factor_worker_records_received_total") < 300 {
		if time.Now().After(deadline) {
			t.Fatalf("records not received; metrics:\n%s", scrapeAll(addr))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := scrape(t, addr, `factor_worker_records_total{outcome="stored"}`); got != 0 {
		t.Fatalf("stored %v before SIGTERM: batching window not honoured", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("worker exit: %v\nlogs:\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not exit after SIGTERM")
	}

	st, err := store.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.Count(context.Background()); n != sent-malformed {
		t.Fatalf("rows = %d, want %d", n, sent-malformed)
	}
	adm := c.Admin
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, "g-bin")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "numbers", "numbers-failed")
	if err != nil {
		t.Fatal(err)
	}
	var committed, failedEnd int64
	offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
	ends.Each(func(o kadm.ListedOffset) {
		if o.Topic == "numbers-failed" {
			failedEnd += o.Offset
		}
	})
	if committed != 300 {
		t.Fatalf("committed offsets sum to %d, want 300", committed)
	}
	if failedEnd != int64(malformed) {
		t.Fatalf("failure topic holds %d records, want %d", failedEnd, malformed)
	}
}

func scrapeAll(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// scrape returns the value of the series named exactly by prefix (name plus
// optional labels), or 0.
func scrape(t *testing.T, addr, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(scrapeAll(addr), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return 0
}

// A metrics server that fails while serving (its socket gone) stops the
// worker: run returns exit 1 with the reason (before, the worker went on
// without /metrics and /readyz).
func TestMetricsServerFailureStopsWorker(t *testing.T) {
	c := kfaketest.New(t, kfake.SeedTopics(1, "numbers", "numbers-failed"))
	listeners := make(chan net.Listener, 1)
	orig := metricsListen
	metricsListen = func(addr string) (net.Listener, error) {
		ln, err := orig(addr)
		if err == nil {
			listeners <- ln
		}
		return ln, err
	}
	defer func() { metricsListen = orig }()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cliEnv([]string{"run", "--kafka.brokers", strings.Join(c.ListenAddrs(), ","), "--web.listen-address", "127.0.0.1:0",
			"--sqlite-path", filepath.Join(t.TempDir(), "r.db"), "--log.format", "json"}, nil, &stdout, &lockedStderr{b: &stderr})
	}()
	var ln net.Listener
	select {
	case ln = <-listeners:
	case code := <-done:
		t.Fatalf("run ended (exit %d) before serving: %s", code, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the metrics server never listened")
	}
	_ = ln.Close()
	select {
	case code := <-done:
		if code != exitFailure {
			t.Errorf("exit %d, want %d", code, exitFailure)
		}
		if !strings.Contains(stderr.String(), "factor-worker run: metrics server on 127.0.0.1:0: ") {
			t.Errorf("stderr does not end with the reason:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker kept running after its metrics server failed")
	}
}

// lockedStderr is a bytes.Buffer written by the logger and the final
// error line.
type lockedStderr struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedStderr) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

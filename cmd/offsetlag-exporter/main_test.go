package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/offsetlag/offsetlag/internal/appconfig"
	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

func TestBadConfigExitsTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"no brokers", nil, nil, "no Kafka brokers"},
		{"broker without port", []string{"--kafka.brokers", "kafka"}, nil, `broker "kafka": want host:port`},
		{"bad duration", []string{"--kafka.brokers", "k:1", "--poll.interval", "soon"}, nil, "--poll.interval"},
		{"bad regex", []string{"--kafka.brokers", "k:1", "--groups.deny", "(x"}, nil, `groups deny regex "(x"`},
		{"unknown flag", []string{"--kafka.broker", "k:1"}, nil, "unknown flag: --kafka.broker"},
		{"unknown env", []string{"--kafka.brokers", "k:1"}, []string{"OFFSETLAG_POLL_INTERVALL=1s"}, "OFFSETLAG_POLL_INTERVALL: unknown option"},
		{"bad env duration", nil, []string{"OFFSETLAG_KAFKA_BROKERS=k:1", "OFFSETLAG_POLL_INTERVAL=1y"}, "poll.interval"},
		{"bad granularity", []string{"--kafka.brokers", "k:1", "--metrics.granularity", "broker"}, nil, "metrics.granularity"},
		{"negative stale-after", []string{"--kafka.brokers", "k:1", "--poll.stale-after", "-1s"}, nil, "poll.stale-after -1s: out of range, want 0 or 100ms to 24h"},
		{"missing config file", []string{"--config", "/nonexistent.yaml"}, nil, "config file"},
		{"stray argument", []string{"--kafka.brokers", "k:1", "extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, tt.env, &out, &errOut)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (stderr %q)", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not name the problem (%q)", errOut.String(), tt.want)
			}
		})
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	n := 0
	appconfig.Flags(name).VisitAll(func(f *pflag.Flag) {
		n++
		help := out.String()
		if !(strings.Contains(help, "--"+f.Name+" ") || strings.Contains(help, "--"+f.Name+"[")) || strings.TrimSpace(f.Usage) == "" {
			t.Errorf("--help does not explain --%s", f.Name)
		}
	})
	if n < 40 {
		t.Errorf("only %d flags defined", n)
	}
}

// seed fills a fresh cluster: topic t with 3 partitions of 10 records, and
// group g committed at 3, 5 and 10.
func seed(t *testing.T, c *kfaketest.Cluster) {
	t.Helper()
	for p := int32(0); p < 3; p++ {
		c.Produce(t, "t", p, 10)
	}
	c.Commit(t, "g", "t", map[int32]int64{0: 3, 1: 5, 2: 10})
}

// waitFor scrapes until every line is present, or fails after 20 s.
func waitFor(t *testing.T, url string, lines ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		body = testenv.Body(url)
		ok := true
		for _, l := range lines {
			if !strings.Contains(body, l+"\n") {
				ok = false
			}
		}
		if ok {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; last body:\n%s", url, lines, body)
	return ""
}

// TestServeOutageAndRecovery runs the real binary's main loop against an
// in-process cluster: correct lag and up 1; cluster gone: still serving,
// up 0, the reason logged; cluster back on the same ports: up 1 again.
func TestServeOutageAndRecovery(t *testing.T) {
	ports := testenv.FreePorts(t, 4)
	kports, webPort := ports[:3], ports[3]
	cluster := kfaketest.New(t, kfake.Ports(kports...), kfake.SeedTopics(3, "t"))
	seed(t, cluster)

	m := startRun(t, "--kafka.brokers", strings.Join(cluster.ListenAddrs(), ","), "--poll.interval", "300ms",
		"--kafka.dial-timeout", "1s", "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", webPort))
	base := fmt.Sprintf("http://127.0.0.1:%d", webPort)

	lag := func(p, v int) string {
		return fmt.Sprintf(`offsetlag_consumergroup_lag{cluster_name="default",group="g",topic="t",partition="%d"} %d`, p, v)
	}
	waitFor(t, base+"/metrics", `offsetlag_up{cluster_name="default"} 1`, lag(0, 7), lag(1, 5), lag(2, 0),
		`offsetlag_consumergroup_sum_lag{cluster_name="default",group="g"} 12`)
	if body := testenv.Body(base + "/readyz"); body != "ready\n" { // "not ready: ..." contains "ready" too
		t.Errorf("/readyz = %q", body)
	}

	cluster.Close()
	waitFor(t, base+"/metrics", `offsetlag_up{cluster_name="default"} 0`)
	if !strings.Contains(m.logs.String(), "poll failed") {
		t.Errorf("outage not logged; logs:\n%s", m.logs.String())
	}

	cluster = kfaketest.New(t, kfake.Ports(kports...), kfake.SeedTopics(3, "t"))
	seed(t, cluster)
	waitFor(t, base+"/metrics", `offsetlag_up{cluster_name="default"} 1`, lag(0, 7))
	if !strings.Contains(m.logs.String(), "poll succeeded again") {
		t.Errorf("recovery not logged; logs:\n%s", m.logs.String())
	}

	if code := m.stop(t, 15*time.Second); code != 0 {
		t.Errorf("exit code after shutdown = %d, want 0", code)
	}
}

// mainLoop is run, the binary's main loop, going in a goroutine of the
// test.
type mainLoop struct {
	cancel context.CancelFunc
	done   chan int
	logs   testenv.LockedBuffer
}

// startRun calls run with args (no environment, its log into logs); the
// test's end cancels it.
func startRun(t *testing.T, args ...string) *mainLoop {
	ctx, cancel := context.WithCancel(context.Background())
	m := &mainLoop{cancel: cancel, done: make(chan int, 1)}
	go func() { m.done <- run(ctx, args, nil, io.Discard, &m.logs) }()
	t.Cleanup(cancel)
	return m
}

// stop cancels run's context (as SIGTERM does) and returns its exit code;
// it fails t when run has not returned within timeout.
func (m *mainLoop) stop(t *testing.T, timeout time.Duration) int {
	t.Helper()
	m.cancel()
	select {
	case code := <-m.done:
		return code
	case <-time.After(timeout):
		t.Fatalf("run did not return within %s of the cancel; logs:\n%s", timeout, m.logs.String())
		return -1
	}
}

// A port in use: the exporter exits 1 with the address in the log, and no
// poll goes on behind it (before internal/app, the polls kept running
// after run returned and the Kafka clients were closed under them).
func TestPortInUseExitsOneAndStopsPolls(t *testing.T) {
	cluster := kfaketest.New(t, kfake.SeedTopics(1, "t"))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	before := goleak.IgnoreCurrent()
	var logs testenv.LockedBuffer
	code := run(context.Background(), []string{"--kafka.brokers", strings.Join(cluster.ListenAddrs(), ","),
		"--poll.interval", "100ms", "--web.listen-address", busy.Addr().String()}, nil, io.Discard, &logs)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(logs.String(), busy.Addr().String()) || !strings.Contains(logs.String(), "address already in use") {
		t.Errorf("the log does not name the busy address:\n%s", logs.String())
	}
	goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"))
}

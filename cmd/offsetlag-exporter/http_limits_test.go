package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/bench"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// child is the exporter's main() running in its own process (TestMain), so
// that its file descriptors and memory are its own.
type child struct {
	cmd      *exec.Cmd
	base     string
	stderr   *testenv.LockedBuffer
	stopOnce sync.Once
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePorts(t, 1)[0]
	c := &child{base: fmt.Sprintf("http://127.0.0.1:%d", port), stderr: &testenv.LockedBuffer{}}
	c.cmd = exec.Command(exe, append(args, "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port), "--log.level", "warn")...)
	c.cmd.Env = []string{"OFFSETLAG_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c.healthy() {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter did not serve /healthz within 30 s; stderr:\n%s", c.stderr.String())
	return nil
}

// stop interrupts the exporter and waits for it (killed after 15 s).
func (c *child) stop() {
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	})
}

// healthy asks /healthz over HTTP/1.0 and reads to the end of the
// connection: when it returns true, the exporter has closed its side, so
// its fd count no longer includes the probe.
func (c *child) healthy() bool {
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.0\r\n\r\n"); err != nil {
		return false
	}
	b, err := io.ReadAll(conn)
	return err == nil && strings.HasPrefix(string(b), "HTTP/1.0 200") && strings.HasSuffix(string(b), "ok\n")
}

// fds is the child's open file descriptor count.
func (c *child) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", c.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("fds of the exporter: %v", err)
	}
	return len(ents)
}

// rssMB is the child's resident set size (VmRSS) in MB.
func (c *child) rssMB(t *testing.T) float64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("status of the exporter: %v", err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// waitFDs waits until cond holds for the child's fd count.
func (c *child) waitFDs(t *testing.T, what string, timeout time.Duration, cond func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	n := c.fds(t)
	for ; !cond(n); n = c.fds(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: exporter still has %d fds after %s", what, n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// 300 keep-alive connections left idle after one request each are closed
// by the exporter within --web.idle-timeout, and its fds return to their
// baseline. (The HTTP server runs whether or not Kafka answers.)
//
// The fd count needs all 300 connections open at once. Making them takes
// 300 round trips one after the other, which on a loaded machine can
// outlast a 1 s idle timeout: the exporter then rightly closes the first
// connections before the last one is made. That is seen (an end of stream
// already waiting on a client socket after the count), and the
// measurement is made again with a child whose idle timeout is twice as
// long, instead of asserting a count that timing made wrong.
func TestExporterClosesIdleConnections(t *testing.T) {
	const conns = 300
	for idle := time.Second; !closesIdleConnections(t, conns, idle); idle *= 2 {
		if idle >= 16*time.Second {
			t.Fatalf("the exporter closed connections as idle before %d were open, even with --web.idle-timeout %s", conns, idle)
		}
		t.Logf("making %d connections outlasted --web.idle-timeout %s: again with %s", conns, idle, 2*idle)
	}
}

// closesIdleConnections runs TestExporterClosesIdleConnections with
// --web.idle-timeout idle; false: some connection was closed as idle
// before all were open (the premise, not the exporter, failed).
func closesIdleConnections(t *testing.T, conns int, idle time.Duration) bool {
	t.Helper()
	c := startChild(t, "--kafka.brokers", "127.0.0.1:1", "--kafka.dial-timeout", "100ms", "--poll.interval", "1h",
		"--web.idle-timeout", idle.String())
	defer c.stop()
	// The baseline is taken once the first (and, at --poll.interval 1h,
	// only) poll has failed: its dial to the missing broker holds an fd
	// while it runs. The HTTP server listens before the first poll starts.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(c.stderr.String(), "poll failed") {
		if time.Now().After(deadline) {
			t.Fatalf("the first poll did not fail within 30 s; stderr:\n%s", c.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := c.fds(t)
	clients := make([]net.Conn, 0, conns)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	readers := make([]*bufio.Reader, 0, conns)
	for range conns {
		cl, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
		_ = cl.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := io.WriteString(cl, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(cl)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.Close {
			t.Fatal("the exporter did not keep the connection alive")
		}
		readers = append(readers, br)
	}
	open := c.fds(t)
	if n := peerClosed(t, clients); n > 0 {
		t.Logf("%d of %d connections already closed by the exporter when the fds were counted", n, conns)
		return false
	}
	start := time.Now()
	// Every idle connection ends with the server's close (EOF), not the
	// client's deadline.
	for i, br := range readers {
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("connection %d: %v, want EOF from the exporter closing it", i, err)
		}
	}
	closedIn := time.Since(start)
	after := c.waitFDs(t, "after the idle timeout", 30*time.Second, func(n int) bool { return n <= base })
	t.Logf("%d idle keep-alive connections closed by the exporter %.1f s after the last request (--web.idle-timeout %s); exporter fds: %d before, %d with the connections open, %d after",
		conns, closedIn.Seconds(), idle, base, open, after)
	if open < base+conns {
		t.Errorf("%d fds with %d connections open, baseline %d", open, conns, base)
	}
	return true
}

// peerClosed counts the connections the exporter has closed: a
// non-blocking peek finds the end of stream (or a reset) waiting. It
// reads nothing.
func peerClosed(t *testing.T, conns []net.Conn) int {
	t.Helper()
	closed := 0
	for _, cl := range conns {
		rc, err := cl.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var perr error
		if err := rc.Control(func(fd uintptr) {
			var b [1]byte
			n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		}); err != nil {
			t.Fatal(err)
		}
		if perr == nil && n == 0 || errors.Is(perr, syscall.ECONNRESET) {
			closed++
		}
	}
	return closed
}

// TestStalledScrapersMemory is a measurement (OFFSETLAG_TEST_STALL_SIZE=S,
// M or L: a bench cluster of that size, M by the README's figure): 15
// clients ask for /metrics, read 100 bytes and stall. With
// --web.write-timeout (OFFSETLAG_TEST_STALL_WRITE_TIMEOUT, default 5s) the
// exporter cuts them off and its RSS comes back; the figures are logged.
func TestStalledScrapersMemory(t *testing.T) {
	sizeName := os.Getenv("OFFSETLAG_TEST_STALL_SIZE")
	if sizeName == "" {
		t.Skip("measurement: set OFFSETLAG_TEST_STALL_SIZE=S|M|L to run it (TestIdle... and internal/httpserver test the limits)")
	}
	size, ok := bench.SizeByName(sizeName)
	if !ok {
		t.Fatalf("size %q: want S, M or L", sizeName)
	}
	wt := 5 * time.Second
	if v := os.Getenv("OFFSETLAG_TEST_STALL_WRITE_TIMEOUT"); v != "" {
		var err error
		if wt, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	cluster, err := bench.NewCluster(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c := startChild(t, "--kafka.brokers", strings.Join(cluster.Addrs(), ","), "--poll.interval", "30s", "--poll.timeout", "30s",
		"--timelag.mode", "interpolate", "--web.write-timeout", wt.String())
	body := waitFor(t, c.base+"/metrics", `offsetlag_up{cluster_name="default"} 1`)
	for range 2 {
		body = testenv.Body(c.base + "/metrics")
	}
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(2 * time.Second) // measurement only: let the scrapes' garbage be collected
	if !c.healthy() {
		t.Fatal("exporter unhealthy")
	}
	base := c.fds(t)
	rssBefore := c.rssMB(t)
	const stalled = 15
	var clients []net.Conn
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	start := time.Now()
	for range stalled {
		cl, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
		if _, err := io.WriteString(cl, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(cl, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	peak := rssBefore
	var closedAfter time.Duration
	wait := min(wt+60*time.Second, 90*time.Second)
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		peak = max(peak, c.rssMB(t))
		if c.fds(t) <= base {
			closedAfter = time.Since(start)
			break
		}
	}
	cut := fmt.Sprintf("cut off %.1f s after their requests", closedAfter.Seconds())
	if closedAfter == 0 {
		cut = fmt.Sprintf("still connected after %s (fds %d, baseline %d)", wait, c.fds(t), base)
		if wt < wait {
			t.Error(cut)
		}
	}
	// Measurement only: Go returns freed memory to the OS lazily (a
	// forced GC every 2 min, then the scavenger), so RSS is sampled 5 s
	// and 150 s after.
	time.Sleep(5 * time.Second)
	rss5 := c.rssMB(t)
	time.Sleep(145 * time.Second)
	rss150 := c.rssMB(t)
	t.Logf("size %s, /metrics %.1f MB, --web.write-timeout %s: %d readers that read 100 bytes and stall %s; exporter RSS %.0f MB before, %.0f MB peak, %.0f MB 5 s later, %.0f MB 150 s later",
		sizeName, float64(len(body))/1e6, wt, stalled, cut, rssBefore, peak, rss5, rss150)
}

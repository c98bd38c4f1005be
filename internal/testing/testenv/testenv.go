// Package testenv holds what the test rigs and many tests share: whether the
// run is CI's (where a missing real component fails the test instead of
// skipping it), the repository root, a free loopback address, and an output
// buffer safe for concurrent writers.
//
// Like every package under internal/testing, it is for tests and rigs only:
// product code never imports it (internal/archtest).
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI (CI=true, as .ci/run sets it):
// there a suite that cannot run its real component fails instead of
// skipping.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops t because something it needs is missing: it skips the
// test, or fails it when InCI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal(msg + " (CI=true: failing instead of skipping)")
	}
	t.Skip(msg)
}

// SkipShort skips t in -short mode, unless InCI (CI runs everything).
func SkipShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() && !InCI() {
		t.Skip(why + ": skipped in -short mode")
	}
}

// LookPath returns the path of the program name, or stops t as Unavailable
// (skip, or fail in CI) with how to install it.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not on PATH (%s)", name, install)
	}
	return p
}

// RepoRoot finds the repository root: the nearest parent of the working
// directory that holds go.mod and scripts/, else the checkout this source
// file belongs to.
func RepoRoot() (string, error) {
	isRoot := func(d string) bool {
		_, err1 := os.Stat(filepath.Join(d, "go.mod"))
		st, err2 := os.Stat(filepath.Join(d, "scripts"))
		return err1 == nil && err2 == nil && st.IsDir()
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isRoot(d) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		// internal/testing/testenv/testenv.go
		if d := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..")); isRoot(d) {
			return d, nil
		}
	}
	return "", errors.New("cannot find the repository root (go.mod and scripts/) above the working directory")
}

// Script returns the path of scripts/<name> in the repository.
func Script(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "scripts", name), nil
}

// FreeAddr returns a 127.0.0.1 address with a port free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// FreePort returns a 127.0.0.1 port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePorts returns n distinct 127.0.0.1 ports that were free a moment ago.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// TailLines returns the last n lines of s.
func TailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TailFile returns the last n lines of the file at path, or the error
// reading it in parentheses.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return TailLines(string(data), n)
}

// LockedBuffer collects output (a logger's, a child process's); safe for
// concurrent use.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count is the number of non-overlapping occurrences of sub so far.
func (l *LockedBuffer) Count(sub string) int {
	return strings.Count(l.String(), sub)
}

// Concurrency counts the goroutines inside a section (a stand-in source's
// Snapshot, say) and the most that were ever inside at once; safe for
// concurrent use.
type Concurrency struct{ inside, peak atomic.Int32 }

// Enter counts one more goroutine inside and returns the func that counts
// it out (defer c.Enter()()).
func (c *Concurrency) Enter() (leave func()) {
	n := c.inside.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { c.inside.Add(-1) }
}

// Inside is how many are inside now.
func (c *Concurrency) Inside() int32 { return c.inside.Load() }

// Peak is the most that were inside at once so far.
func (c *Concurrency) Peak() int32 { return c.peak.Load() }

// WaitFor polls cond every interval until it holds, and fails t when it
// still does not after timeout.
func WaitFor(t testing.TB, what string, timeout, every time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(every)
	}
}

// Body returns the body of a GET of url, or "" when the request fails (a
// server not up yet: callers poll until it holds what they wait for).
func Body(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Go runs each f in a goroutine of its own with a context that stop
// cancels; stop then waits for them all to return. stop may be called more
// than once; t.Cleanup calls it.
func Go(t testing.TB, fs ...func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

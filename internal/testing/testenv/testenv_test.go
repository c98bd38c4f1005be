package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "scripts/lint-tools.sh", "internal/testing/testenv/testenv.go"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("root %s: %v", root, err)
		}
	}
	s, err := Script("moto.sh")
	if err != nil || s != filepath.Join(root, "scripts", "moto.sh") {
		t.Errorf("Script(moto.sh) = %q, %v", s, err)
	}
}

func TestInCI(t *testing.T) {
	t.Setenv("CI", "true")
	if !InCI() {
		t.Error("CI=true: InCI false")
	}
	t.Setenv("CI", "1")
	if InCI() {
		t.Error("CI=1: InCI true (only CI=true counts, as .ci/run sets it)")
	}
}

func TestFreeAddrIsFree(t *testing.T) {
	addr := FreeAddr(t)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreeAddr %s not free: %v", addr, err)
	}
	l.Close()
}

func TestLockedBufferConcurrent(t *testing.T) {
	var b LockedBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("ab\n"))
			}
		})
	}
	wg.Wait()
	if n := b.Count("ab\n"); n != 800 {
		t.Errorf("Count = %d, want 800", n)
	}
}

func TestConcurrency(t *testing.T) {
	var c Concurrency
	leaveA := c.Enter()
	leaveB := c.Enter()
	if c.Inside() != 2 || c.Peak() != 2 {
		t.Fatalf("two inside: inside %d peak %d", c.Inside(), c.Peak())
	}
	leaveA()
	leaveB()
	c.Enter()()
	if c.Inside() != 0 || c.Peak() != 2 {
		t.Fatalf("all left: inside %d peak %d, want 0 and 2", c.Inside(), c.Peak())
	}
	// n goroutines held inside together: the peak is n.
	const n = 8
	var all Concurrency
	var entered, done sync.WaitGroup
	release := make(chan struct{})
	entered.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			defer all.Enter()()
			entered.Done()
			<-release
		}()
	}
	entered.Wait()
	close(release)
	done.Wait()
	if all.Peak() != n || all.Inside() != 0 {
		t.Errorf("peak %d inside %d, want %d and 0", all.Peak(), all.Inside(), n)
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	WaitFor(t, "the third call", time.Minute, time.Millisecond, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times, want 3 (until it held)", n)
	}
	// A cond that never holds fails the test (run in a goroutine of its
	// own: Fatalf ends it with runtime.Goexit).
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitFor(ft, "never", 20*time.Millisecond, time.Millisecond, func() bool { return false })
	}()
	<-done
	if !strings.Contains(ft.fatal, "timed out after 20ms waiting for never") {
		t.Errorf("Fatalf %q", ft.fatal)
	}
}

// fakeT records Fatalf and ends the goroutine, as testing.T does.
type fakeT struct {
	testing.TB
	fatal string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "path "+r.URL.Path)
	}))
	if got := Body(srv.URL + "/x"); got != "path /x" {
		t.Errorf("Body = %q", got)
	}
	srv.Close()
	if got := Body(srv.URL + "/x"); got != "" {
		t.Errorf("Body of a closed server = %q, want empty", got)
	}
}

func TestGo(t *testing.T) {
	var running atomic.Int32
	started := make(chan struct{}, 2)
	loop := func(ctx context.Context) {
		running.Add(1)
		defer running.Add(-1)
		started <- struct{}{}
		<-ctx.Done()
	}
	stop := Go(t, loop, loop)
	<-started
	<-started
	if n := running.Load(); n != 2 {
		t.Fatalf("%d running, want 2", n)
	}
	stop()
	if n := running.Load(); n != 0 {
		t.Errorf("%d still running after stop", n)
	}
	stop() // idempotent
}

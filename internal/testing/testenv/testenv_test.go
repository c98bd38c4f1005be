package testenv

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
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

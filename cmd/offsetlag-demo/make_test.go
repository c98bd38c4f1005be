package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestMakeDemo runs the README's first command, `make demo PORT=<free
// port>`, on a pseudo-terminal as a user would: it must print build
// progress and the status page URL on that port and serve it; then Ctrl-C
// typed on the terminal must stop the demo cleanly and make must exit 0
// with no "make: ***" line. (scripts/demo.sh runs the demo as a foreground
// job of its own, so the terminal's SIGINT reaches the demo, not make, which
// would otherwise re-raise it on itself.)
func TestMakeDemo(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the demo")
	mk := testenv.LookPath(t, "make", "Debian package make")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	master, slave := openPTY(t)
	cmd := exec.Command(mk, "-C", "../..", "demo", fmt.Sprintf("PORT=%d", port))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	sid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-sid, syscall.SIGKILL) })
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	lines := make(chan string, 1024)
	var all strings.Builder
	go func() {
		// Reads end with EIO once every process closed the terminal.
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
		close(lines)
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.After(15 * time.Minute)
	sawProgress := false
	for found := false; !found; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("make demo ended before printing %s:\n%s", url, all.String())
			}
			all.WriteString(l + "\n")
			if strings.HasPrefix(l, "demo: ") {
				sawProgress = true
			}
			if strings.Contains(l, "Status page  "+url) {
				found = true
			}
		case <-deadline:
			t.Fatalf("no status page URL after 15 minutes:\n%s", all.String())
		}
	}
	if !sawProgress {
		t.Errorf("no \"demo: \" progress line before the URL:\n%s", all.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}

	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(60 * time.Second):
		t.Fatalf("make demo still running 60 s after SIGINT:\n%s", all.String())
	}
	drain := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				done = true
			}
			all.WriteString(l + "\n")
		case <-drain:
			done = true
		}
	}
	out := all.String()
	if !strings.Contains(out, "msg=stopped component=demo") {
		t.Errorf("the demo did not log a clean stop:\n%s", out)
	}
	if strings.Contains(out, "make: ***") || strings.Contains(strings.ToLower(out), "level=error") {
		t.Errorf("errors after Ctrl-C:\n%s", out)
	}
	if werr != nil {
		t.Errorf("make demo after Ctrl-C: %v, want exit 0:\n%s", werr, out)
	}
	t.Logf("make demo, Ctrl-C, exit 0:\n%s", out)
}

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

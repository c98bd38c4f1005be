package kafkaadmin

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
)

// TestStableErr: a real connection reset (the peer closes with SO_LINGER
// 0) gives a read error naming the local ephemeral port; stableErr leaves
// that port out and keeps the error for errors.Is.
func TestStableErr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	if err := srv.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	_ = srv.Close() // RST
	_, rerr := c.Read(make([]byte, 1))
	if rerr == nil {
		t.Fatal("read after a reset succeeded")
	}
	local := c.LocalAddr().String()
	if !strings.Contains(rerr.Error(), local) {
		t.Fatalf("read error %q does not name the local address %s", rerr, local)
	}
	got := stableErr(rerr)
	if strings.Contains(got.Error(), local) {
		t.Errorf("stableErr(%q) = %q, still names the local address", rerr, got)
	}
	if !strings.Contains(got.Error(), ln.Addr().String()) {
		t.Errorf("stableErr(%q) = %q, lost the broker address", rerr, got)
	}
	if !errors.Is(got, syscall.ECONNRESET) || !errors.Is(got, rerr) {
		t.Errorf("stableErr(%q) = %q does not unwrap to the original", rerr, got)
	}
	if other := errors.New("x"); stableErr(other) != other || stableErr(nil) != nil {
		t.Error("stableErr changed an error without a network address")
	}
	t.Logf("%q -> %q", rerr, got)
}

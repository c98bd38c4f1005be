package httpserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve runs a server with the limits on a loopback listener and returns
// its address; each connection the server closes is sent on closed.
func serve(t *testing.T, h http.Handler, l Limits) (addr string, closed chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(h, l)
	closed = make(chan net.Conn, 1024)
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed || s == http.StateHijacked {
			closed <- c
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), closed
}

func TestApplyDefaults(t *testing.T) {
	srv := New(http.NotFoundHandler(), Limits{WriteTimeout: 5 * time.Second})
	if srv.ReadTimeout != DefaultReadTimeout || srv.WriteTimeout != 5*time.Second || srv.IdleTimeout != DefaultIdleTimeout ||
		srv.MaxHeaderBytes != DefaultMaxHeaderBytes || srv.ReadHeaderTimeout != DefaultReadHeaderTimeout {
		t.Errorf("server limits %+v", srv)
	}
	if srv := New(http.NotFoundHandler(), Limits{ReadTimeout: 2 * time.Second}); srv.ReadHeaderTimeout != 2*time.Second {
		t.Errorf("ReadHeaderTimeout %s above ReadTimeout 2s", srv.ReadHeaderTimeout)
	}
}

// A client that sends a request for a large response and then reads
// nothing is disconnected once the write timeout passes: its handler ends
// (and frees what it holds) instead of waiting forever.
func TestStalledReaderDisconnected(t *testing.T) {
	const size = 64 << 20 // far beyond the loopback socket buffers
	chunk := []byte(strings.Repeat("offsetlag_consumergroup_lag{group=\"g\"} 1\n", 1024))
	handlerDone := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		var err error
		for n := 0; n < size && err == nil; n += len(chunk) {
			_, err = w.Write(chunk[:min(len(chunk), size-n)])
		}
		handlerDone <- err
	})
	const writeTimeout = time.Second
	addr, closed := serve(t, h, Limits{WriteTimeout: writeTimeout})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Read nothing; wait for the handler to fail its write and the server
	// to close the connection.
	select {
	case err := <-handlerDone:
		if err == nil {
			t.Fatal("the whole response was written to a client that reads nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("handler still writing to a stalled client after 30 s")
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not close the stalled connection")
	}
	t.Logf("stalled reader disconnected %.1f s after its request (write timeout %s)", time.Since(start).Seconds(), writeTimeout)
	// The client sees a truncated response, then the end of the connection.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after the server closed it (%d bytes read)", n)
	}
	if n >= size {
		t.Errorf("read %d bytes, want a truncated response", n)
	}
	t.Logf("client read %d of %d bytes before the end of the connection", n, size)
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// 300 keep-alive connections left idle after one request each are all
// closed by the server after the idle timeout; the fds return to the
// baseline.
func TestIdleConnectionsClosed(t *testing.T) {
	const conns = 300
	addr, closed := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}), Limits{IdleTimeout: time.Second})
	base := openFDs(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	opened := make(chan struct{}, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock(); opened <- struct{}{} }
			c, err := net.Dial("tcp", addr)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				fail(err)
				return
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				fail(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close {
				fail(errors.New("server did not keep the connection alive"))
				return
			}
			opened <- struct{}{}
			// Idle: the next read ends when the server closes.
			if _, err := br.ReadByte(); err != io.EOF {
				fail(fmt.Errorf("idle connection: read %v, want EOF from the server's close", err))
			}
		}()
	}
	for range conns {
		<-opened
	}
	peak := openFDs(t)
	start := time.Now()
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	for i := 0; i < conns; i++ {
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("server closed %d of %d idle connections", i, conns)
		}
	}
	after := openFDs(t)
	t.Logf("%d idle connections closed by the server %.1f s after the last was opened (idle timeout 1s); fds %d before, %d open, %d after",
		conns, time.Since(start).Seconds(), base, peak, after)
	if peak < base+conns {
		t.Errorf("fds while open %d, want at least %d", peak, base+conns)
	}
	if after > base+5 {
		t.Errorf("fds %d after all closed, baseline %d", after, base)
	}
}

// A header above MaxHeaderBytes is refused with 431.
func TestMaxHeaderBytes(t *testing.T) {
	const limit = 4 << 10
	addr, _ := serve(t, http.NotFoundHandler(), Limits{MaxHeaderBytes: limit})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	// Exactly what the server reads before it gives up (net/http allows
	// MaxHeaderBytes + 4096), with no end of header: nothing is left
	// unread, so the server's close is a clean FIN, not a reset that could
	// discard its 431 before the client reads it.
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
	req += strings.Repeat("a", limit+4096-len(req))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}

package cloudwatch_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fault is what the proxy does to one PutMetricData request instead of
// forwarding it.
type fault int

const (
	faultThrottle   fault = iota + 1 // HTTP 400, JSON error code Throttling
	faultInternal                    // HTTP 500 InternalFailure
	faultUnavail                     // HTTP 503 ServiceUnavailable
	faultValidation                  // HTTP 400 InvalidParameterValue (not retryable)
	faultClose                       // close the connection without an answer
)

// awsFaults are the faults answered with an AWS JSON error.
var awsFaults = map[fault]struct {
	status    int
	code, msg string
}{
	faultThrottle:   {http.StatusBadRequest, "Throttling", "Rate exceeded"},
	faultInternal:   {http.StatusInternalServerError, "InternalFailure", "injected"},
	faultUnavail:    {http.StatusServiceUnavailable, "ServiceUnavailable", "injected"},
	faultValidation: {http.StatusBadRequest, "InvalidParameterValue", "injected"},
}

// faultProxy is a reverse proxy in front of moto that counts PutMetricData
// requests and their datums and injects faults into them: a queue of
// one-shot faults, or a "hang" state that holds every PutMetricData until
// the client gives up or the proxy is released.
type faultProxy struct {
	t      *testing.T
	srv    *httptest.Server
	target *url.URL
	rp     *httputil.ReverseProxy

	mu       sync.Mutex
	puts     int            // PutMetricData requests received
	faulted  int            // of which answered with a fault
	datums   int            // datums in forwarded PutMetricData requests
	names    map[string]int // forwarded datums by metric name
	pending  []fault
	hang     bool
	released chan struct{}
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, target: u, rp: httputil.NewSingleHostReverseProxy(u), names: map[string]int{},
		released: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() { p.setHang(false); p.srv.Close() })
	return p
}

func (p *faultProxy) URL() string { return p.srv.URL }

// inject queues faults for the next PutMetricData requests.
func (p *faultProxy) inject(fs ...fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, fs...)
}

// setHang holds (true) or releases (false) PutMetricData requests.
func (p *faultProxy) setHang(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && !p.hang {
		p.released = make(chan struct{})
	}
	if !on && p.hang {
		close(p.released)
	}
	p.hang = on
}

type proxyCounts struct{ puts, faulted, datums int }

func (p *faultProxy) counts() proxyCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return proxyCounts{p.puts, p.faulted, p.datums}
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutMetricData") {
		p.rp.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	p.mu.Lock()
	p.puts++
	var f fault
	if len(p.pending) > 0 {
		f, p.pending = p.pending[0], p.pending[1:]
		p.faulted++
	}
	hang, released := p.hang, p.released
	p.mu.Unlock()

	if f == 0 && hang {
		select {
		case <-released:
		case <-r.Context().Done():
			p.mu.Lock()
			p.faulted++
			p.mu.Unlock()
			return
		}
	}
	if e, ok := awsFaults[f]; ok {
		awsError(w, e.status, e.code, e.msg)
		return
	}
	if f == faultClose {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	n, names := countDatums(p.t, r.Header.Get("Content-Encoding"), body)
	rec := httptest.NewRecorder()
	p.rp.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		p.mu.Lock()
		p.datums += n
		for k, v := range names {
			p.names[k] += v
		}
		p.mu.Unlock()
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// awsError answers in the AWS JSON 1.0 error shape.
func awsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", code+";Sender")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// countDatums decodes a JSON PutMetricData body.
func countDatums(t *testing.T, enc string, body []byte) (int, map[string]int) {
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Errorf("proxy: gzip: %v", err)
			return 0, nil
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Errorf("proxy: gzip: %v", err)
			return 0, nil
		}
	}
	var in struct {
		MetricData []struct{ MetricName string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Errorf("proxy: body: %v", err)
		return 0, nil
	}
	names := map[string]int{}
	for _, d := range in.MetricData {
		names[d.MetricName]++
	}
	return len(in.MetricData), names
}

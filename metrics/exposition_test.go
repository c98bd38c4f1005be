package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// buildInfo is a small extra gatherer, the stand-in for the process
// collectors beside the Collector.
func buildInfo(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "offsetlag_build_info", Help: "Build information.",
		ConstLabels: prometheus.Labels{"version": "test"}})
	g.Set(1)
	reg.MustRegister(g)
	return reg
}

const buildInfoText = "# HELP offsetlag_build_info Build information.\n# TYPE offsetlag_build_info gauge\noffsetlag_build_info{version=\"test\"} 1\n"

// gunzip returns the decompressed gzip stream b.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func scrapeWith(t *testing.T, h http.Handler, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec
}

// TestHandlerGzipAndPlain: a client accepting gzip gets a valid gzip body
// (the reader checks CRC and length) holding the Collector's text and the
// extra families; a client that does not gets the same text plain; both
// with a right Content-Length.
func TestHandlerGzipAndPlain(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *result.Result
	}{{"fixture", fixture()}, {"no result yet", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(static(tc.r), Options{})
			var text bytes.Buffer
			if err := c.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			want := text.String() + buildInfoText
			h := c.Handler(buildInfo(t))

			rec := scrapeWith(t, h, "deflate, gzip;q=0.9")
			if ce := rec.Header().Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", ce)
			}
			if cl := rec.Header().Get("Content-Length"); cl != itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %s, body %d bytes", cl, rec.Body.Len())
			}
			got, err := gunzip(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if string(got) != want {
				t.Fatalf("gzip body:\n%s\nwant:\n%s", got, want)
			}

			for _, ae := range []string{"", "identity", "gzip;q=0"} {
				rec = scrapeWith(t, h, ae)
				if ce := rec.Header().Get("Content-Encoding"); ce != "" {
					t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, ce)
				}
				if rec.Body.String() != want {
					t.Errorf("Accept-Encoding %q: plain body differs (%d vs %d bytes)", ae, rec.Body.Len(), len(want))
				}
				if cl := rec.Header().Get("Content-Length"); cl != itoa(len(want)) {
					t.Errorf("Accept-Encoding %q: Content-Length %s, want %d", ae, cl, len(want))
				}
			}
		})
	}
}

func itoa(n int) string { return string(bytes.TrimSpace(appendValue(nil, float64(n)))) }

// TestHandlerOverHTTP scrapes through a real server with Go's client, which
// asks for gzip and decompresses transparently.
func TestHandlerOverHTTP(t *testing.T) {
	c := NewCollector(static(fixture()), Options{})
	srv := httptest.NewServer(c.Handler(buildInfo(t)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Uncompressed {
		t.Error("the transport did not receive a gzip body")
	}
	var text bytes.Buffer
	_ = c.WriteText(&text)
	if string(body) != text.String()+buildInfoText {
		t.Errorf("body differs from WriteText + extra (%d bytes)", len(body))
	}
}

// TestRenderOncePerResult: concurrent scrapes of one Result share one
// render; a new Result is rendered once more, by OnResult in the background
// or by the first scrape that needs it.
func TestRenderOncePerResult(t *testing.T) {
	var cur atomic.Pointer[result.Result]
	cur.Store(fixture())
	c := NewCollector(cur.Load, Options{})
	h := c.Handler(nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { scrapeWith(t, h, "gzip") })
	}
	wg.Wait()
	if n := c.render.renders.Load(); n != 1 {
		t.Fatalf("%d renders for one Result, want 1", n)
	}

	next := fixture()
	next.Clusters[0].Polls++
	cur.Store(next)
	c.OnResult(next)
	for range 20 {
		wg.Go(func() { scrapeWith(t, h, "") })
	}
	wg.Wait()
	if n := c.render.renders.Load(); n != 2 {
		t.Fatalf("%d renders for two Results, want 2", n)
	}
	if x := c.render.latest.Load(); x.res != next {
		t.Fatal("the cached exposition is not the latest Result's")
	}
}

// TestScrapesWhileResultsChange runs scrapes against a stream of Results
// published through OnResult (run with -race).
func TestScrapesWhileResultsChange(t *testing.T) {
	var cur atomic.Pointer[result.Result]
	cur.Store(fixture())
	c := NewCollector(cur.Load, Options{})
	h := c.Handler(buildInfo(t))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				ae := "gzip"
				if i%2 == 0 {
					ae = ""
				}
				rec := scrapeWith(t, h, ae)
				body := rec.Body.Bytes()
				if ae == "gzip" {
					var err error
					if body, err = gunzip(body); err != nil {
						t.Error(err)
						return
					}
				}
				if !bytes.Contains(body, []byte(`offsetlag_up{cluster_name="beta"} 0`)) {
					t.Error("scrape lacks offsetlag_up")
					return
				}
			}
		})
	}
	for range 30 {
		r := fixture()
		cur.Store(r)
		c.OnResult(r)
	}
	close(done)
	wg.Wait()
	// The last Result is served (rendered by OnResult or on demand).
	if x := c.current(); x.res != cur.Load() {
		t.Fatal("current exposition is not the last Result's")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip", true},
		{"gzip;q=0.5, identity", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"identity", false},
		{"x-gzip", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.header != "" {
			req.Header.Set("Accept-Encoding", tc.header)
		}
		if got := acceptsGzip(req); got != tc.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

// discardResponse is a ResponseWriter that counts and drops the body.
type discardResponse struct {
	h http.Header
	n int64
}

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// BenchmarkScrape is /metrics at size M (500 groups x 2 topics x 100
// partitions = 100,000 committed offsets): "render" is the once-per-Result
// work (walk, text, DEFLATE), "gzip" and "plain" one scrape each once
// rendered. Bytes allocated per gzip scrape are reported against the
// compressed body (alloc/compressed; the bound is 2).
//
//	go test -run '^$' -bench Scrape -benchmem ./metrics/
func BenchmarkScrape(b *testing.B) {
	r := synthetic(500, 2, 100)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		var size, z int64
		for b.Loop() {
			c := NewCollector(static(r), Options{})
			size, z = c.Render()
		}
		b.ReportMetric(float64(size), "text-bytes")
		b.ReportMetric(float64(z), "compressed-bytes")
	})
	for _, ae := range []string{"gzip", ""} {
		name := "gzip"
		if ae == "" {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			c := NewCollector(static(r), Options{})
			_, z := c.Render()
			h := c.Handler(nil)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if ae != "" {
				req.Header.Set("Accept-Encoding", ae)
			}
			h.ServeHTTP(&discardResponse{h: http.Header{}}, req) // warm the pools
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(&discardResponse{h: http.Header{}}, req)
			}
			runtime.ReadMemStats(&after)
			perScrape := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
			b.ReportMetric(perScrape/float64(z), "alloc/compressed")
		})
	}
}

package bench

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// discardResponse is a ResponseWriter that drops the body: the handler's
// own allocations per scrape, without a client's.
type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }

// scrapes measures /metrics once the polls are done: bytes allocated per
// gzip scrape, the time of a gzip scrape over loopback HTTP, the peak RSS
// while 10 clients scrape during one more poll, and the load scenarios of
// a (LoadClients for LoadFor, Stalled readers).
func (p *exporterProbe) scrapes(ctx context.Context, a ProbeArgs, res *ProbeResult) error {
	if !a.Scrapes {
		return nil
	}
	h := p.c.Handler(nil)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(&discardResponse{h: http.Header{}}, req) // warm the pools
	const n = 5
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		h.ServeHTTP(&discardResponse{h: http.Header{}}, req)
	}
	runtime.ReadMemStats(&m1)
	res.ScrapeAllocBytes = int64(m1.TotalAlloc-m0.TotalAlloc) / n

	var times []time.Duration
	for range 3 {
		t0 := time.Now()
		if _, err := p.get(ctx, true, -1); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	res.ScrapeGzip = times[1]

	// 10 clients scrape while one more poll runs and its Result is
	// rendered.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := p.get(ctx, true, -1); err != nil {
					return
				}
			}
		})
	}
	var discard ProbeResult
	err := p.poll(ctx, &discard)
	p.c.Render()
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	res.PeakRSSWithScrape = peakRSS()

	if a.LoadClients > 0 && a.LoadFor > 0 {
		res.LoadRSS, res.LoadScrapes = p.load(ctx, a.LoadClients, a.LoadFor)
	}
	if a.Stalled > 0 {
		res.StalledRSS = p.stalled(ctx, a.Stalled)
	}
	return nil
}

// get scrapes once (gzip as is, or plain) and reads at most limit bytes of
// the body (all when negative).
func (p *exporterProbe) get(ctx context.Context, gzip bool, limit int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, err
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, err
	}
	_, err = io.CopyN(io.Discard, resp.Body, limit)
	return resp, err
}

// scrapeClient keeps the compressed body as it is (no transparent gzip)
// and does not limit connections per host.
var scrapeClient = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1000}}

// baseline returns VmRSS after a GC that returns freed memory to the OS.
func baseline() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rss()
}

// watchRSS samples VmRSS every 100 ms until stop is closed and returns the
// highest value.
func watchRSS(stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		top := rss()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				out <- max(top, rss())
				return
			case <-t.C:
				top = max(top, rss())
			}
		}
	}()
	return out
}

// load has clients scrape (gzip) back to back for d and returns how far
// VmRSS rose above its level before, and the scrapes completed.
func (p *exporterProbe) load(ctx context.Context, clients int, d time.Duration) (int64, int64) {
	before := baseline()
	stop := make(chan struct{})
	top := watchRSS(stop)
	var done atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := p.get(ctx, true, -1); err == nil {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	return <-top - before, done.Load()
}

// stalled opens n plain-text scrapes, reads 1 KB of each and stops reading
// for 3 s; it returns how far VmRSS rose above its level before.
func (p *exporterProbe) stalled(ctx context.Context, n int) int64 {
	before := baseline()
	stop := make(chan struct{})
	top := watchRSS(stop)
	var resps []*http.Response
	for range n {
		resp, err := p.get(ctx, false, 1<<10)
		if err == nil {
			resps = append(resps, resp)
		}
	}
	time.Sleep(3 * time.Second) // the server writes until the sockets fill, then waits
	close(stop)
	grew := <-top - before
	for _, r := range resps {
		r.Body.Close()
	}
	return grew
}

// Package httpserver holds the connection limits every HTTP server of the
// project applies (exporter, demo, worker): read, write and idle timeouts
// and the largest request header. Without them a client that stalls while
// reading a large /metrics keeps its goroutine and its buffers forever,
// and idle keep-alive connections pile up (README "HTTP limits").
package httpserver

import (
	"net/http"
	"time"
)

// Defaults. The write timeout bounds the whole response: it must exceed
// the time a scraper needs to read the largest /metrics (Prometheus gives
// up at its scrape_timeout, 10 s by default and at most the scrape
// interval), so 60 s leaves room for one-minute scrape intervals on a slow
// link. The idle timeout is above the common 15-60 s scrape intervals, so
// a Prometheus keeps its connection between scrapes.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// Limits are one server's connection limits; zero fields take the
// defaults. Each field is also one option of the exporter (web.*): the tags
// give its key, help and range (internal/settings).
type Limits struct {
	ReadTimeout    time.Duration `mapstructure:"read-timeout" range:"1s..1h" help:"time to read a whole request, headers and body, from a client"`
	WriteTimeout   time.Duration `mapstructure:"write-timeout" range:"1s..1h" help:"time to write a whole response: a client that reads slower (or stalls) is disconnected; keep it above the largest scrape_timeout and the time /metrics takes"`
	IdleTimeout    time.Duration `mapstructure:"idle-timeout" range:"1s..1h" help:"keep-alive connections idle this long are closed"`
	MaxHeaderBytes int           `mapstructure:"max-header-bytes" range:"4096..1048576" help:"largest request header accepted (431 beyond)"`
}

// SetDefaults fills zero fields.
func (l *Limits) SetDefaults() {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
}

// Apply sets the limits on srv (after SetDefaults). The header must arrive
// within min(ReadTimeout, 10 s).
func (l Limits) Apply(srv *http.Server) *http.Server {
	l.SetDefaults()
	srv.ReadHeaderTimeout = min(l.ReadTimeout, DefaultReadHeaderTimeout)
	srv.ReadTimeout = l.ReadTimeout
	srv.WriteTimeout = l.WriteTimeout
	srv.IdleTimeout = l.IdleTimeout
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	return srv
}

// New returns a server for h with the limits applied.
func New(h http.Handler, l Limits) *http.Server { return l.Apply(&http.Server{Handler: h}) }

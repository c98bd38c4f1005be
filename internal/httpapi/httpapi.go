// Package httpapi builds the exporter's HTTP handlers: the status page (or
// the toolkit landing page without one), the metrics endpoint, and the
// health and readiness probes. It reads the exporter's latest Result only;
// no handler causes a Kafka request.
package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// Options configure the handlers.
type Options struct {
	// TelemetryPath is where metrics are served ("/metrics").
	TelemetryPath string
	// Version is shown on the landing page.
	Version string
	// StatusPage, when set, serves "/" and everything not routed here
	// (the status page and its JSON API, internal/statuspage) instead of
	// the toolkit landing page.
	StatusPage http.Handler
}

// NewMux returns the exporter's routes; latest is the exporter's latest
// Result ((*exporter.Exporter).Latest), metrics serves the telemetry path.
func NewMux(latest func() *result.Result, metrics http.Handler, opts Options) (*http.ServeMux, error) {
	if opts.TelemetryPath == "" {
		opts.TelemetryPath = "/metrics"
	}
	mux := http.NewServeMux()
	mux.Handle(opts.TelemetryPath, metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	// Ready once every cluster has had a successful poll (a later failed
	// poll keeps it ready: /metrics then says up 0): the published Result
	// says so, with the reason of each cluster still waiting.
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var waiting []string
		for _, c := range latest().Clusters {
			if c.LastSuccess.IsZero() {
				reason := "no poll yet"
				if c.LastError != "" {
					reason = c.LastError
				}
				waiting = append(waiting, c.Name+": "+reason)
			}
		}
		if len(waiting) == 0 {
			fmt.Fprintln(w, "ready")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: no successful poll yet of %s\n", strings.Join(waiting, "; "))
	})
	if opts.StatusPage != nil {
		mux.Handle("/", opts.StatusPage)
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "offsetlag-exporter",
		Description: "Kafka consumer lag, time lag and committed-offset expiry exporter",
		Version:     opts.Version,
		Links: []web.LandingLinks{
			{Address: opts.TelemetryPath, Text: "Metrics", Description: "Prometheus metrics, as of the last poll"},
			{Address: "/healthz", Text: "Health", Description: "200 while the process runs"},
			{Address: "/readyz", Text: "Readiness", Description: "200 once every cluster had a successful poll"},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	mux.Handle("/", landing)
	return mux, nil
}

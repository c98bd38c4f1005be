package main

import (
	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/statuspage"
)

// onResults calls every non-nil f in order with each new Result (the
// exporter has one OnResult; the status page history and the CloudWatch
// publisher both want it). Each f must not block. nil when there is none.
func onResults(fs ...func(*result.Result)) func(*result.Result) {
	var set []func(*result.Result)
	for _, f := range fs {
		if f != nil {
			set = append(set, f)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(r *result.Result) {
		for _, f := range set {
			f(r)
		}
	}
}

// newStatusPage builds the status page; latest is read only when serving.
// With HA replicas (rep not nil) the header names this replica as the owner
// of the groups shown, and the footer links /api/v1/replicas.
func newStatusPage(latest func() *result.Result, telemetryPath, version string, rep *replicas) (*statuspage.Page, error) {
	links := []statuspage.Link{
		{Href: telemetryPath, Text: "Metrics"},
		{Href: "/healthz", Text: "Health"},
		{Href: "/readyz", Text: "Readiness"},
	}
	opts := statuspage.Options{Version: version, Links: links}
	if rep != nil {
		opts.Links = append(opts.Links, statuspage.Link{Href: "/api/v1/replicas", Text: "API: replicas"})
		opts.Replica = rep.describe
	}
	return statuspage.New(latest, opts)
}

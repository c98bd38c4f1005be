package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/statuspage"
)

type fakeLatest struct{ r *result.Result }

func (f fakeLatest) Latest() *result.Result { return f.r }

func serve(t *testing.T, h http.Handler, path string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header().Get("Content-Type"), string(b)
}

func TestRoutes(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ready := fakeLatest{&result.Result{Generated: now, Clusters: []result.ClusterResult{{Name: "prod", Up: true,
		LastPoll: now, LastSuccess: now, Groups: []result.GroupResult{{Name: "billing", State: "Stable", Status: "OK"}}}}}}
	waiting := fakeLatest{&result.Result{Clusters: []result.ClusterResult{{Name: "prod", LastError: "dial tcp: refused"}}}}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "offsetlag_up 1\n") })

	page, err := statuspage.New(ready.Latest, statuspage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	withPage, err := NewMux(ready.Latest, metrics, Options{StatusPage: page})
	if err != nil {
		t.Fatal(err)
	}
	landing, err := NewMux(waiting.Latest, metrics, Options{TelemetryPath: "/m", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		h          http.Handler
		path       string
		code       int
		ctype      string
		bodyPrefix string
		contains   string
	}{
		{"status page at /", withPage, "/", 200, "text/html", "<!doctype html>", `href="/groups/prod/billing"`},
		{"group page", withPage, "/groups/prod/billing", 200, "text/html", "<!doctype html>", "billing"},
		{"api groups", withPage, "/api/v1/groups", 200, "application/json", "{", `"group": "billing"`},
		{"api clusters", withPage, "/api/v1/clusters", 200, "application/json", "{", `"name": "prod"`},
		{"api unknown group", withPage, "/api/v1/groups/prod/nope", 404, "application/json", "{", `"error"`},
		{"unknown page", withPage, "/nope", 404, "text/html", "<!doctype html>", "Not found"},
		{"metrics", withPage, "/metrics", 200, "", "offsetlag_up 1", ""},
		{"healthz", withPage, "/healthz", 200, "text/plain", "ok", ""},
		{"readyz", withPage, "/readyz", 200, "text/plain", "ready", ""},
		{"landing without status page", landing, "/", 200, "text/html", "", "offsetlag-exporter"},
		{"custom telemetry path", landing, "/m", 200, "", "offsetlag_up", ""},
		{"not ready", landing, "/readyz", 503, "text/plain", "not ready", "prod: dial tcp: refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ctype, body := serve(t, tc.h, tc.path)
			if code != tc.code || !strings.HasPrefix(ctype, tc.ctype) || !strings.HasPrefix(body, tc.bodyPrefix) || !strings.Contains(body, tc.contains) {
				t.Fatalf("GET %s: %d %q\n%.300s", tc.path, code, ctype, body)
			}
		})
	}
}

// TestReadyzFlipsOnFirstSuccess: /readyz is 200 exactly when every cluster
// of the published Result has had a successful poll (LastSuccess set), the
// rule the exporter's Ready method had: not before the last cluster's first
// success, and not undone by a later failed poll.
func TestReadyzFlipsOnFirstSuccess(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	never := func(name string) result.ClusterResult { return result.ClusterResult{Name: name} }
	failing := func(name string) result.ClusterResult {
		return result.ClusterResult{Name: name, LastPoll: at, LastError: "dial tcp: refused", PollErrors: 1, Polls: 1}
	}
	good := func(name string) result.ClusterResult {
		return result.ClusterResult{Name: name, Up: true, LastPoll: at, LastSuccess: at, Polls: 1}
	}
	failingSince := func(name string) result.ClusterResult { // succeeded once, failing now
		c := failing(name)
		c.LastSuccess, c.Polls = at.Add(-time.Minute), 2
		return c
	}
	r := &result.Result{}
	mux, err := NewMux(func() *result.Result { return r }, http.NotFoundHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name     string
		clusters []result.ClusterResult
		code     int
		body     string
	}{
		{"before any poll", []result.ClusterResult{never("a"), never("b")}, 503, "not ready: no successful poll yet of a: no poll yet; b: no poll yet\n"},
		{"first polls failed", []result.ClusterResult{failing("a"), never("b")}, 503, "not ready: no successful poll yet of a: dial tcp: refused; b: no poll yet\n"},
		{"one of two up", []result.ClusterResult{good("a"), failing("b")}, 503, "not ready: no successful poll yet of b: dial tcp: refused\n"},
		{"both had a success", []result.ClusterResult{good("a"), good("b")}, 200, "ready\n"},
		{"failing after a success", []result.ClusterResult{failingSince("a"), good("b")}, 200, "ready\n"},
		{"all failing after a success", []result.ClusterResult{failingSince("a"), failingSince("b")}, 200, "ready\n"},
	} {
		r = &result.Result{Generated: at, Clusters: step.clusters}
		if code, _, body := serve(t, mux, "/readyz"); code != step.code || body != step.body {
			t.Errorf("%s: /readyz %d %q, want %d %q", step.name, code, body, step.code, step.body)
		}
	}
}

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
func (f fakeLatest) Ready() bool {
	for _, c := range f.r.Clusters {
		if c.LastSuccess.IsZero() {
			return false
		}
	}
	return true
}

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
	withPage, err := NewMux(ready, metrics, Options{StatusPage: page})
	if err != nil {
		t.Fatal(err)
	}
	landing, err := NewMux(waiting, metrics, Options{TelemetryPath: "/m", Version: "v1"})
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

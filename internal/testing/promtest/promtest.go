package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

const install = "scripts/ci-deps.sh installs it: Debian package prometheus"

// Binary returns the Prometheus server binary, skipping the test (failing
// it with CI=true) without it.
func Binary(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "prometheus", install)
}

// Promtool returns the promtool binary, skipping the test (failing it with
// CI=true) without it.
func Promtool(t testing.TB) string {
	t.Helper()
	return testenv.LookPath(t, "promtool", install)
}

// TestFor is the `for:` duration the rendered rules use instead of the
// shipped ones (5m to 15m): with 1 s evaluations an alert still goes
// through pending before firing, within seconds.
const TestFor = "2s"

// RenderRules copies alertsDir/*.rules.yml (deploy/alerts) into dir with
// every `for:` replaced by TestFor, checks that nothing else differs from the shipped
// files (expressions, labels, annotations), and returns the new paths.
func RenderRules(t *testing.T, alertsDir, dir string) []string {
	t.Helper()
	shipped, _ := filepath.Glob(filepath.Join(alertsDir, "*.rules.yml"))
	if len(shipped) < 2 {
		t.Fatalf("rule files %v", shipped)
	}
	var out []string
	for _, f := range shipped {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		replaced := 0
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == "for" {
						n.Content[i+1].Value = TestFor
						replaced++
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
		rendered, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		// Same rules as shipped, but for the for: durations.
		if a, b := withoutFor(t, raw), withoutFor(t, rendered); !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: rendered rules differ from the shipped ones beyond for:\nshipped %v\nrendered %v", f, a, b)
		}
		dst := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(dst, rendered, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d for: durations set to %s for the test", f, replaced, TestFor)
		out = append(out, dst)
	}
	return out
}

// withoutFor parses a rule file and drops the rules' for: keys.
func withoutFor(t *testing.T, raw []byte) any {
	t.Helper()
	var doc struct {
		Groups []struct {
			Name  string           `yaml:"name"`
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			delete(r, "for")
		}
	}
	return doc
}

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL (http://127.0.0.1:port).
	URL  string
	logs *testenv.LockedBuffer
}

// Logs returns what Prometheus logged (warnings and errors).
func (s *Server) Logs() string { return s.logs.String() }

// Start starts a Prometheus server that scrapes target (job
// "offsetlag") and evaluates ruleFiles, both every second, with its
// storage in a temporary directory, and waits until it is ready.
func Start(t *testing.T, target string, ruleFiles []string) *Server {
	t.Helper()
	return StartTargets(t, []string{target}, ruleFiles)
}

// StartTargets is Start with several targets in the job (HA replicas).
func StartTargets(t *testing.T, targets []string, ruleFiles []string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files": ruleFiles,
		"scrape_configs": []any{map[string]any{
			"job_name":       "offsetlag",
			"static_configs": []any{map[string]any{"targets": targets}},
		}},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	s := &Server{URL: "http://" + addr, logs: &testenv.LockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	setProcAttrs(cmd)
	started, done := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(done)
		// Pdeathsig fires when the starting thread dies: keep it alive as
		// long as the process (never unlocked on purpose).
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 30 s: %v\n%s", err, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The rules must have loaded (a file Prometheus cannot parse stops it).
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"rules"`
		} `json:"groups"`
	}
	s.API(t, "/api/v1/rules", nil, &rules)
	n := 0
	for _, g := range rules.Groups {
		n += len(g.Rules)
	}
	if n == 0 && len(ruleFiles) > 0 {
		t.Fatalf("prometheus loaded no rules from %v\n%s", ruleFiles, s.logs.String())
	}
	return s
}

// API GETs a Prometheus API path and decodes its data field into out.
func (s *Server) API(t *testing.T, path string, params url.Values, out any) {
	t.Helper()
	if err := s.APIErr(path, params, out); err != nil {
		t.Fatal(err)
	}
}

// APIErr is API returning the error.
func (s *Server) APIErr(path string, params url.Values, out any) error {
	u := s.URL + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s: %v: %.300s", path, err, b)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %v: %s", path, params, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

// Sample is one series of an instant query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Point  [2]any            `json:"value"` // [time, "value"]
}

// Value is the sample's value as Prometheus wrote it.
func (s Sample) Value() string { v, _ := s.Point[1].(string); return v }

// Query runs an instant query.
func (s *Server) Query(t *testing.T, expr string) []Sample {
	t.Helper()
	var res struct {
		ResultType string   `json:"resultType"`
		Result     []Sample `json:"result"`
	}
	s.API(t, "/api/v1/query", url.Values{"query": {expr}}, &res)
	return res.Result
}

// QueryRange runs a range query with a one-second step and returns how
// many series and points it found.
func (s *Server) QueryRange(t *testing.T, expr string, from, to time.Time) (series, points int) {
	t.Helper()
	var res struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	s.API(t, "/api/v1/query_range", url.Values{"query": {expr},
		"start": {fmt.Sprint(from.Unix())}, "end": {fmt.Sprint(to.Unix() + 1)}, "step": {"1"}}, &res)
	for _, r := range res.Result {
		points += len(r.Values)
	}
	return len(res.Result), points
}

// alert is one entry of /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

// Event is what the recorder saw of an alert for one group (or one
// cluster for the exporter alerts).
type Event struct {
	Fired, Resolved time.Time // first firing; first absence after firing
	Firing          bool
	Labels          map[string]string // of the last firing
	Value           string
}

// Recorder polls /api/v1/alerts in the background and remembers, per
// alert name and group, when it first fired and when it went away.
type Recorder struct {
	s      *Server
	mu     sync.Mutex
	events map[string]*Event
	last   []alert
	polls  int
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func alertKey(name, group string) string { return name + "/" + group }

// NewRecorder starts polling s's /api/v1/alerts every 250 ms until Close.
func NewRecorder(s *Server) *Recorder {
	r := &Recorder{s: s, events: map[string]*Event{}, wake: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		var res struct {
			Alerts []alert `json:"alerts"`
		}
		if err := r.s.APIErr("/api/v1/alerts", nil, &res); err == nil {
			now := time.Now()
			r.mu.Lock()
			r.last, r.polls = res.Alerts, r.polls+1
			seen := map[string]bool{}
			for _, a := range res.Alerts {
				if a.State != "firing" {
					continue
				}
				k := alertKey(a.Labels["alertname"], a.Labels["group"])
				seen[k] = true
				e := r.events[k]
				if e == nil {
					e = &Event{}
					r.events[k] = e
				}
				if !e.Firing {
					e.Firing, e.Resolved = true, time.Time{}
					if e.Fired.IsZero() {
						e.Fired = now
					}
				}
				e.Labels, e.Value = a.Labels, a.Value
			}
			for k, e := range r.events {
				if e.Firing && !seen[k] {
					e.Firing, e.Resolved = false, now
				}
			}
			close(r.wake)
			r.wake = make(chan struct{})
			r.mu.Unlock()
		}
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
	}
}

// Close stops polling.
func (r *Recorder) Close() {
	close(r.stop)
	<-r.done
}

// WaitFor waits until cond holds for the event of name and group (nil
// when never seen), failing after timeout with the alerts last listed.
func (r *Recorder) WaitFor(t *testing.T, name, group, what string, timeout time.Duration, cond func(e *Event) bool, diag func() string) Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		e := r.events[alertKey(name, group)]
		ok := cond(e)
		var cp Event
		if e != nil {
			cp = *e
		}
		wake, last, polls := r.wake, r.last, r.polls
		r.mu.Unlock()
		if ok {
			t.Logf("%s{group=%q} %s", name, group, what)
			return cp
		}
		select {
		case <-wake:
		case <-deadline:
			var extra string
			if diag != nil {
				extra = diag()
			}
			t.Fatalf("%s{group=%q} not %s within %s (%d polls of /api/v1/alerts); last listed: %+v\n%s",
				name, group, what, timeout, polls, last, extra)
		}
	}
}

// WaitFiring waits until the alert of name for group ("" for alerts
// without a group label) is firing.
func (r *Recorder) WaitFiring(t *testing.T, name, group string, timeout time.Duration, diag func() string) Event {
	t.Helper()
	return r.WaitFor(t, name, group, "firing", timeout, func(e *Event) bool { return e != nil && e.Firing }, diag)
}

// WaitResolved waits until the alert fired and then went away.
func (r *Recorder) WaitResolved(t *testing.T, name, group string, timeout time.Duration, diag func() string) Event {
	t.Helper()
	return r.WaitFor(t, name, group, "resolved", timeout, func(e *Event) bool {
		return e != nil && !e.Fired.IsZero() && !e.Firing
	}, diag)
}

// QueryAt runs an instant query evaluated at a given time.
func (s *Server) QueryAt(t *testing.T, expr string, at time.Time) []Sample {
	t.Helper()
	var res struct {
		Result []Sample `json:"result"`
	}
	s.API(t, "/api/v1/query", url.Values{"query": {expr}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000)}}, &res)
	return res.Result
}

// Dashboard is the part of a Grafana dashboard the tests read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// Panel is a dashboard panel: its queries, and a row's own panels.
type Panel struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []Panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// ParseDashboard decodes a dashboard, failing t on an error.
func ParseDashboard(t testing.TB, raw []byte) Dashboard {
	t.Helper()
	var d Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	return d
}

// LoadDashboard reads and decodes the shipped dashboard,
// deploy/grafana/offsetlag-dashboard.json.
func LoadDashboard(t testing.TB) Dashboard {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "offsetlag-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ParseDashboard(t, raw)
}

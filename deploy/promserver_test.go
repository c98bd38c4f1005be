package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file holds the helpers of the real-Prometheus tests
// (prometheus_test.go, compat_test.go): the exporter binary built once, a
// Prometheus server (Debian package prometheus, the same package that
// brings promtool) started on a free port with a temporary storage
// directory, the shipped alert rules rendered with short `for:` durations,
// and a recorder of /api/v1/alerts.

var (
	exporterOnce sync.Once
	exporterPath string
	exporterErr  error
	exporterDir  string
)

// TestMain removes the directory of the exporter binary built once for
// all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if exporterDir != "" {
		_ = os.RemoveAll(exporterDir)
	}
	os.Exit(code)
}

// exporterBinary builds cmd/offsetlag-exporter once per test process.
func exporterBinary(t *testing.T) string {
	t.Helper()
	exporterOnce.Do(func() {
		exporterDir, exporterErr = os.MkdirTemp("", "offsetlag-deploy-test-")
		if exporterErr != nil {
			return
		}
		exporterPath = filepath.Join(exporterDir, "offsetlag-exporter")
		if b, err := exec.Command("go", "build", "-o", exporterPath, "../cmd/offsetlag-exporter").CombinedOutput(); err != nil {
			exporterErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if exporterErr != nil {
		t.Fatal(exporterErr)
	}
	return exporterPath
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// exporterProc is an offsetlag-exporter process.
type exporterProc struct {
	addr string
	cmd  *exec.Cmd
	logs *lockedBuffer
	once sync.Once
}

// startExporter runs the exporter binary against brokers on a free port
// and waits until /metrics answers. OFFSETLAG_* variables of the test's
// environment are not passed on.
func startExporter(t *testing.T, brokers []string, args ...string) *exporterProc {
	t.Helper()
	bin := exporterBinary(t)
	p := &exporterProc{addr: freeAddr(t), logs: &lockedBuffer{}}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OFFSETLAG_") {
			env = append(env, kv)
		}
	}
	all := append([]string{"--kafka.brokers", strings.Join(brokers, ","), "--web.listen-address", p.addr}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not serving /metrics within 30 s: %v\n%s", err, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *exporterProc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

// metricLines returns the /metrics lines starting with one of prefixes
// (for failure messages).
func (p *exporterProc) metricLines(prefixes ...string) string {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, pre := range prefixes {
			if strings.HasPrefix(l, pre) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// prometheusBinary returns the Prometheus server binary, skipping (failing
// with CI=true) without it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if inCI() {
			t.Fatal("prometheus not on PATH: scripts/ci-deps.sh installs it (Debian package prometheus)")
		}
		t.Skip("prometheus not on PATH (apt-get install prometheus, or run scripts/ci-deps.sh)")
	}
	return p
}

// testFor is the `for:` duration the rendered rules use instead of the
// shipped ones (5m to 15m): with 1 s evaluations an alert still goes
// through pending before firing, within seconds.
const testFor = "2s"

// renderRules copies deploy/alerts/*.rules.yml into dir with every `for:`
// replaced by testFor, checks that nothing else differs from the shipped
// files (expressions, labels, annotations), and returns the new paths.
func renderRules(t *testing.T, dir string) []string {
	t.Helper()
	shipped, _ := filepath.Glob("alerts/*.rules.yml")
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
						n.Content[i+1].Value = testFor
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
		t.Logf("%s: %d for: durations set to %s for the test", f, replaced, testFor)
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

// promServer is a running Prometheus.
type promServer struct {
	url  string
	logs *lockedBuffer
}

// startPrometheus starts a Prometheus server that scrapes target (job
// "offsetlag") and evaluates ruleFiles, both every second, with its
// storage in a temporary directory, and waits until it is ready.
func startPrometheus(t *testing.T, target string, ruleFiles []string) *promServer {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files": ruleFiles,
		"scrape_configs": []any{map[string]any{
			"job_name":       "offsetlag",
			"static_configs": []any{map[string]any{"targets": []string{target}}},
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
	addr := freeAddr(t)
	s := &promServer{url: "http://" + addr, logs: &lockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/-/ready")
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
	// The rules must have loaded: every shipped alert is listed.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"rules"`
		} `json:"groups"`
	}
	s.api(t, "/api/v1/rules", nil, &rules)
	n := 0
	for _, g := range rules.Groups {
		n += len(g.Rules)
	}
	if n == 0 {
		t.Fatalf("prometheus loaded no rules from %v\n%s", ruleFiles, s.logs.String())
	}
	return s
}

// api GETs a Prometheus API path and decodes its data field into out.
func (s *promServer) api(t *testing.T, path string, params url.Values, out any) {
	t.Helper()
	if err := s.apiErr(path, params, out); err != nil {
		t.Fatal(err)
	}
}

func (s *promServer) apiErr(path string, params url.Values, out any) error {
	u := s.url + path
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

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() string { v, _ := s.Value[1].(string); return v }

// query runs an instant query.
func (s *promServer) query(t *testing.T, expr string) []sample {
	t.Helper()
	var res struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	s.api(t, "/api/v1/query", url.Values{"query": {expr}}, &res)
	return res.Result
}

// queryRange runs a range query with a one-second step and returns how
// many series and points it found.
func (s *promServer) queryRange(t *testing.T, expr string, from, to time.Time) (series, points int) {
	t.Helper()
	var res struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	s.api(t, "/api/v1/query_range", url.Values{"query": {expr},
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

// alertEvent is what the recorder saw of an alert for one group (or one
// cluster for the exporter alerts).
type alertEvent struct {
	fired, resolved time.Time // first firing; first absence after firing
	firing          bool
	labels          map[string]string
	value           string
}

// alertRecorder polls /api/v1/alerts in the background and remembers, per
// alert name and group, when it first fired and when it went away.
type alertRecorder struct {
	s      *promServer
	mu     sync.Mutex
	events map[string]*alertEvent
	last   []alert
	polls  int
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func alertKey(name, group string) string { return name + "/" + group }

func newAlertRecorder(s *promServer) *alertRecorder {
	r := &alertRecorder{s: s, events: map[string]*alertEvent{}, wake: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *alertRecorder) run() {
	defer close(r.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		var res struct {
			Alerts []alert `json:"alerts"`
		}
		if err := r.s.apiErr("/api/v1/alerts", nil, &res); err == nil {
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
					e = &alertEvent{}
					r.events[k] = e
				}
				if !e.firing {
					e.firing, e.resolved = true, time.Time{}
					if e.fired.IsZero() {
						e.fired = now
					}
				}
				e.labels, e.value = a.Labels, a.Value
			}
			for k, e := range r.events {
				if e.firing && !seen[k] {
					e.firing, e.resolved = false, now
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

func (r *alertRecorder) close() {
	close(r.stop)
	<-r.done
}

// waitFor waits until cond holds for the event of name and group (nil
// when never seen), failing after timeout with the alerts last listed.
func (r *alertRecorder) waitFor(t *testing.T, name, group, what string, timeout time.Duration, cond func(e *alertEvent) bool, diag func() string) alertEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		e := r.events[alertKey(name, group)]
		ok := cond(e)
		var cp alertEvent
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

func (r *alertRecorder) waitFiring(t *testing.T, name, group string, timeout time.Duration, diag func() string) alertEvent {
	t.Helper()
	return r.waitFor(t, name, group, "firing", timeout, func(e *alertEvent) bool { return e != nil && e.firing }, diag)
}

// waitResolved waits until the alert fired and then went away.
func (r *alertRecorder) waitResolved(t *testing.T, name, group string, timeout time.Duration, diag func() string) alertEvent {
	t.Helper()
	return r.waitFor(t, name, group, "resolved", timeout, func(e *alertEvent) bool {
		return e != nil && !e.fired.IsZero() && !e.firing
	}, diag)
}

// Package deploy_test keeps the deployment files honest: the Dockerfile's
// build lines build (scripts/dockerfile-check.sh), every YAML and JSON file
// parses and names only metrics the exporter has, the alert rules pass
// `promtool check rules` and their `promtool test rules` unit tests, and
// the exporter's real /metrics output passes `promtool check metrics`.
//
// promtool comes from Debian's prometheus package (scripts/ci-deps.sh):
// `go run github.com/prometheus/prometheus/cmd/promtool@v0.316.0` did not
// finish compiling within 9 minutes on 2 cores. Without promtool the
// promtool tests skip, except with CI=true, where they fail.
package deploy_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/promtest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/internal/testing/testpki"
	"github.com/offsetlag/offsetlag/metrics"
)

// knownMetrics are the offsetlag_* families the exporter can emit.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"offsetlag_build_info": true}
	ch := make(chan *prometheus.Desc, 512)
	metrics.NewCollector(nil, metrics.Options{}).Describe(ch)
	metrics.NewHACollector(nil).Describe(ch)
	close(ch)
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			known[m[1]] = true
		}
	}
	if len(known) < 20 {
		t.Fatalf("only %d metric families described", len(known))
	}
	return known
}

// metricName matches offsetlag_* names; file names (offsetlag_test.yml) are skipped.
var metricName = regexp.MustCompile(`\boffsetlag_[a-z_]+\b(\.ya?ml)?`)

// checkNames fails for every offsetlag_* name in text the exporter lacks.
func checkNames(t *testing.T, file, text string, known map[string]bool) int {
	t.Helper()
	var used []string
	for _, m := range metricName.FindAllString(text, -1) {
		if !strings.HasSuffix(m, ".yml") && !strings.HasSuffix(m, ".yaml") {
			used = append(used, m)
		}
	}
	for _, m := range used {
		if !known[m] {
			t.Errorf("%s: unknown metric %s", file, m)
		}
	}
	return len(used)
}

func deployFiles(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Helm templates are not YAML until rendered: helm_test.go renders them.
		if d.IsDir() && d.Name() == "templates" && strings.HasPrefix(path, "helm/") {
			return filepath.SkipDir
		}
		for _, e := range exts {
			if !d.IsDir() && strings.HasSuffix(path, e) {
				out = append(out, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestManifests parses every YAML and JSON file under deploy/ and checks
// what each kind of file must hold.
func TestManifests(t *testing.T) {
	known := knownMetrics(t)
	yamls := deployFiles(t, ".yml", ".yaml")
	jsons := deployFiles(t, ".json")
	if len(yamls) < 4 || len(jsons) < 2 {
		t.Fatalf("deploy/ holds %d YAML and %d JSON files", len(yamls), len(jsons))
	}
	for _, f := range yamls {
		t.Run(f, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			docs := 0
			for {
				var doc map[string]any
				err := dec.Decode(&doc)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("document %d: %v", docs+1, err)
				}
				docs++
				if strings.HasPrefix(f, "kubernetes/") {
					checkKubernetes(t, doc)
				}
			}
			if docs == 0 {
				t.Fatal("no YAML document")
			}
			checkNames(t, f, string(raw), known)
		})
	}
	for _, f := range jsons {
		t.Run(f, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(f, "grafana/"):
				checkDashboard(t, f, raw, known)
			case strings.HasPrefix(f, "ecs/"):
				checkECS(t, raw)
			}
		})
	}
}

func checkKubernetes(t *testing.T, doc map[string]any) {
	t.Helper()
	kind, _ := doc["kind"].(string)
	md, _ := doc["metadata"].(map[string]any)
	if doc["apiVersion"] == nil || kind == "" || md == nil || md["name"] == nil {
		t.Fatalf("not a Kubernetes object: %v", doc)
	}
	if kind != "Deployment" {
		return
	}
	var spec struct {
		Spec struct {
			Template struct {
				Spec struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []struct {
						Name  string   `yaml:"name"`
						Image string   `yaml:"image"`
						Args  []string `yaml:"args"`
						Ports []struct {
							ContainerPort int `yaml:"containerPort"`
						} `yaml:"ports"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	b, _ := yaml.Marshal(doc)
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	ps := spec.Spec.Template.Spec
	if !ps.SecurityContext.RunAsNonRoot {
		t.Errorf("%v: pod does not run as non-root", md["name"])
	}
	found := false
	for _, c := range ps.Containers {
		if c.Name == "offsetlag" {
			found = true
			if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9745 {
				t.Errorf("offsetlag container ports %+v, want 9745", c.Ports)
			}
		}
	}
	if !found {
		t.Errorf("%v: no container named offsetlag", md["name"])
	}
}

func checkDashboard(t *testing.T, f string, raw []byte, known map[string]bool) {
	t.Helper()
	d := promtest.ParseDashboard(t, raw)
	if d.UID == "" {
		t.Error("dashboard has no uid")
	}
	exprs := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if n := checkNames(t, f, tg.Expr, known); n == 0 && !strings.Contains(tg.Expr, "up{") {
				t.Errorf("panel %q: query %q uses no offsetlag metric", p.Title, tg.Expr)
			}
			exprs++
		}
	}
	// The list: lag, time lag, status, expiry countdown, health.
	for _, m := range []string{"offsetlag_consumergroup_sum_lag", "offsetlag_consumergroup_max_lag_seconds",
		"offsetlag_consumergroup_status", "offsetlag_consumergroup_offsets_expiry_seconds", "offsetlag_up"} {
		if !strings.Contains(string(raw), m) {
			t.Errorf("dashboard does not show %s", m)
		}
	}
	t.Logf("%d panels, %d queries", len(d.Panels), exprs)
}

func checkECS(t *testing.T, raw []byte) {
	t.Helper()
	var td struct {
		Family     string `json:"family"`
		Containers []struct {
			Name         string `json:"name"`
			Essential    bool   `json:"essential"`
			User         string `json:"user"`
			PortMappings []struct {
				ContainerPort int `json:"containerPort"`
			} `json:"portMappings"`
		} `json:"containerDefinitions"`
	}
	if err := json.Unmarshal(raw, &td); err != nil {
		t.Fatal(err)
	}
	var exporter, consumer bool
	for _, c := range td.Containers {
		if c.Name == "offsetlag" {
			exporter = true
			if c.Essential {
				t.Error("the exporter sidecar is essential: its failure would stop the consumer")
			}
			if len(c.PortMappings) != 1 || c.PortMappings[0].ContainerPort != 9745 {
				t.Errorf("exporter ports %+v", c.PortMappings)
			}
		} else if c.Essential {
			consumer = true
		}
	}
	if td.Family == "" || !exporter || !consumer {
		t.Errorf("task definition %q: exporter sidecar %v, essential consumer %v", td.Family, exporter, consumer)
	}
}

// TestWebConfigExample validates deploy/web-config.example.yml with the
// exporter-toolkit (pointing it at generated certificates) and checks its
// bcrypt hash is the documented password's.
func TestWebConfigExample(t *testing.T) {
	raw, err := os.ReadFile("web-config.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(c.Users["prometheus"]), []byte("change-me")); err != nil {
		t.Errorf("the example hash is not bcrypt(\"change-me\"): %v", err)
	}
	dir := t.TempDir()
	pki, err := testpki.Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("/etc/offsetlag/tls/tls.crt", pki.CertFile, "/etc/offsetlag/tls/tls.key", pki.KeyFile).Replace(string(raw))
	f := filepath.Join(dir, "web-config.yml")
	if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := web.Validate(f); err != nil {
		t.Fatalf("exporter-toolkit rejects the example: %v", err)
	}
}

// TestAlertRules runs promtool check rules on every rule file and promtool
// test rules on every unit-test file of deploy/alerts.
func TestAlertRules(t *testing.T) {
	known := knownMetrics(t)
	rules, _ := filepath.Glob("alerts/*.rules.yml")
	tests, _ := filepath.Glob("alerts/*_test.yml")
	if len(rules) < 2 || len(tests) < 2 {
		t.Fatalf("rules %v, tests %v", rules, tests)
	}
	for _, f := range rules {
		raw, _ := os.ReadFile(f)
		checkNames(t, f, string(raw), known)
	}
	pt := promtest.Promtool(t)
	for _, args := range [][]string{append([]string{"check", "rules"}, base(rules)...), append([]string{"test", "rules"}, base(tests)...)} {
		cmd := exec.Command(pt, args...)
		cmd.Dir = "alerts"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), bytes.TrimSpace(out))
	}
}

func base(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// TestDockerfile runs the Dockerfile's build lines on the host and checks
// the result: every command except the bench is in the image, binaries are
// static (CGO off), the version comes from the build argument, and the
// final stage runs as nonroot and exposes 9745.
func TestDockerfile(t *testing.T) {
	testenv.SkipShort(t, "builds every binary")
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	final := df[strings.LastIndex(df, "\nFROM "):]
	for _, want := range []string{"FROM gcr.io/distroless/static-debian12:nonroot", "USER nonroot", "EXPOSE 9745",
		`ENTRYPOINT ["/usr/local/bin/offsetlag-exporter"]`} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage lacks %q", want)
		}
	}
	if !strings.Contains(df, "CGO_ENABLED=0") || !strings.Contains(df, "-trimpath") {
		t.Error("build stage without CGO_ENABLED=0 or -trimpath")
	}
	cmds, _ := filepath.Glob("../cmd/*/main.go")
	var want []string
	for _, m := range cmds {
		name := filepath.Base(filepath.Dir(m))
		if name == "offsetlag-bench" { // a measuring tool, not shipped
			continue
		}
		want = append(want, name)
		if !strings.Contains(df, "-o /out/"+name+" ./cmd/"+name) {
			t.Errorf("Dockerfile does not build cmd/%s", name)
		}
	}

	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../scripts/dockerfile-check.sh")
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION=deploy-test-1.2.3", "REVISION=abc1234")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/dockerfile-check.sh: %v\n%s", err, b)
	}
	for _, name := range want {
		bin := filepath.Join(out, name)
		f, err := elf.Open(bin)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked (CGO on?)", name)
			}
		}
		f.Close()
	}
	v, err := exec.Command(filepath.Join(out, "offsetlag-exporter"), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(v), "version deploy-test-1.2.3") || !strings.Contains(string(v), "revision: abc1234") {
		t.Errorf("offsetlag-exporter --version: %v\n%s", err, v)
	}
}

// TestPromtoolCheckMetrics runs the exporter against an in-process cluster
// with a lagging group and feeds its real /metrics to promtool check
// metrics.
func TestPromtoolCheckMetrics(t *testing.T) {
	pt := promtest.Promtool(t)
	cluster := kfaketest.New(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := cluster.Client
	var rs []*kgo.Record
	for p := int32(0); p < 2; p++ {
		for i := 0; i < 10; i++ {
			rs = append(rs, &kgo.Record{Topic: "orders", Partition: p, Value: []byte("x")})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 4, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "orders", Partition: 1, At: 10, LeaderEpoch: -1})
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, "billing", offs); err != nil {
		t.Fatal(err)
	}

	exp := startExporter(t, cluster.ListenAddrs(), "--poll.interval", "300ms")
	addr := exp.addr

	var body []byte
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			// Several polls: the status and rate families need a window.
			if bytes.Contains(body, []byte(`offsetlag_consumergroup_lag{cluster_name="default",group="billing",topic="orders",partition="0"} 6`)) &&
				bytes.Contains(body, []byte("offsetlag_consumergroup_status{")) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lag series in /metrics within 20 s (err %v); log:\n%s\nbody:\n%.2000s", err, exp.logs.String(), body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	check := exec.Command(pt, "check", "metrics")
	check.Stdin = bytes.NewReader(body)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	families := bytes.Count(body, []byte("# TYPE "))
	t.Logf("promtool check metrics: %d families, %d bytes: OK %s", families, len(body), bytes.TrimSpace(out))
	if families < 20 {
		t.Errorf("only %d families in /metrics", families)
	}
}

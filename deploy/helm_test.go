package deploy_test

// The Helm chart deploy/helm/offsetlag is rendered with Helm's own engine
// (helm.sh/helm/v3, pinned in go.mod: the same code as `helm template`) for
// the default values and values-full.yaml, and every object is decoded
// strictly (unknown or duplicate fields are errors) into the Kubernetes
// (k8s.io/api) and Prometheus Operator (monitoring.coreos.com/v1) Go types.
// The rendered PrometheusRule must hold exactly the rule groups of
// deploy/alerts, and the rendered exporter.yaml, args and environment must
// load in the exporter's own configuration loader.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/offsetlag/offsetlag/internal/appconfig"
)

var syncHelmRules = flag.Bool("sync-helm-rules", false, "copy deploy/alerts/*.rules.yml into the Helm chart's rules/")

const chartDir = "helm/offsetlag"

// TestHelmRulesInSync: the chart's rules/ are byte-for-byte the shipped
// rule files (Helm reads files only from inside the chart). Run with
// -sync-helm-rules after editing deploy/alerts.
func TestHelmRulesInSync(t *testing.T) {
	shipped, err := filepath.Glob("alerts/*.rules.yml")
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no alerts/*.rules.yml: %v", err)
	}
	copies, _ := filepath.Glob(chartDir + "/rules/*")
	want := map[string]bool{}
	for _, src := range shipped {
		base := filepath.Base(src)
		want[base] = true
		dst := filepath.Join(chartDir, "rules", base)
		a, _ := os.ReadFile(src)
		if *syncHelmRules {
			if err := os.WriteFile(dst, a, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s (or is missing): go test ./deploy -run TestHelmRulesInSync -sync-helm-rules", dst, src)
		}
	}
	for _, c := range copies {
		if !want[filepath.Base(c)] {
			if *syncHelmRules {
				_ = os.Remove(c)
				continue
			}
			t.Errorf("%s has no counterpart in alerts/", c)
		}
	}
	// values.yaml must list every rule file by default.
	vals, err := chartutil.ReadValuesFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := vals.PathValue("prometheusRule.files")
	var listed []string
	for _, f := range files.([]any) {
		listed = append(listed, f.(string))
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(listed)
	sort.Strings(names)
	if !reflect.DeepEqual(listed, names) {
		t.Errorf("values.yaml prometheusRule.files = %v, shipped rule files %v", listed, names)
	}
}

// renderChart renders the chart like `helm template rel deploy/helm/offsetlag
// -n monitoring [-f valuesFile]` and returns template name -> manifest.
func renderChart(t *testing.T, valuesFile string) map[string]string {
	t.Helper()
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	vals := chartutil.Values{}
	if valuesFile != "" {
		if vals, err = chartutil.ReadValuesFile(valuesFile); err != nil {
			t.Fatalf("%s: %v", valuesFile, err)
		}
	}
	opts := chartutil.ReleaseOptions{Name: "rel", Namespace: "monitoring", Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValues(ch, vals, opts, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	out, err := engine.Engine{Strict: true}.Render(ch, top)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return out
}

// strictDecode decodes one YAML object into v as the API server's strict
// field validation does: field names match case-sensitively, and duplicate
// keys and fields the Go type lacks are errors.
func strictDecode(doc string, v any) error {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// rendered holds the decoded objects of one rendering.
type rendered struct {
	kinds       []string
	configMap   *corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	deployment  *appsv1.Deployment
	service     *corev1.Service
	pvc         *corev1.PersistentVolumeClaim
	monitor     *monitoringv1.ServiceMonitor
	rule        *monitoringv1.PrometheusRule
	serviceAcct *corev1.ServiceAccount
}

func decodeAll(t *testing.T, out map[string]string) rendered {
	t.Helper()
	r := rendered{secrets: map[string]*corev1.Secret{}}
	var names []string
	for name := range out {
		names = append(names, name)
	}
	// The objects the chart may render, by apiVersion/kind: each decodes
	// into a new value, kept in its field of r.
	kinds := map[string]func() any{
		"v1/ConfigMap":             into(&r.configMap),
		"v1/Secret":                func() any { return &corev1.Secret{} },
		"v1/Service":               into(&r.service),
		"v1/ServiceAccount":        into(&r.serviceAcct),
		"v1/PersistentVolumeClaim": into(&r.pvc),
		"apps/v1/Deployment":       into(&r.deployment),
		"monitoring.coreos.com/v1/ServiceMonitor": into(&r.monitor),
		"monitoring.coreos.com/v1/PrometheusRule": into(&r.rule),
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(out[name], "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			newObj, ok := kinds[meta.APIVersion+"/"+meta.Kind]
			if !ok {
				t.Fatalf("%s: unexpected object %s %s", name, meta.APIVersion, meta.Kind)
			}
			obj := newObj()
			if err := strictDecode(doc, obj); err != nil {
				t.Fatalf("%s: %s %s does not decode strictly: %v\n%s", name, meta.APIVersion, meta.Kind, err, doc)
			}
			if s, ok := obj.(*corev1.Secret); ok {
				r.secrets[s.Name] = s
			}
			r.kinds = append(r.kinds, meta.Kind)
		}
	}
	return r
}

// into returns a func that sets *dst to a new T and returns it.
func into[T any](dst **T) func() any {
	return func() any { *dst = new(T); return *dst }
}

// shippedRuleGroups parses deploy/alerts/<file> strictly into rule groups.
func shippedRuleGroups(t *testing.T, files []string) []monitoringv1.RuleGroup {
	t.Helper()
	var all []monitoringv1.RuleGroup
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join("alerts", f))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := strictDecode(string(raw), &doc); err != nil {
			t.Fatalf("alerts/%s as monitoring.coreos.com/v1 rule groups: %v", f, err)
		}
		all = append(all, doc.Groups...)
	}
	return all
}

// TestHelmStrictDecodeCatchesTypos: a misspelt field in values reaches the
// manifest and must fail the strict decode (the check above can fail).
func TestHelmStrictDecodeCatchesTypos(t *testing.T) {
	f := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(f, []byte("securityContext: {readOnlyRootFileSystem: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := renderChart(t, f)
	doc := out["offsetlag/templates/deployment.yaml"]
	err := strictDecode(doc, &appsv1.Deployment{})
	if err == nil || !strings.Contains(err.Error(), "readOnlyRootFileSystem") {
		t.Fatalf("strict decode of a Deployment with a misspelt field: err = %v", err)
	}
}

func TestHelmChartRendersStrictly(t *testing.T) {
	files := []string{"offsetlag.rules.yml", "expiry.rules.yml", "lambda-esm.rules.yml", "ha.rules.yml"}
	for _, tc := range []struct {
		name, values string
		wantKinds    []string
	}{
		{"default", "", []string{"ConfigMap", "Deployment", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}},
		{"full", filepath.Join(chartDir, "values-full.yaml"), []string{"ConfigMap", "Deployment", "PersistentVolumeClaim", "PrometheusRule", "Secret", "Secret", "Service", "ServiceAccount", "ServiceMonitor"}},
		{"ha", filepath.Join(chartDir, "values-ha.yaml"), []string{"ConfigMap", "Deployment", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := renderChart(t, tc.values)
			r := decodeAll(t, out)
			kinds := append([]string(nil), r.kinds...)
			sort.Strings(kinds)
			if !reflect.DeepEqual(kinds, tc.wantKinds) {
				t.Fatalf("objects %v, want %v", kinds, tc.wantKinds)
			}
			t.Logf("%d objects decoded strictly: %v", len(kinds), kinds)

			d := r.deployment
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers", len(pod.Containers))
			}
			c := pod.Containers[0]
			if ps := pod.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
				t.Errorf("pod securityContext is not non-root: %+v", ps)
			}
			if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("container securityContext: %+v", sc)
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("liveness probe: %+v", c.LivenessProbe)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("readiness probe: %+v", c.ReadinessProbe)
			}
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources: %+v", c.Resources)
			}
			if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9745 {
				t.Errorf("ports: %+v", c.Ports)
			}
			// The Service selects the pods; the ServiceMonitor selects the Service.
			for k, v := range r.service.Spec.Selector {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("Service selector %s=%s does not match the pod labels %v", k, v, d.Spec.Template.Labels)
				}
			}
			for k, v := range r.monitor.Spec.Selector.MatchLabels {
				if r.service.Labels[k] != v {
					t.Errorf("ServiceMonitor selector %s=%s does not match the Service labels %v", k, v, r.service.Labels)
				}
			}
			if len(r.monitor.Spec.Endpoints) != 1 || r.monitor.Spec.Endpoints[0].Port != "http-metrics" {
				t.Errorf("ServiceMonitor endpoints: %+v", r.monitor.Spec.Endpoints)
			}
			// Every volume mounted exists, every secret referenced is rendered or named in values.
			vols := map[string]bool{}
			for _, v := range pod.Volumes {
				vols[v.Name] = true
			}
			for _, m := range c.VolumeMounts {
				if !vols[m.Name] {
					t.Errorf("volume mount %s has no volume", m.Name)
				}
			}

			// PrometheusRule == the shipped rule files, group by group.
			want := shippedRuleGroups(t, files)
			if !reflect.DeepEqual(r.rule.Spec.Groups, want) {
				got, _ := json.MarshalIndent(r.rule.Spec.Groups, "", " ")
				exp, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("PrometheusRule groups differ from deploy/alerts:\n got %s\nwant %s", got, exp)
			}
			rules := 0
			for _, g := range r.rule.Spec.Groups {
				rules += len(g.Rules)
			}
			t.Logf("PrometheusRule: %d groups, %d rules, equal to deploy/alerts", len(r.rule.Spec.Groups), rules)

			// The rendered configuration loads in the exporter's loader with
			// the container's args and environment (secrets as placeholders).
			dir := t.TempDir()
			cfgFile := filepath.Join(dir, "exporter.yaml")
			if err := os.WriteFile(cfgFile, []byte(r.configMap.Data["exporter.yaml"]), 0o600); err != nil {
				t.Fatal(err)
			}
			var args []string
			for _, a := range c.Args {
				args = append(args, strings.Replace(a, "--config=/etc/offsetlag/exporter.yaml", "--config="+cfgFile, 1))
			}
			var env []string
			for _, e := range c.Env {
				v := e.Value
				if e.ValueFrom != nil {
					ref := e.ValueFrom.SecretKeyRef
					if ref == nil {
						t.Fatalf("env %s: only secretKeyRef expected", e.Name)
					}
					if s, ok := r.secrets[ref.Name]; ok {
						if _, ok := s.Data[ref.Key]; !ok {
							t.Errorf("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
						}
					}
					v = "placeholder"
				}
				env = append(env, e.Name+"="+v)
			}
			fs := appconfig.Flags("offsetlag-exporter")
			if err := fs.Parse(args); err != nil {
				t.Fatalf("args %v: %v", args, err)
			}
			cfg, err := appconfig.Load(fs, env)
			if err != nil {
				t.Fatalf("the exporter rejects the rendered configuration (args %v, env %v): %v", args, env, err)
			}
			if tc.name == "ha" {
				// HA mode: N replicas, no volume, state in Kafka.
				if !cfg.HA.Enabled || cfg.State.Dir != "" || cfg.HA.Group != "offsetlag-replicas" || cfg.HA.Partitions != 64 {
					t.Errorf("ha mode: ha %+v, state dir %q", cfg.HA, cfg.State.Dir)
				}
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
					t.Errorf("ha mode: replicas %v, strategy %+v", d.Spec.Replicas, d.Spec.Strategy)
				}
				for _, v := range pod.Volumes {
					if v.PersistentVolumeClaim != nil || v.EmptyDir != nil {
						t.Errorf("ha mode: state volume %+v", v)
					}
				}
			} else if cfg.State.Dir != "/var/lib/offsetlag" {
				t.Errorf("state dir %q", cfg.State.Dir)
			}
			if tc.name == "full" {
				if !cfg.Kafka.TLS.Enable || cfg.Kafka.TLS.CAFile == "" || cfg.Kafka.SASL.Password != "placeholder" {
					t.Errorf("TLS/SASL from secrets not applied: tls %+v", cfg.Kafka.TLS)
				}
				if len(cfg.Clusters) != 1 {
					t.Errorf("clusters %+v", cfg.Clusters)
				}
				web := r.secrets["lag-exporter-web-config"]
				if web == nil || !strings.Contains(string(web.Data["web-config.yml"]), "tls_server_config") {
					t.Errorf("web-config Secret: %+v", web)
				}
				if c.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
					t.Errorf("probe scheme %s with TLS", c.LivenessProbe.HTTPGet.Scheme)
				}
			}
		})
	}
}

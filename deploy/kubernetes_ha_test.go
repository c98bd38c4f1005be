package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/offsetlag/offsetlag/internal/appconfig"
)

// TestKubernetesHAManifest decodes deploy/kubernetes/ha.yaml strictly into
// the Kubernetes types and loads its configuration with the Deployment's
// args in the exporter's loader: HA on, several replicas rolled one at a
// time, no state volume.
func TestKubernetesHAManifest(t *testing.T) {
	raw, err := os.ReadFile("kubernetes/ha.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := decodeAll(t, map[string]string{"ha.yaml": string(raw)})
	d := r.deployment
	if d == nil || r.configMap == nil || r.service == nil || r.monitor == nil {
		t.Fatalf("objects %v", r.kinds)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("replicas %v, strategy %+v: want several, rolled one at a time", d.Spec.Replicas, d.Spec.Strategy)
	}
	pod := d.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil || v.EmptyDir != nil {
			t.Errorf("state volume %s in HA mode", v.Name)
		}
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "exporter.yaml")
	if err := os.WriteFile(cfgFile, []byte(r.configMap.Data["exporter.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	c := pod.Containers[0]
	var args []string
	for _, a := range c.Args {
		args = append(args, strings.Replace(a, "/etc/offsetlag/exporter.yaml", cfgFile, 1))
	}
	fs := appconfig.Flags("offsetlag-exporter")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := appconfig.Load(fs, []string{"OFFSETLAG_KAFKA_SASL_PASSWORD=placeholder"})
	if err != nil {
		t.Fatalf("the exporter rejects the manifest's configuration: %v", err)
	}
	if !cfg.HA.Enabled || cfg.State.Dir != "" || cfg.HA.Group == "" || cfg.HA.Topic == "" {
		t.Errorf("ha %+v, state dir %q", cfg.HA, cfg.State.Dir)
	}
}

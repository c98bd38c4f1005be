package promtest

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestRenderRules renders the shipped rules: same files, same rules, every
// for: now TestFor, and a rule without for: keeps none.
func TestRenderRules(t *testing.T) {
	out := RenderRules(t, "../../../deploy/alerts", t.TempDir())
	shipped, _ := filepath.Glob("../../../deploy/alerts/*.rules.yml")
	if len(out) != len(shipped) {
		t.Fatalf("rendered %d files from %d", len(out), len(shipped))
	}
	type rules struct {
		Groups []struct {
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	load := func(f string) rules {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r rules
		if err := yaml.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	withFor := 0
	for i := range out {
		a, b := load(shipped[i]), load(out[i])
		for gi := range a.Groups {
			for ri, r := range a.Groups[gi].Rules {
				got := b.Groups[gi].Rules[ri]
				if got["expr"] != r["expr"] || got["alert"] != r["alert"] {
					t.Errorf("%s: rule %v became %v", shipped[i], r["alert"], got["alert"])
				}
				_, had := r["for"]
				if f, has := got["for"]; has != had || (has && f != TestFor) {
					t.Errorf("%s %v: for %v -> %v", shipped[i], r["alert"], r["for"], got["for"])
				}
				if had {
					withFor++
				}
			}
		}
	}
	if withFor < 5 {
		t.Errorf("only %d rules with for:", withFor)
	}
}

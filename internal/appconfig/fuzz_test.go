package appconfig

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig feeds arbitrary bytes as the YAML configuration file
// through Load: it either returns an error or a configuration that passes
// Validate, and never panics. The seeds are the shipped examples and a few
// hostile shapes (wrong types, deep nesting, anchors, huge numbers).
func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob("../../configs/exporter*.yaml")
	for _, name := range files {
		if raw, err := os.ReadFile(name); err == nil {
			f.Add(raw)
		}
	}
	for _, s := range []string{
		"", "kafka:\n  brokers: [a:1]\n", "kafka: 3\n", "clusters: {}\n", "clusters:\n  - name: x\n",
		"clusters:\n  - {name: a, brokers: [b:1]}\n  - {name: a, brokers: [b:1]}\n",
		"poll:\n  interval: -1s\n", "poll:\n  interval: 99999999999h\n", "groups:\n  allow: ['(']\n",
		"a: &x [*x]\n", "kafka:\n  brokers: [a:1]\nexpiry:\n  expected-groups: [{group: g, starting-position: sideways}]\n",
		"kafka:\n  brokers: [a:1]\nstatus:\n  window: 1e99\n", "[[[[[[[[[[]]]]]]]]]]", "\t\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		name := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(name, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		fs := Flags("fuzz")
		if err := fs.Parse([]string{"--config", name}); err != nil {
			t.Fatal(err)
		}
		c, err := Load(fs, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned a config that fails Validate: %v", err)
		}
		_ = c.ClusterList()
	})
}

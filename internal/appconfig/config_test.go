package appconfig

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env []string) (*Config, error) {
	t.Helper()
	fs := Flags("test")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, env)
}

// mustLoad is load, failing t on an error.
func mustLoad(t *testing.T, args []string, env []string) *Config {
	t.Helper()
	c, err := load(t, args, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantLoadError fails t unless load fails with an error that contains
// want; what names the case in the message.
func wantLoadError(t *testing.T, what string, args, env []string, want string) {
	t.Helper()
	if _, err := load(t, args, env); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: err = %v, want one containing %q", what, err, want)
	}
}

// badArgs is a command line that must not load: args after a test's base
// arguments, and what the error must contain.
type badArgs struct {
	name string
	args []string
	want string
}

// wantLoadErrors runs each case as a subtest "bad <name>": base plus its
// args must fail to load with an error containing want.
func wantLoadErrors(t *testing.T, base []string, cases []badArgs) {
	t.Helper()
	for _, c := range cases {
		t.Run("bad "+c.name, func(t *testing.T) {
			wantLoadError(t, c.name, append(slices.Clone(base), c.args...), nil, c.want)
		})
	}
}

// configFile writes text to a YAML file in the test's directory and
// returns its path.
func configFile(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Every exporter example in configs/ must load, so the documentation never
// rots (configs/factor-worker.yaml: cmd/factor-worker TestShippedConfigMatchesHelp).
func TestExampleConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../configs/exporter*.yaml") // factor-worker*.yaml: cmd/factor-worker
	if len(files) == 0 {
		t.Fatal("no example configs found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := mustLoad(t, []string{"--config", f}, nil)
			if len(c.ClusterList()) == 0 {
				t.Error("no clusters")
			}
		})
	}
}

func TestExporterYAML(t *testing.T) {
	// As shipped: one cluster (the clusters: example needs files and is
	// commented out; cmd/offsetlag-exporter starts the exporter with it).
	shipped := mustLoad(t, []string{"--config", "../../configs/exporter.yaml"}, nil)
	if cl := shipped.ClusterList(); len(cl) != 1 || cl[0].Name != "default" {
		t.Fatalf("shipped clusters = %+v", cl)
	}
	// With the commented clusters: example uncommented, as a user would.
	raw, err := os.ReadFile("../../configs/exporter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(raw), "clusters: []\n#  - name: analytics", "clusters:\n  - name: analytics", 1)
	text = regexp.MustCompile(`(?m)^#    `).ReplaceAllString(text, "    ")
	if !strings.Contains(text, "  - name: analytics\n    brokers:") {
		t.Fatal("configs/exporter.yaml: the commented clusters: example changed shape; adapt this test")
	}
	f := configFile(t, text)
	c := mustLoad(t, []string{"--config", f}, nil)
	cl := c.ClusterList()
	if len(cl) != 2 || cl[0].Name != "default" || cl[1].Name != "analytics" {
		t.Fatalf("clusters = %+v", cl)
	}
	if cl[1].Isolation != "read_committed" || cl[1].Version != "4.1.0" || cl[1].DialTimeout != 10*time.Second {
		t.Errorf("analytics did not inherit kafka.* defaults or keep its own: %+v", cl[1])
	}
	if c.Exporter.Poll.Interval != 30*time.Second || c.Groups.Deny[0] != "console-consumer-.*" {
		t.Errorf("poll/groups = %+v %+v", c.Exporter.Poll, c.Groups)
	}
}

func TestPrecedence(t *testing.T) {
	f := configFile(t, "kafka:\n  brokers: [file:1]\npoll:\n  interval: 10s\n  timeout: 4s\n")
	c := mustLoad(t, []string{"--config", f, "--poll.interval", "20s"},
		[]string{"OFFSETLAG_POLL_INTERVAL=15s", "OFFSETLAG_POLL_STALE_AFTER=45s", "OFFSETLAG_KAFKA_BROKERS=env:1,env:2", "PATH=/bin"})
	if c.Exporter.Poll.Interval != 20*time.Second {
		t.Errorf("interval = %s, want the flag's 20s", c.Exporter.Poll.Interval)
	}
	if c.Exporter.Poll.Timeout != 4*time.Second {
		t.Errorf("timeout = %s, want the file's 4s", c.Exporter.Poll.Timeout)
	}
	if c.Exporter.Poll.StaleAfter != 45*time.Second {
		t.Errorf("stale-after = %s, want the environment's 45s", c.Exporter.Poll.StaleAfter)
	}
	if got := c.Kafka.Brokers; len(got) != 2 || got[0] != "env:1" {
		t.Errorf("brokers = %v, want the environment's", got)
	}
}

func TestUnknownKeyInFile(t *testing.T) {
	f := configFile(t, "kafka:\n  brokers: [a:1]\npol:\n  interval: 1s\n")
	if _, err := load(t, []string{"--config", f}, nil); err == nil {
		t.Error("unknown key accepted")
	}
}

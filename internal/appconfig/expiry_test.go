package appconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExpiryConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "c.yaml")
	yaml := `kafka:
  brokers: [a:1]
  offsets-retention: 48h
clusters:
  - name: other
    brokers: [b:1]
    offsets-retention: 1m
  - name: third
    brokers: [c:1]
state:
  dir: /var/lib/offsetlag
expiry:
  tolerance: 2m
  expected-groups:
    - group: esm-orders
      starting-position: latest
      topics: [orders]
    - cluster: other
      group: replayer
      starting-position: earliest
`
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--config", f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Dir != "/var/lib/offsetlag" || c.Expiry.Tolerance != 2*time.Minute {
		t.Errorf("state %+v expiry %+v", c.State, c.Expiry)
	}
	opts := c.ExpiryOptions(nil)
	if d, o, th := opts["default"], opts["other"], opts["third"]; d.Retention != 48*time.Hour || o.Retention != time.Minute || th.Retention != 48*time.Hour {
		t.Errorf("retention overrides: default %s, other %s, third (inherits) %s", d.Retention, o.Retention, th.Retention)
	}
	if got := opts["default"].Expected; len(got) != 1 || got[0].Group != "esm-orders" || got[0].StartingPosition != "latest" || got[0].Topics[0] != "orders" {
		t.Errorf("default expected %+v", got)
	}
	if got := opts["other"].Expected; len(got) != 2 || got[1].Group != "replayer" {
		t.Errorf("other expected %+v", got)
	}
	if opts["other"].Tolerance != 2*time.Minute {
		t.Errorf("tolerance %s", opts["other"].Tolerance)
	}

	// Flags and environment.
	c, err = load(t, []string{"--kafka.brokers", "a:1", "--state.dir", "/tmp/s", "--kafka.offsets-retention", "10m"},
		[]string{"OFFSETLAG_EXPIRY_TOLERANCE=1m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Dir != "/tmp/s" || c.ExpiryOptions(nil)["default"].Retention != 10*time.Minute || c.Expiry.Tolerance != time.Minute {
		t.Errorf("flags: %+v %+v", c.State, c.Expiry)
	}
}

func TestExpiryConfigBad(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad starting position", "expiry:\n  expected-groups:\n    - group: g\n      starting-position: TRIM_HORIZON\n", "starting-position"},
		{"unknown cluster", "expiry:\n  expected-groups:\n    - group: g\n      cluster: nope\n", "unknown cluster"},
		{"empty group", "expiry:\n  expected-groups:\n    - starting-position: latest\n", "group is empty"},
		{"twice", "expiry:\n  expected-groups:\n    - group: g\n    - group: g\n", "twice"},
		{"negative tolerance", "expiry:\n  tolerance: -1s\n", "tolerance"},
		{"negative retention", "kafka:\n  brokers: [a:1]\n  offsets-retention: -1m\n", "offsets-retention"},
		{"unknown key", "expiry:\n  expected-groups:\n    - group: g\n      position: latest\n", "position"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "c.yaml")
			yaml := "kafka:\n  brokers: [a:1]\n" + tc.yaml
			if strings.HasPrefix(tc.yaml, "kafka:") {
				yaml = tc.yaml
			}
			if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := load(t, []string{"--config", f}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

package appconfig

import (
	"strings"
	"testing"
	"time"
)

func TestExpiryConfig(t *testing.T) {
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
	f := configFile(t, yaml)
	c := mustLoad(t, []string{"--config", f}, nil)
	if c.State.Dir != "/var/lib/offsetlag" || c.Expiry.Tolerance != 2*time.Minute {
		t.Errorf("state %+v expiry %+v", c.State, c.Expiry)
	}
	retention := map[string]time.Duration{}
	for _, cl := range c.ClusterList() {
		retention[cl.Name] = cl.OffsetsRetention
	}
	if d, o, th := retention["default"], retention["other"], retention["third"]; d != 48*time.Hour || o != time.Minute || th != 48*time.Hour {
		t.Errorf("retention overrides: default %s, other %s, third (inherits) %s", d, o, th)
	}
	got := c.Expiry.ExpectedGroups
	if len(got) != 2 || got[0].Group != "esm-orders" || got[0].Cluster != "" || got[0].StartingPosition != "latest" || got[0].Topics[0] != "orders" {
		t.Errorf("expected groups %+v", got)
	}
	if len(got) == 2 && (got[1].Group != "replayer" || got[1].Cluster != "other" || got[1].StartingPosition != "earliest") {
		t.Errorf("expected group of cluster other %+v", got[1])
	}

	// Flags and environment.
	c = mustLoad(t, []string{"--kafka.brokers", "a:1", "--state.dir", "/tmp/s", "--kafka.offsets-retention", "10m"},
		[]string{"OFFSETLAG_EXPIRY_TOLERANCE=1m"})
	if c.State.Dir != "/tmp/s" || c.ClusterList()[0].OffsetsRetention != 10*time.Minute || c.Expiry.Tolerance != time.Minute {
		t.Errorf("flags: %+v %+v", c.State, c.Expiry)
	}
}

func TestExpiryConfigBad(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad starting position", "expiry:\n  expected-groups:\n    - group: g\n      starting-position: TRIM_HORIZON\n", `expiry.expected-groups[0] (g): starting-position "TRIM_HORIZON": want earliest, latest or timestamp`},
		{"unknown cluster", "expiry:\n  expected-groups:\n    - group: g\n      cluster: nope\n", "unknown cluster"},
		{"empty group", "expiry:\n  expected-groups:\n    - starting-position: latest\n", "group is empty"},
		{"twice", "expiry:\n  expected-groups:\n    - group: g\n    - group: g\n", "twice"},
		{"negative tolerance", "expiry:\n  tolerance: -1s\n", "tolerance"},
		{"negative retention", "kafka:\n  brokers: [a:1]\n  offsets-retention: -1m\n", "offsets-retention"},
		{"unknown key", "expiry:\n  expected-groups:\n    - group: g\n      position: latest\n", "position"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "kafka:\n  brokers: [a:1]\n" + tc.yaml
			if strings.HasPrefix(tc.yaml, "kafka:") {
				yaml = tc.yaml
			}
			f := configFile(t, yaml)
			wantLoadError(t, tc.name, []string{"--config", f}, nil, tc.want)
		})
	}
}

package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/resulttest"
)

// Expected groups are watched (and reported missing) by the process whose
// shard they hash to (--shard.index/--shard.count), like the groups it
// polls; the others' replicas watch the rest.
func TestExpectedGroupsSharded(t *testing.T) {
	c := cluster(t)
	f := filepath.Join(t.TempDir(), "c.yaml")
	groups := []string{"a", "b", "c", "d", "e", "f"}
	yaml := "expiry:\n  expected-groups:\n"
	for _, g := range groups {
		yaml += "    - group: " + g + "\n      topics: [t]\n"
	}
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for index := range 2 {
		cfg := config(t, "--config", f, "--kafka.brokers", strings.Join(c.ListenAddrs(), ","),
			"--web.listen-address", "127.0.0.1:0", "--shard.index", string(rune('0'+index)), "--shard.count", "2")
		a, err := New(context.Background(), cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cr, _ := resulttest.Cluster(a.exp.PollAll(context.Background()), cfg.ClusterList()[0].Name)
		a.release()
		var watched []string
		for _, g := range cr.Expiry {
			if g.Expected {
				watched = append(watched, g.Group)
			}
		}
		var want []string
		for _, g := range groups {
			if cfg.Exporter.InShard(g) {
				want = append(want, g)
			}
		}
		if !slices.Equal(watched, want) || len(want) == 0 || len(want) == len(groups) {
			t.Errorf("shard %d of 2 watches %v, want %v (a strict subset)", index, watched, want)
		}
	}
}

package resulttest

import (
	"testing"

	"github.com/offsetlag/offsetlag/exporter/result"
)

func TestGroupExpiry(t *testing.T) {
	r := &result.Result{Clusters: []result.ClusterResult{
		{Name: "a", Expiry: []result.GroupExpiry{{Group: "g", Missing: true}}},
		{Name: "b", Expiry: []result.GroupExpiry{{Group: "g"}, {Group: "h"}}},
	}}
	if g := GroupExpiry(r, "a", "g"); g == nil || !g.Missing {
		t.Errorf("a/g = %+v, want a's entry", g)
	}
	if g := GroupExpiry(r, "b", "h"); g == nil || g.Group != "h" {
		t.Errorf("b/h = %+v", g)
	}
	// The entry itself, not a copy: tests may inspect it after r changes.
	if g := GroupExpiry(r, "b", "g"); g != &r.Clusters[1].Expiry[0] {
		t.Error("not the entry in r")
	}
	for _, c := range [][2]string{{"a", "h"}, {"c", "g"}} {
		if g := GroupExpiry(r, c[0], c[1]); g != nil {
			t.Errorf("%s/%s = %+v, want nil", c[0], c[1], g)
		}
	}
}

func TestClusterAndGroup(t *testing.T) {
	r := &result.Result{Clusters: []result.ClusterResult{
		{Name: "a", Groups: []result.GroupResult{{Name: "g", SumLag: 1}, {Name: "h", SumLag: 2}}},
		{Name: "b"},
	}}
	c, ok := Cluster(r, "a")
	if !ok || c != &r.Clusters[0] {
		t.Fatalf("cluster a = %p %v, want the entry in r", c, ok)
	}
	if g, ok := Group(c, "h"); !ok || g != &r.Clusters[0].Groups[1] {
		t.Errorf("a/h = %+v %v, want the entry in r", g, ok)
	}
	if _, ok := Cluster(r, "c"); ok {
		t.Error("unknown cluster found")
	}
	if b, _ := Cluster(r, "b"); b == nil {
		t.Error("cluster b not found")
	} else if _, ok := Group(b, "g"); ok {
		t.Error("b/g found: b has no groups")
	}
}

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

package exporter

import "testing"

func TestFilter(t *testing.T) {
	f, err := NewFilter("group", []string{"orders-.*", "billing"}, []string{".*-test"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"orders-a": true, "billing": true, "billing2": false, "orders-test": false, "other": false,
	} {
		if got := f(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	if _, err := NewFilter("group", []string{"("}, nil); err == nil {
		t.Error("bad regex accepted")
	}
	all, err := NewFilter("group", nil, nil)
	if err != nil || !all("x") {
		t.Error("an empty filter rejects")
	}
}

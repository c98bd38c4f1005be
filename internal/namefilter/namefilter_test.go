package namefilter

import "testing"

func TestFilter(t *testing.T) {
	f, err := Config{Allow: []string{"orders-.*", "billing"}, Deny: []string{".*-test"}}.Compile("group")
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
	if _, err := (Config{Allow: []string{"("}}).Compile("group"); err == nil {
		t.Error("bad regex accepted")
	}
	all, err := Config{}.Compile("group")
	if err != nil || !all("x") {
		t.Error("an empty filter rejects")
	}
}

package appconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every testdata/config-bad-*.yaml names, on its first line
// ("# want: KEY"), the key its error must name. The error is one line.
func TestBadConfigFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/config-bad-*.yaml")
	if len(files) < 10 {
		t.Fatalf("found %d bad configs, want the whole set", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "config-bad-"), ".yaml"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(raw), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line %q: want \"# want: KEY\"", first)
			}
			_, err = load(t, []string{"--config", f}, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming %s", err, want)
			}
			t.Log(err)
		})
	}
}

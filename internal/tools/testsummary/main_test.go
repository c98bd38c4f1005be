package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A real `go test -json` run of a throwaway module with one passing, one
// failing, one skipping test (and a skipping subtest): the summary names
// the skips with their reasons, prints the failure's output, counts all
// four, and reports failure.
func TestSummaryOfARealRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/sum\n\ngo 1.21\n")
	write("x_test.go", `package sum

import "testing"

func TestOK(t *testing.T) {}
func TestBroken(t *testing.T) { t.Log("detail of the failure"); t.Fatal("it broke") }
func TestNeedsKafka(t *testing.T) { t.Skip("no Kafka jars (run make deps)") }
func TestParent(t *testing.T) {
	t.Run("child", func(t *testing.T) { t.Skipf("child skipped: %d", 42) })
}
`)
	cmd := exec.Command("go", "test", "-count=1", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	raw, _ := cmd.Output() // exits 1: a test fails
	var out strings.Builder
	s, err := run(strings.NewReader(string(raw)), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if s.passed != 2 || s.failed != 1 || s.skipped != 2 || s.failedPkgs != 1 {
		t.Errorf("counts %+v\n%s", s, got)
	}
	for _, want := range []string{
		"it broke", "detail of the failure", "FAIL\texample.com/sum",
		"Skipped tests (2), and why:",
		"TestNeedsKafka: no Kafka jars (run make deps) (x_test.go:7)",
		"TestParent/child: child skipped: 42",
		"2 passed, 1 failed, 2 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN") {
		t.Errorf("verbose lines leaked:\n%s", got)
	}
}
